"""Supervised fine-tuning of the student on an R-SFT or DA export, with TRL's ``SFTTrainer``.

Design decision: every conversation is handed to TRL as a conversational prompt/completion pair (the turns
before the last assistant message are the prompt, the last assistant message the completion). TRL then
masks the prompt's tokens out of the loss for any chat template, whereas its ``assistant_only_loss`` works
only with templates that mark assistant turns with ``{% generation %}``, which most (SmolLM2's included)
lack. The user turn of a studio export is the studio's solve prompt; the checkpoint records it so the
student is evaluated with the prompt it was trained on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agentark.errors import ConfigError, DatasetError
from agentark.options import field_help
from agentark.train.runtime import (
    OnMetrics,
    ShouldStop,
    TrainResult,
    causal_lm,
    detect_hardware,
    file_problem_ids,
    job_callback,
    lineage_fields,
    load_tokenizer,
    train_and_finish,
    training_arguments,
    trl_trainer,
)
from agentark.ids import file_sha256
from agentark.train.train_config import TrainConfig, require_export
from agentark.train.train_jobs import register_training_kind

@dataclass
class SFTJobConfig(TrainConfig):
    """An SFT job (R-SFT or DA): which export, which base model, and how to train; stored as the job's config."""

    export: str = field(default="", metadata={**field_help(
        "The training set: a studio export id or sha256 (see `python -m agentark exports`), or a TRL "
        "conversational file (.parquet/.jsonl with a 'messages' column, or 'prompt' and 'completion')."),
        "widget": "export", "trains": "sft"})
    max_length: int = field(default=1024, metadata=field_help(
        "Tokens per conversation; longer ones are cut at the end (their prompt is kept)."))
    packing: bool = field(default=False, metadata=field_help(
        "Pack several conversations into one sequence of max_length tokens (faster on a GPU; off keeps each "
        "conversation on its own)."))

    def __post_init__(self) -> None:
        require_export(self.export, "rsft")
        super().__post_init__()
        if self.max_length < 16:
            raise ConfigError(f"[[max_length]] must be at least 16 tokens (got {self.max_length}).")


def read_rows(path: Path | str) -> list[dict]:
    """The rows of a Parquet or JSON-lines file, as plain dicts (lists for list columns)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"Export file {path} does not exist; set [[export]] to an export id (see `python -m "
                           "agentark exports`) or an existing .parquet/.jsonl file.")
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif path.suffix in (".jsonl", ".json"):
        frame = pd.read_json(path, lines=path.suffix == ".jsonl")
    else:
        raise DatasetError(f"{path} is neither .parquet nor .jsonl; export again as parquet or jsonl.")
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
    from trl import SFTConfig, SFTTrainer

    hw = detect_hardware(cfg.device, cfg.precision, cfg.gradient_checkpointing)
    examples = check_sft(cfg)
    model, tokenizer = causal_lm(cfg, hw)
    args = SFTConfig(**training_arguments(cfg, hw, out_dir), max_length=cfg.max_length, packing=cfg.packing,
                     completion_only_loss=True, eos_token=tokenizer.eos_token)
    callback = job_callback(on_metrics, should_stop)
    trainer = trl_trainer(SFTTrainer, cfg, model, tokenizer, args, examples, callback)
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
    sha = file_sha256(cfg.export)
    card = {"kind": "sft", "base_model": cfg.base_model, "export_sha256": sha, "prompt": recorded_prompt(examples),
            **lineage_fields(file_problem_ids(cfg.export), f"export rows {sha[:12]}")}
    return train_and_finish(trainer, callback, hw, out_dir, card, cfg, resume)


SFT = register_training_kind("sft", "SFT (R-SFT / DA)", SFTJobConfig, check_sft, train_sft,
                             reads=("export:rsft", "export:da"))
