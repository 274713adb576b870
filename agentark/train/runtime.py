"""What every trainer shares: the base model and its tokenizer, the device and precision, the callback that
turns the Trainer's logs into metrics and a stop request into a saved checkpoint, and the final model folder.

Design decision: a stop request (cancel) is honoured after the current micro-batch (a gradient-accumulation
substep or an optimizer step) by asking the Trainer to save a checkpoint of its last whole optimizer step and
stop, so cancel never loses more than the step in flight and resume goes on from exactly that checkpoint with
the optimizer and scheduler state.
"""
from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from agentark.errors import ConfigError, ModelNotFoundError

OnMetrics = Callable[[int, dict], None]
ShouldStop = Callable[[], bool]
CHECKPOINTS = "checkpoints"
FINAL = "final"
# The optimizer steps the Trainer plans (epochs turned into steps), written beside the checkpoints when training
# begins: the job's progress total when the config gives epochs, not max_steps.
PLAN_FILE = "train_plan.json"


@dataclass
class Hardware:
    """Where and how a job trains; recorded with the job and the model."""

    device: str
    precision: str
    world_size: int
    gradient_checkpointing: bool

    def to_dict(self) -> dict:
        return asdict(self)


def detect_hardware(device: str = "auto", precision: str = "auto", gradient_checkpointing: str = "auto") -> Hardware:
    """Resolve ``auto`` settings against what is visible; a GPU-only choice without a GPU is an error."""
    import torch

    cuda = torch.cuda.is_available()
    if device == "auto":
        device = "cuda" if cuda else "cpu"
    if device == "cuda" and not cuda:
        raise ConfigError("[[device]] 'cuda' was chosen but no GPU is visible; set [[device]] to auto or cpu.")
    if precision == "auto":
        precision = "bf16" if device == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if precision in ("bf16", "fp16") and device != "cuda":
        raise ConfigError(f"[[precision]] '{precision}' needs a GPU; on a CPU set [[precision]] to auto (fp32).")
    if gradient_checkpointing == "auto":
        checkpointing = device == "cuda"
    else:
        checkpointing = gradient_checkpointing == "on"
    return Hardware(device, precision, int(os.environ.get("WORLD_SIZE", "1")), checkpointing)


def resolve_base(model: str) -> str:
    """A folder (or hub id in the local cache) for a base model name: the embedded model, a studio model id,
    a checkpoint folder or a hub id."""
    from agentark.checkpoints import locate_model

    return locate_model(model)[0]


def load_tokenizer(model: str, need_chat_template: bool = True):
    """The base model's tokenizer, with a pad token; refuse a folder without one or without a chat template."""
    from transformers import AutoTokenizer

    target = resolve_base(model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(target)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"Cannot load a tokenizer for base model '{model}' ({target}): {exc}. Point [[base_model]] at a folder "
            "saved with save_pretrained (it needs tokenizer.json or tokenizer_config.json) or a cached hub id."
        ) from exc
    if need_chat_template and not getattr(tokenizer, "chat_template", None):
        raise ConfigError(
            f"Base model '{model}' has no chat template, and the student is trained and evaluated on chats. Use an "
            "instruct/chat model, or add a 'chat_template' to its tokenizer_config.json (for example the template "
            "of the model family it was fine-tuned from)."
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def training_arguments(cfg, hw: Hardware, out_dir: Path) -> dict:
    """TrainingArguments keywords shared by the SFT and GRPO configs (both subclass TrainingArguments)."""
    return dict(
        output_dir=str(out_dir / CHECKPOINTS),
        per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps is not None else -1,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_steps,
        logging_steps=1,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=2,
        seed=cfg.seed,
        report_to=[],
        disable_tqdm=True,
        use_cpu=hw.device == "cpu",
        bf16=hw.precision == "bf16",
        fp16=hw.precision == "fp16",
        activation_checkpointing=hw.gradient_checkpointing,
        dataloader_num_workers=0,
    )


def weights_dtype(precision: str, lora: bool):
    """The dtype the base model's weights are loaded in for training at ``precision``.

    Weights that train stay float32 (the master copy) and bf16/fp16 is autocast compute: AdamW updates of
    lr 1e-6 to 1e-5 are far below bf16's resolution near a typical weight (0.02 has a spacing of about 1e-4),
    so bf16 weights would round most updates away and the model would silently not learn, and fp16 weights
    make the fp16 gradient scaler refuse to unscale. Under LoRA the base weights are frozen and can stay in
    half precision (peft keeps the adapters in float32).
    """
    import torch

    half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    return half if half is not None and lora else torch.float32


def causal_lm(cfg, hw: Hardware, padding_side: str | None = None):
    """The base model of an SFT or GRPO job (weights as :func:`weights_dtype` says), and its tokenizer."""
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(cfg.base_model)
    if padding_side:
        tokenizer.padding_side = padding_side
    dtype = weights_dtype(hw.precision, bool(cfg.lora))
    return AutoModelForCausalLM.from_pretrained(resolve_base(cfg.base_model), dtype=dtype), tokenizer


def applied_settings(trainer) -> dict:
    """What the trainer actually ran with, read off the trainer and its model rather than the config: the
    autocast precision, the dtype of the weights that train, and whether activation checkpointing was on."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    trainable = next((p for p in model.parameters() if p.requires_grad), None)
    return {"mixed_precision": str(trainer.accelerator.mixed_precision),
            "trainable_dtype": str(trainable.dtype).removeprefix("torch.") if trainable is not None else None,
            "gradient_checkpointing": bool(getattr(base, "is_activation_checkpointing", False))}


def trl_trainer(trainer_class, cfg, model, tokenizer, args, rows: list[dict], callback, **kwargs):
    """A TRL trainer over ``rows`` with the job's callback, LoRA when the config asks for it, and no printer:
    metrics go to the job's shards, not as dicts to the log."""
    from datasets import Dataset
    from datasets.utils.logging import disable_progress_bar
    from transformers import PrinterCallback

    # No per-map progress bars: a job's log should show its steps, not preprocessing.
    disable_progress_bar()
    trainer = trainer_class(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                            peft_config=lora_config(cfg), callbacks=[callback], **kwargs)
    trainer.remove_callback(PrinterCallback)
    return trainer


def lora_config(cfg):
    """A peft LoRA config on every linear layer, or None when the job trains all weights."""
    if not cfg.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules="all-linear", task_type="CAUSAL_LM")


