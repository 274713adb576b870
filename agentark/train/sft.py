"""Supervised fine-tuning of the student on an R-SFT or DA export, with TRL's ``SFTTrainer``.

Design decision: every conversation is handed to TRL as a conversational prompt/completion pair (the turns
before the last assistant message are the prompt, the last assistant message the completion). TRL then
masks the prompt's tokens out of the loss for any chat template, whereas its ``assistant_only_loss`` works
only with templates that mark assistant turns with ``{% generation %}``, which most (SmolLM2's included)
lack. The user turn of a studio export is the studio's solve prompt; the checkpoint records it so the
student is evaluated with the prompt it was trained on.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from agentark.config import EMBEDDED_MODEL
from agentark.errors import ConfigError, DatasetError
from agentark.train.runtime import (
    OnMetrics,
    ShouldStop,
    TrainResult,
    detect_hardware,
    finish,
    job_callback,
    last_checkpoint,
    load_tokenizer,
    lora_config,
    quiet_datasets,
    resolve_base,
    training_arguments,
)

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
SWITCHES = ("auto", "on", "off")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")


def field_help(text: str, choices: tuple = ()) -> dict:
    """A config field's metadata: the help text forms and flags show, and its choices if it has some."""
    return {"help": text, "choices": choices} if choices else {"help": text}


@dataclass
class SFTJobConfig:
    """An SFT job (R-SFT or DA): which export, which base model, and how to train; stored as the job's config."""

    export: str = field(default="", metadata=field_help(
        "The training set: a studio export id or sha256 (see `python -m agentark exports`), or a TRL "
        "conversational file (.parquet/.jsonl with a 'messages' column, or 'prompt' and 'completion')."))
    base_model: str = field(default=EMBEDDED_MODEL, metadata=field_help(
        "The student to fine-tune: the embedded model, a checkpoint folder, a model id in the local Hugging Face "
        "cache, or a model the studio trained."))
    epochs: float = field(default=1.0, metadata=field_help(
        "Passes over the training set (ignored when max_steps is set)."))
    max_steps: int | None = field(default=None, metadata=field_help(
        "Stop after this many optimizer steps; leave empty to train for the given epochs."))
    learning_rate: float = field(default=1e-5, metadata=field_help("Peak learning rate of AdamW."))
    lr_scheduler: str = field(default="linear", metadata=field_help(
        "Learning-rate schedule after warm-up.", SCHEDULERS))
    warmup_steps: int = field(default=0, metadata=field_help("Optimizer steps of linear warm-up."))
    per_device_batch_size: int = field(default=4, metadata=field_help("Conversations per device per forward pass."))
    gradient_accumulation_steps: int = field(default=1, metadata=field_help(
        "Forward passes accumulated into one optimizer step (effective batch = batch x accumulation x GPUs)."))
    max_length: int = field(default=1024, metadata=field_help(
        "Tokens per conversation; longer ones are cut at the end (their prompt is kept)."))
    packing: bool = field(default=False, metadata=field_help(
        "Pack several conversations into one sequence of max_length tokens (faster on a GPU; off keeps each "
        "conversation on its own)."))
    lora: bool = field(default=False, metadata=field_help(
        "Train LoRA adapters instead of all weights; the final model has them merged in."))
    lora_r: int = field(default=16, metadata=field_help("LoRA rank."))
    lora_alpha: int = field(default=32, metadata=field_help("LoRA scaling numerator (scale = alpha / r)."))
    lora_dropout: float = field(default=0.05, metadata=field_help("Dropout on the LoRA branch."))
    save_steps: int = field(default=50, metadata=field_help(
        "Save a resumable checkpoint every this many steps (cancel also saves one)."))
    seed: int = field(default=0, metadata=field_help("Seed for data order and initialisation of new weights."))
    device: str = field(default="auto", metadata=field_help("Where to train: auto picks the GPU when there is one.",
                                                       DEVICES))
    precision: str = field(default="auto", metadata=field_help(
        "Weights and activations: auto is bf16 on a GPU that has it and fp32 on the CPU; bf16/fp16 need a GPU.",
        PRECISIONS))
    gradient_checkpointing: str = field(default="auto", metadata=field_help(
        "Recompute activations to save memory: auto turns it on on a GPU.", SWITCHES))
    num_processes: int = field(default=1, metadata=field_help(
        "GPUs to train on; above 1 the job runs under `accelerate launch` with a generated config."))
    distributed: str = field(default="ddp", metadata=field_help(
        "How several GPUs share the work: ddp, DeepSpeed ZeRO-2/3, or FSDP.", ("ddp", "zero2", "zero3", "fsdp")))

    def __post_init__(self) -> None:
        if not str(self.export).strip():
            raise ConfigError("No export given: pass --export with an export id or a file path "
                              "(make one with `python -m agentark export rsft`).")
        if not str(self.base_model).strip():
            raise ConfigError("No base model given: pass --base-model (embedded:smollm2-135m for the embedded model).")
        check_common(self)
        if self.max_length < 16:
            raise ConfigError(f"max_length must be at least 16 tokens (got {self.max_length}).")

    def to_dict(self) -> dict:
        return asdict(self)


