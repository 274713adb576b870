"""The GPU path, run: a few optimizer steps each of PRM training, SFT and PAD on one CUDA device, through the
studio's own job code, with step time, tokens/s, model FLOPs utilisation (MFU), peak memory, and what
precision and activation checkpointing the trainers actually ran with.

Everything is made here, nothing is downloaded: a randomly initialised Llama of a realistic size (about 0.45B
parameters from a config; ``--hidden-size`` and friends change it) with a byte-level BPE tokenizer trained
in-process on a synthetic lexicon (32k tokens, a ChatML template), a PRM export and an R-SFT export in the
studio's export formats, and PAD's problems from the built-in arithmetic generator. Each kind is one job
started with ``agentark.jobs.start`` and run in this process (the PRM job's published model is PAD's PRM);
the figures are read back from the job's own metrics shards and progress file, so they are what the studio
records. ``--dry-run`` runs the same code on the CPU with the tests' tiny random Llama in seconds (figures
are then only sanity checks; ``--smoke`` is the same); tests/test_gpu_check.py runs it.

Step time and tokens/s are medians over the steps after the first (which includes warm-up). MFU is model
FLOPs (agentark/train/flops.py: 6 per matmul weight per token plus attention; recomputation under
checkpointing not counted) per second over the device's dense bf16 peak. For PAD the step is split into
generation (sampling completions), rewards (PRM pass, grading) and training; its training MFU counts the
policy's forward and backward and the reference model's forward over the step's tokens.

    python bench/gpu_check.py                 # on a CUDA machine (docs/gpu.md: carrying wheels, one run)
    python bench/gpu_check.py --dry-run       # on the CPU, tiny model, seconds
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import gc
import itertools
import json
import math
import os
import platform
import random
import statistics
import string
import tempfile
import time
import traceback

KINDS = ("prm", "sft", "pad")
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dry-run", "--smoke", action="store_true", help="run on the CPU with the tiny test model (seconds)")
    p.add_argument("--steps", type=int, default=None, help="optimizer steps per kind (default 8; dry run 3)")
    p.add_argument("--batch-size", type=int, default=None, help="PRM and SFT sequences per step (default 8)")
    p.add_argument("--seq-len", type=int, default=None, help="PRM and SFT tokens per sequence (default 1024)")
    p.add_argument("--pad-batch-size", type=int, default=None, help="PAD completions per step (default 16)")
    p.add_argument("--num-generations", type=int, default=4, help="PAD completions per problem")
    p.add_argument("--completion-length", type=int, default=None, help="PAD tokens per completion (default 256)")
    p.add_argument("--hidden-size", type=int, default=1024)
    p.add_argument("--layers", type=int, default=24)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--kv-heads", type=int, default=8)
    p.add_argument("--intermediate-size", type=int, default=4096)
    p.add_argument("--vocab-size", type=int, default=32000)
    p.add_argument("--peak-tflops", type=float, default=None,
                   help="dense bf16 peak of the device in TFLOP/s, for a device the table does not know")
    p.add_argument("--workdir", type=Path, default=None, help="keep the jobs here (default: a temporary folder)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = p.parse_args(argv)
    dry = args.dry_run
    for name, full, tiny in (("steps", 8, 3), ("batch_size", 8, 2), ("seq_len", 1024, 64), ("pad_batch_size", 16, 4),
                             ("completion_length", 256, 12)):
        if getattr(args, name) is None:
            setattr(args, name, tiny if dry else full)
    if args.steps < 2:
        p.error("--steps must be at least 2: the first step is warm-up and is not measured")
    if args.pad_batch_size % args.num_generations:
        p.error("--pad-batch-size must be a multiple of --num-generations")
    return args


# -- the model: random weights from a config, a tokenizer trained here ------------------------------------
def lexicon(size: int, seed: int) -> list[str]:
    """Made-up lowercase words, Zipf-weighted when sampled: text a BPE learns realistic merges from."""
    rng = random.Random(seed)
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9))))
    return sorted(words)


_ZIPF: dict[int, list[float]] = {}


def sample_words(words: list[str], n: int, rng: random.Random) -> str:
    """``n`` words drawn with Zipf weights (the cumulative weights are computed once per lexicon size)."""
    if len(words) not in _ZIPF:
        _ZIPF[len(words)] = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))
    return " ".join(rng.choices(words, cum_weights=_ZIPF[len(words)], k=n))


def bpe_tokenizer(vocab_size: int, words: list[str]):
    """A byte-level BPE with ``vocab_size`` tokens trained on the lexicon, a ChatML template and its tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(1)
    # BPE learns from word counts: every word a few times, the frequent ones more, is enough to reach the vocabulary.
    corpus = [" ".join(words[i:i + 50]) for i in range(0, len(words), 50)] * 2
    corpus += [sample_words(words, 200, rng) + f" {rng.randint(0, 10**6)}.\n" for _ in range(200)]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(folder: Path, args: argparse.Namespace, words: list[str]) -> Path:
    """Save a random Llama (or, on a dry run, the tests' tiny one) with its tokenizer under ``folder``."""
    if args.dry_run:
        from tests.tinylm import build_tiny_llama

        return build_tiny_llama(folder)
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = bpe_tokenizer(args.vocab_size, words)
    config = LlamaConfig(vocab_size=args.vocab_size, hidden_size=args.hidden_size, num_hidden_layers=args.layers,
                         num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                         intermediate_size=args.intermediate_size, max_position_embeddings=4096,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=None, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# -- the data: exports in the studio's formats ------------------------------------------------------------
def write_exports(folder: Path, base: Path, args: argparse.Namespace, words: list[str]) -> dict:
    """A PRM export and an R-SFT export whose sequences fill ``seq_len`` tokens; returns their paths and the
    token lengths the trainers will see (for the attention FLOPs)."""
    import pandas as pd
    from transformers import AutoTokenizer

    from agentark.debate import solve_messages
    from agentark.training_sets.message_filters import ROW_COLUMNS
    from agentark.training_sets.prm_set import PRM_COLUMNS
    from agentark.train.prm_data import encode, separator_ids

    tokenizer = AutoTokenizer.from_pretrained(base)
    rng = random.Random(0)
    # Steps of about an eighth of the sequence, a question of about a sixteenth, whatever the tokenizer's vocabulary.
    per_word = len(tokenizer(sample_words(words, 200, rng), add_special_tokens=False)["input_ids"]) / 200
    step_words = max(2, round(args.seq_len / 8 / per_word))
    n_rows = args.batch_size * args.steps
    sep = separator_ids(tokenizer, "\n")
    prm_rows, prm_lengths, sft_rows, sft_lengths = [], [], [], []
    for i in range(n_rows):
        question = sample_words(words, max(2, step_words // 2), rng) + "?"
        steps, length = [], len(tokenizer(question, add_special_tokens=False)["input_ids"]) + len(sep)
        while length < args.seq_len:  # steps past max_length are dropped by the trainer
            steps.append(sample_words(words, rng.randint(step_words // 2, step_words * 3 // 2), rng) + ".")
            length += len(tokenizer(steps[-1], add_special_tokens=False)["input_ids"]) + len(sep)
        labels = [rng.random() > 0.3 for _ in steps]
        prm_rows.append({"prompt": question, "completions": steps, "labels": labels,
                         "label_sources": ["montecarlo"] * len(steps), "run_id": "gpu-check",
                         "problem_id": f"p{i}", "message_id": f"gpu-check:p{i}:0"})
        prm_lengths.append(len(encode(tokenizer, question, steps, sep, args.seq_len, keep_all_steps=False)[0]))
        messages = solve_messages(question) + [{"role": "assistant", "content": "\n\n".join(steps)}]
        sft_rows.append({"messages": messages, "run_id": "gpu-check", "problem_id": f"p{i}",
                         "message_id": f"gpu-check:p{i}:0"})
        ids = tokenizer.apply_chat_template(messages, tokenize=True)
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids
        sft_lengths.append(min(len(ids), args.seq_len))
    paths = {"prm": folder / "prm-export.parquet", "sft": folder / "rsft-export.parquet"}
    pd.DataFrame(prm_rows, columns=PRM_COLUMNS).to_parquet(paths["prm"])
    pd.DataFrame(sft_rows, columns=ROW_COLUMNS).to_parquet(paths["sft"])
    return {"paths": paths, "lengths": {"prm": prm_lengths, "sft": sft_lengths}}


# -- the jobs -----------------------------------------------------------------------------------------------
def configs(args: argparse.Namespace, base: Path, exports: dict, prm_model: str | None) -> dict:
    """Each kind's job config: the studio's defaults except sizes, steps and no intermediate checkpoints. On the
    CPU checkpointing is asked for explicitly (its default there is off); on a GPU the defaults must turn it on."""
    from agentark.train.pad import PADJobConfig
    from agentark.train.prm import PRMConfig
    from agentark.train.sft import SFTJobConfig

    common = dict(base_model=str(base), max_steps=args.steps, save_steps=10**6,
                  device="cpu" if args.dry_run else "cuda", precision="auto",
                  gradient_checkpointing="on" if args.dry_run else "auto")
    problems = args.pad_batch_size // args.num_generations * args.steps
    return {
        "prm": lambda: PRMConfig(export=str(exports["paths"]["prm"]), per_device_batch_size=args.batch_size,
                                 max_length=args.seq_len, **common),
        "sft": lambda: SFTJobConfig(export=str(exports["paths"]["sft"]), per_device_batch_size=args.batch_size,
                                    max_length=args.seq_len, **common),
        "pad": lambda: PADJobConfig(prm=prm_model, dataset="builtin:arithmetic", split="train", limit=problems,
                                    per_device_batch_size=args.pad_batch_size, num_generations=args.num_generations,
                                    max_completion_length=args.completion_length, **common),
    }


def read_metrics(job_id: str) -> dict[int, dict[str, float]]:
    """The job's metrics shards as {step: {name: value}}: what the studio's metrics table gets."""
    import pyarrow.parquet as pq

    from agentark.jobs import find

    _, folder = find(job_id)
    steps: dict[int, dict[str, float]] = {}
    for name in folder.finished_shards("metrics"):
        for row in pq.read_table(folder.shard_path(name, "metrics")).to_pylist():
            steps.setdefault(int(row["step"]), {})[row["name"]] = float(row["value"])
    return steps


def median_of(steps: dict[int, dict[str, float]], name: str) -> float:
    """Median of a metric over the measured steps (all but the first); NaN when none reported it."""
    values = [m[name] for step, m in sorted(steps.items()) if step >= 2 and name in m and math.isfinite(m[name])]
    return statistics.median(values) if values else math.nan


def token_deltas(steps: dict[int, dict[str, float]]) -> float:
    """Median tokens per step from the cumulative ``num_tokens`` the TRL trainers log."""
    seen = sorted((s, m["num_tokens"]) for s, m in steps.items() if s >= 1 and "num_tokens" in m)
    deltas = [b[1] - a[1] for a, b in zip(seen, seen[1:]) if b[0] == a[0] + 1]
    return statistics.median(deltas) if deltas else math.nan


def run_kind(kind: str, cfg, device: str) -> tuple[str, dict, dict[int, dict[str, float]], float]:
    """Start the job in this process; return its id, final progress, metrics and the memory held before it."""
    from agentark import jobs

    held = 0.0
    if device == "cuda":
        import torch

        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        held = torch.cuda.memory_allocated() / 2**20
    started = jobs.start(kind, cfg, background=False)
    return started.job_id, started.progress or {}, read_metrics(started.job_id), held


# -- the figures -------------------------------------------------------------------------------------------
def model_shape(base: Path) -> dict:
    """Matmul weights of the backbone and of the language-model head, layers and attention width."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from agentark.train.flops import matmul_parameters

    config = AutoConfig.from_pretrained(base)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return {"backbone": matmul_parameters(model.model), "lm_head": matmul_parameters(model.lm_head),
            "parameters": sum(p.numel() for p in model.parameters()), "layers": config.num_hidden_layers,
            "attention_width": config.num_attention_heads * head_dim, "hidden_size": config.hidden_size}


def figures(kind: str, progress: dict, steps: dict, shape: dict, lengths: dict, args, peak: float | None,
            beta: float = 0.0) -> dict:
    """Step time, tokens/s, model FLOP/s, MFU, peak memory and the applied settings of one finished job."""
    from agentark.train.flops import effective_seq_len, mfu, training_flops_per_token

    step_key = "step_time" if kind == "prm" else "step_time_s"  # the PRM meter's name for it
    out = {"steps": max(steps) if steps else 0, "step_time_s": median_of(steps, step_key),
           "tokens_per_s": median_of(steps, "tokens_per_s"), "peak_memory_mb": float(progress.get("peak_memory_mb")
                                                                                      or math.nan),
           "precision": progress.get("precision"), "applied": progress.get("applied") or {},
           "loss": median_of(steps, "loss")}
    layers, width = shape["layers"], shape["attention_width"]
    if kind in ("prm", "sft"):
        # The PRM's head is a two-class linear layer on the backbone; SFT multiplies through the LM head.
        head = 2 * shape["hidden_size"] if kind == "prm" else shape["lm_head"]
        seq = effective_seq_len(lengths[kind])
        flops_per_token = training_flops_per_token(shape["backbone"] + head, layers, width, seq)
        out.update(seq_len=seq, flops_per_token=flops_per_token)
    else:
        generation, rewards = median_of(steps, "generation_time_s"), median_of(steps, "reward_time_s")
        tokens = token_deltas(steps)
        completion = median_of(steps, "completions/mean_length")
        completion_tokens = completion * args.pad_batch_size
        seq = tokens / args.pad_batch_size
        # Policy forward + backward (6) and, with a KL term, the reference model's forward (2); the LM head runs
        # on completion tokens only (TRL keeps only their logits), the backbone and attention on every token.
        factor = 8.0 if beta > 0 else 6.0
        flops = (factor * shape["backbone"] + factor * 2 * layers * width * seq) * tokens \
            + factor * shape["lm_head"] * completion_tokens
        training = out["step_time_s"] - generation - rewards
        out.update(generation_time_s=generation, reward_time_s=rewards, training_time_s=training,
                   tokens_per_step=tokens, completion_mean_length=completion, seq_len=seq,
                   flops_per_token=flops / tokens if tokens else math.nan,
                   training_model_tflops=flops / training / 1e12 if training > 0 else math.nan,
                   training_mfu=flops / training / peak if peak and training > 0 else math.nan)
    out["model_tflops"] = out["flops_per_token"] * out["tokens_per_s"] / 1e12
    out["mfu"] = mfu(out["flops_per_token"], out["tokens_per_s"], peak)
    return out


def finite(value):
    """``value`` with every NaN or infinity, however deeply nested, replaced by None."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def fmt(value: float, spec: str) -> str:
    return "n/a" if value is None or not math.isfinite(value) else format(value, spec)


def report(kind: str, f: dict, peak: float | None) -> list[str]:
    applied = f["applied"]
    bf16 = applied.get("mixed_precision") == "bf16"
    checkpointing = bool(applied.get("gradient_checkpointing"))
    mfu_text = fmt(f["mfu"], ".1%") if peak else "n/a (no bf16 peak known for this device; --peak-tflops)"
    lines = [f"[{kind}] steps {f['steps']}, step time {fmt(f['step_time_s'], '.3f')} s, "
             f"tokens/s {fmt(f['tokens_per_s'], ',.0f')}, model TFLOP/s {fmt(f['model_tflops'], '.4g')}, "
             f"MFU {mfu_text}, peak memory {fmt(f['peak_memory_mb'], ',.0f')} MB",
             f"[{kind}] bf16 {'on' if bf16 else 'off'} (autocast {applied.get('mixed_precision')}, trainable weights "
             f"{applied.get('trainable_dtype')}), gradient checkpointing {'on' if checkpointing else 'off'}, "
             f"seq len {fmt(f['seq_len'], '.0f')}, loss {fmt(f['loss'], '.4f')}"]
    if kind == "pad":
        lines.append(f"[pad] step split: generation {fmt(f['generation_time_s'], '.3f')} s, rewards "
                     f"{fmt(f['reward_time_s'], '.3f')} s, training {fmt(f['training_time_s'], '.3f')} s "
                     f"({fmt(f['tokens_per_step'], ',.0f')} tokens per step, completions "
                     f"{fmt(f['completion_mean_length'], '.0f')} tokens); training model TFLOP/s "
                     f"{fmt(f['training_model_tflops'], '.4g')}, training MFU "
                     f"{fmt(f['training_mfu'], '.1%') if peak else 'n/a'}")
    return lines


def device_info(args: argparse.Namespace) -> dict:
    import torch

    from agentark.train.flops import peak_bf16_flops

    if args.dry_run:
        name = f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
        peak = None
    else:
        name = torch.cuda.get_device_name(0)
        peak = peak_bf16_flops(name)
    if args.peak_tflops:
        peak = args.peak_tflops * 1e12
    return {"device": name, "peak_bf16_flops": peak, "torch": torch.__version__, "cuda": torch.version.cuda,
            "bf16_supported": bool(not args.dry_run and torch.cuda.is_bf16_supported())}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    if not args.dry_run and not torch.cuda.is_available():
        print("No CUDA device is visible (torch.cuda.is_available() is False): run on a GPU machine, or pass "
              "--dry-run to check the code path on the CPU.")
        return 2
    if args.dry_run:
        torch.set_num_threads(min(4, os.cpu_count() or 1))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["AGENTARK_HOME"] = str(work / "home")  # jobs, published models: nothing outside the work folder
    info = device_info(args)
    print(f"device: {info['device']}; torch {info['torch']}, CUDA {info['cuda']}; dense bf16 peak "
          f"{fmt((info['peak_bf16_flops'] or math.nan) / 1e12, '.0f')} TFLOP/s"
          + ("" if info["peak_bf16_flops"] else " (unknown device: MFU is not computed; --peak-tflops sets it)"))
    started = time.perf_counter()
    words = lexicon(2000 if args.dry_run else 40000, seed=0)
    base = build_model(work / "base-model", args, words)
    shape = model_shape(base)
    exports = write_exports(work, base, args, words)
    print(f"model: random Llama, {shape['parameters']:,} parameters ({shape['backbone']:,} matmul weights in the "
          f"backbone, {shape['lm_head']:,} in the LM head), {shape['layers']} layers; "
          f"built with its data in {time.perf_counter() - started:.1f} s")
    print(f"sizes: PRM/SFT {args.batch_size} x {args.seq_len} tokens per step; PAD {args.pad_batch_size} completions "
          f"({args.num_generations} per problem) of up to {args.completion_length} tokens; {args.steps} steps each, "
          "the first not measured")
    device = "cpu" if args.dry_run else "cuda"
    results: dict = {"info": info, "args": {k: str(v) for k, v in vars(args).items()}, "kinds": {}}
    failed = []
    prm_model = None
    for kind in KINDS:
        if kind == "pad" and prm_model is None:
            print("[pad] skipped: it needs the PRM the prm job would have trained")
            failed.append(kind)
            continue
        try:
            cfg = configs(args, base, exports, prm_model)[kind]()
            job_id, progress, steps, held = run_kind(kind, cfg, device)
        except Exception:
            print(f"[{kind}] FAILED:")
            traceback.print_exc(file=sys.stdout)
            failed.append(kind)
            continue
        if kind == "prm":
            prm_model = progress.get("model_id")
        f = figures(kind, progress, steps, shape, exports["lengths"], args, info["peak_bf16_flops"],
                    beta=getattr(cfg, "beta", 0.0))
        f.update(job_id=job_id, memory_held_before_mb=held)
        results["kinds"][kind] = f
        for line in report(kind, f, info["peak_bf16_flops"]):
            print(line, flush=True)
    print(f"total {time.perf_counter() - started:.1f} s; jobs under {work / 'home'}")
    if args.json:  # strict JSON: a figure that could not be measured is null, not NaN
        args.json.write_text(json.dumps(finite(results), indent=2, default=str, allow_nan=False))
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