def last_checkpoint(out_dir: Path) -> Path | None:
    """The newest complete ``checkpoint-N`` folder of a job, or None."""
    folder = Path(out_dir) / CHECKPOINTS
    found = [(int(m.group(1)), p) for p in folder.glob("checkpoint-*")
             if (m := re.fullmatch(r"checkpoint-(\d+)", p.name)) and (p / "trainer_state.json").exists()]
    return max(found)[1] if found else None


def planned_steps(out_dir: Path) -> int | None:
    """The optimizer steps the Trainer planned for this job (see ``PLAN_FILE``), or None before it began."""
    try:
        return int(json.loads((Path(out_dir) / PLAN_FILE).read_text())["max_steps"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def peak_memory_mb(device: str) -> float:
    """Peak memory of this process: the GPU's allocator peak on CUDA, the resident set size on the CPU."""
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync_device() -> None:
    """Wait for the GPU's queued work (no-op without CUDA), so a timer read after it covers that work: kernels
    run asynchronously, and a step timed without waiting would end before its backward and optimizer do."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


Measure = Callable[[Any, Any, dict], dict | None]


def _job_callback_class():
    from transformers import TrainerCallback

    class JobCallback(TrainerCallback):
        """What every trainer reports and obeys: each log becomes metrics (what ``measure`` makes of it), a stop
        request stops training after the current step with a saved checkpoint, and ``on_checkpoint`` sees each
        saved checkpoint folder (on the main process)."""

        def __init__(self, on_metrics: OnMetrics | None, should_stop: ShouldStop | None,
                     measure: Measure | None = None, on_checkpoint: Callable[[Path], None] | None = None) -> None:
            self.on_metrics = on_metrics
            self.should_stop = should_stop
            self.measure = measure or type(self).log_metrics
            self.on_checkpoint = on_checkpoint
            self.stopped = False
            self.last: dict = {}
            self.step_times: list[float] = []  # seconds of each step since the last report
            self._step_started = time.perf_counter()
            self._tokens: tuple[float, float] | None = None

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero and state.max_steps:
                plan = Path(args.output_dir).parent / PLAN_FILE
                plan.parent.mkdir(parents=True, exist_ok=True)
                plan.write_text(json.dumps({"max_steps": int(state.max_steps)}))

        def on_step_begin(self, args, state, control, **kwargs):
            self._step_started = time.perf_counter()

        def on_substep_end(self, args, state, control, **kwargs):
            # Within an optimizer step of several accumulated micro-batches: stop after this one, keeping the
            # last whole step's checkpoint (none before the first step ends: nothing was finished).
            if self.should_stop is not None and self.should_stop():
                self.stopped = True
                control.should_save = state.global_step > 0
                control.should_training_stop = True

        def on_step_end(self, args, state, control, **kwargs):
            sync_device()
            self.step_times.append(time.perf_counter() - self._step_started)
            if self.should_stop is not None and self.should_stop():
                self.stopped = True
                control.should_save = True
                control.should_training_stop = True

        def on_log(self, args, state, control, logs=None, **kwargs):
            metrics = self.measure(self, state, logs or {})
            if metrics is None:  # not a training step's log (the closing summary, say)
                return
            self.last = metrics
            self.step_times = []
            if self.on_metrics is not None and metrics:
                self.on_metrics(int(state.global_step), metrics)

        def on_save(self, args, state, control, **kwargs):
            if self.on_checkpoint is not None and state.is_world_process_zero:
                self.on_checkpoint(Path(args.output_dir) / f"checkpoint-{state.global_step}")

        def log_metrics(self, state, logs: dict) -> dict | None:
            """Every finite number the Trainer logged, the last step's time and the tokens per second since
            the previous log."""
            metrics = {k: float(v) for k, v in logs.items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))}
            if self.step_times:
                metrics["step_time_s"] = self.step_times[-1]
            tokens = metrics.get("num_tokens", float(getattr(state, "num_input_tokens_seen", 0) or 0))
            now = time.perf_counter()
            if self._tokens is not None and tokens > self._tokens[0] and now > self._tokens[1]:
                metrics["tokens_per_s"] = (tokens - self._tokens[0]) / (now - self._tokens[1])
            self._tokens = (tokens, now)
            return None if "train_runtime" in metrics else metrics

    return JobCallback


def job_callback(on_metrics: OnMetrics | None, should_stop: ShouldStop | None, measure: Measure | None = None,
                 on_checkpoint: Callable[[Path], None] | None = None):
    """The callback every trainer runs with (see ``JobCallback``); ``measure(callback, state, logs)`` turns a
    log into metrics, None for a log that is not a step's (default: every number logged, step time, tokens/s)."""
    return _job_callback_class()(on_metrics, should_stop, measure, on_checkpoint)


def train_and_finish(trainer, callback, hw: Hardware, out_dir: Path, card: dict, cfg, resume: bool) -> TrainResult:
    """Train (from the newest checkpoint in ``out_dir`` when resuming), then :func:`finish` with the config in
    the card."""
    checkpoint = last_checkpoint(out_dir) if resume else None
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    return finish(trainer, callback, hw, out_dir, {**card, "config": cfg.to_dict()}, merge_lora=cfg.lora)


def file_problem_ids(path: Path | str) -> list[str] | None:
    """The distinct problem ids of a training file's rows (every studio export carries ``problem_id``), sorted;
    None when the file has no such column, so the model card says its training problems are unknown rather
    than none."""
    import pandas as pd

    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        if "problem_id" not in pq.read_schema(path).names:
            return None
        frame = pd.read_parquet(path, columns=["problem_id"])
    else:
        frame = pd.read_json(path, lines=path.suffix == ".jsonl")
        if "problem_id" not in frame.columns:
            return None
    return sorted({str(v) for v in frame["problem_id"].dropna()})


def lineage_fields(problem_ids: list[str] | None, source: str) -> dict:
    """The model card's lineage: the problems this model itself saw in training (``None``: unknown) and where
    they came from; the base model's problems are inherited through ``base_model``, not copied."""
    return {"training_problems": problem_ids, "training_source": source}


@dataclass
class TrainResult:
    """What a trainer hands back: the final model folder (None when stopped early), the last step's metrics,
    the hardware and peak memory, and whether it stopped on request."""

    model_dir: Path | None
    step: int
    metrics: dict
    hardware: dict
    peak_memory_mb: float
    stopped: bool
    checkpoint: Path | None
    applied: dict = field(default_factory=dict)  # what actually ran (``applied_settings``)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["model_dir"] = str(self.model_dir) if self.model_dir else None
        d["checkpoint"] = str(self.checkpoint) if self.checkpoint else None
        return d


def finish(trainer, callback, hw: Hardware, out_dir: Path, card: dict, merge_lora: bool) -> TrainResult:
    """Save the final model (LoRA merged into the weights, so every engine loads it as a plain checkpoint) with
    its card under ``out_dir/final``, unless the job stopped on request. Under several processes the Trainer
    gathers the weights and only the main process writes."""
    from agentark.checkpoints import write_card

    step = int(trainer.state.global_step)
    stopped = callback.stopped
    model_dir = None
    main = trainer.is_world_process_zero()
    if not stopped:
        final = Path(out_dir) / FINAL
        tmp = final.with_name(FINAL + ".tmp")
        if merge_lora and hasattr(trainer.model, "merge_and_unload"):
            if main:
                trainer.model.merge_and_unload().save_pretrained(tmp)
        else:
            trainer.save_model(str(tmp))
        if main:
            trainer.processing_class.save_pretrained(tmp)
            write_card(tmp, {**card, "step": step, "metrics": callback.last, "device": hw.device,
                             "precision": hw.precision, "world_size": hw.world_size,
                             "peak_memory_mb": peak_memory_mb(hw.device)})
            if final.exists():
                import shutil

                shutil.rmtree(final)
            os.replace(tmp, final)
        model_dir = final
    return TrainResult(model_dir, step, callback.last, hw.to_dict(), peak_memory_mb(hw.device), stopped,
                       last_checkpoint(out_dir), applied_settings(trainer))