def check_common(cfg) -> None:
    """Validation shared by the SFT and PAD configs."""
    if cfg.max_steps is not None and cfg.max_steps < 1:
        raise ConfigError(f"max_steps must be at least 1 (got {cfg.max_steps}); leave it empty to train by epochs.")
    if cfg.max_steps is None and cfg.epochs <= 0:
        raise ConfigError(f"epochs must be positive (got {cfg.epochs}), or set max_steps.")
    if cfg.learning_rate <= 0:
        raise ConfigError(f"learning_rate must be positive (got {cfg.learning_rate}).")
    for name in ("per_device_batch_size", "gradient_accumulation_steps", "save_steps", "num_processes", "lora_r"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be at least 1 (got {getattr(cfg, name)}).")
    if cfg.warmup_steps < 0:
        raise ConfigError(f"warmup_steps must be 0 or more (got {cfg.warmup_steps}).")
    if not 0 <= cfg.lora_dropout < 1:
        raise ConfigError(f"lora_dropout must be in [0, 1) (got {cfg.lora_dropout}).")
    for name, allowed in (("device", DEVICES), ("precision", PRECISIONS), ("gradient_checkpointing", SWITCHES),
                          ("lr_scheduler", SCHEDULERS), ("distributed", ("ddp", "zero2", "zero3", "fsdp"))):
        if getattr(cfg, name) not in allowed:
            raise ConfigError(f"{name} '{getattr(cfg, name)}' is not one of: {', '.join(allowed)}.")
    if cfg.num_processes > 1 and cfg.device == "cpu":
        raise ConfigError("num_processes above 1 trains on several GPUs; on a CPU use --num-processes 1.")
    if cfg.lora and cfg.num_processes > 1 and cfg.distributed in ("zero3", "fsdp"):
        raise ConfigError(f"LoRA weights are merged on the main process, which needs whole weights; with lora use "
                          f"--distributed ddp or zero2, not {cfg.distributed}.")


def read_rows(path: Path | str) -> list[dict]:
    """The rows of a Parquet or JSON-lines file, as plain dicts (lists for list columns)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"Export file {path} does not exist; pass an export id (see `python -m agentark exports`) "
                           "or an existing .parquet/.jsonl file.")
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif path.suffix in (".jsonl", ".json"):
        frame = pd.read_json(path, lines=path.suffix == ".jsonl")
    else:
        raise DatasetError(f"{path} is neither .parquet nor .jsonl; export again with --format parquet or jsonl.")
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value):
    """numpy arrays (Parquet list columns) to lists, recursively."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def sft_examples(rows: list[dict]) -> list[dict]:
    """Conversational prompt/completion pairs from ``messages`` rows (or rows that already are such pairs)."""
    if not rows:
        raise DatasetError("The export has no rows; export again from runs with correct answers "
                           "(`python -m agentark export rsft --run RUN_ID`).")
    examples = []
    for i, row in enumerate(rows):
        if "messages" in row:
            turns = [{"role": t["role"], "content": t["content"]} for t in row["messages"]]
            if len(turns) < 2 or turns[-1]["role"] != "assistant" or not str(turns[-1]["content"]).strip():
                raise DatasetError(f"Row {i} does not end with a non-empty assistant turn; an SFT export holds "
                                   "conversations whose last message is the answer to learn.")
            examples.append({"prompt": turns[:-1], "completion": turns[-1:]})
        elif "prompt" in row and "completion" in row:
            prompt, completion = row["prompt"], row["completion"]
            if isinstance(prompt, str):
                prompt = [{"role": "user", "content": prompt}]
            if isinstance(completion, str):
                completion = [{"role": "assistant", "content": completion}]
            examples.append({"prompt": prompt, "completion": completion})
        else:
            raise DatasetError(f"Row {i} has neither 'messages' nor 'prompt'/'completion' columns; is this an R-SFT "
                               "or DA export? (A PRM export is trained with `train prm`.)")
    return examples


def recorded_prompt(examples: list[dict]) -> str | None:
    """The studio's solve prompt when every example's user turn was made with it, else None."""
    from agentark.debate import SOLVE_PROMPT

    head, _, tail = SOLVE_PROMPT.partition("{question}")
    for ex in examples:
        user = [t["content"] for t in ex["prompt"] if t["role"] == "user"]
        if not user or not user[-1].startswith(head) or not user[-1].endswith(tail):
            return None
    return SOLVE_PROMPT


def file_sha256(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_sft(cfg: SFTJobConfig) -> list[dict]:
    """Everything that can be refused before a job starts: the export's rows, the base model's tokenizer and
    chat template, the device. Returns the examples."""
    detect_hardware(cfg.device, cfg.precision, cfg.gradient_checkpointing)
    examples = sft_examples(read_rows(cfg.export))
    load_tokenizer(cfg.base_model)
    return examples


def build_trainer(cfg: SFTJobConfig, out_dir: Path, on_metrics: OnMetrics | None = None,
                  should_stop: ShouldStop | None = None):
    """The configured ``SFTTrainer`` and its job callback (exposed so tests can inspect the prepared data)."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, PrinterCallback
    from trl import SFTConfig, SFTTrainer

    hw = detect_hardware(cfg.device, cfg.precision, cfg.gradient_checkpointing)
    examples = check_sft(cfg)
    tokenizer = load_tokenizer(cfg.base_model)
    dtype = torch.bfloat16 if hw.precision == "bf16" else torch.float16 if hw.precision == "fp16" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(resolve_base(cfg.base_model), dtype=dtype)
    args = SFTConfig(**training_arguments(cfg, hw, out_dir), max_length=cfg.max_length, packing=cfg.packing,
                     completion_only_loss=True, eos_token=tokenizer.eos_token)
    callback = job_callback(on_metrics, should_stop)
    quiet_datasets()
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(examples),
                         processing_class=tokenizer, peft_config=lora_config(cfg), callbacks=[callback])
    trainer.remove_callback(PrinterCallback)  # metrics go to the job's shards, not as dicts to the log
    return trainer, callback, hw, examples


def train_sft(cfg: SFTJobConfig, out_dir: Path | str, on_metrics: OnMetrics | None = None,
              should_stop: ShouldStop | None = None, resume: bool = False) -> TrainResult:
    """Fine-tune ``cfg.base_model`` on ``cfg.export`` (a file path), writing checkpoints under ``out_dir``.

    ``on_metrics(step, {name: value})`` gets every logged step; ``should_stop()`` is asked after every step
    and, when true, the job saves a checkpoint and returns with ``stopped``; ``resume`` continues from the
    newest checkpoint in ``out_dir``.
    """
    out_dir = Path(out_dir)
    trainer, callback, hw, examples = build_trainer(cfg, out_dir, on_metrics, should_stop)
    checkpoint = last_checkpoint(out_dir) if resume else None
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    card = {"kind": "sft", "base_model": cfg.base_model, "export_sha256": file_sha256(cfg.export),
            "config": cfg.to_dict(), "prompt": recorded_prompt(examples)}
    return finish(trainer, callback, hw, out_dir, card, merge_lora=cfg.lora)
