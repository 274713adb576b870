"""Stepwise PRM data: read and check a training file, and turn (question, steps) into token ids.

The input is the stepwise-supervision format that the studio's PRM export writes and that TRL's
``trl-lib/prm800k`` / ``trl-lib/math_shepherd`` use: one row per trajectory with ``prompt`` (the question),
``completions`` (the steps) and ``labels`` (one per step: booleans, or Monte-Carlo fractions in [0, 1]).

Design decision: one encoder, :func:`encode`, is shared by the trainer and the scorer. It tokenizes the
question and every step on its own and appends the separator's token ids after each, so a step's label
sits on a token whose position does not depend on how the tokenizer would have merged neighbouring text;
the scorer reads the head at exactly the positions the trainer taught it, and because the backbone is
causal, the reading at step k's separator equals what a forward pass on the prefix up to step k gives.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from agentark.errors import DatasetError

IGNORE = -100.0
HARD_VALUES = {0.0, 1.0}


@dataclass
class StepwiseData:
    """Trajectories with one float label per step, and what kind of labels they are."""

    prompts: list[str]
    completions: list[list[str]]
    labels: list[list[float]]
    label_type: str  # "hard" (0.0/1.0) or "soft" (fractions)

    @property
    def n_steps(self) -> int:
        return sum(len(c) for c in self.completions)

    def summary(self) -> dict[str, float]:
        """Rows, steps, positives and negatives (soft labels count by their mass) and the negative share."""
        flat = [v for row in self.labels for v in row]
        positives = float(sum(flat))
        negatives = float(len(flat) - positives)
        return {"rows": float(len(self.prompts)), "steps": float(len(flat)), "positives": positives,
                "negatives": negatives, "negative_share": negatives / len(flat) if flat else 0.0}


def _read_frame(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".json"):
            lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            if suffix == ".json" and len(lines) == 1 and isinstance(lines[0], list):
                lines = lines[0]
            return pd.DataFrame(lines)
    except (ValueError, OSError) as exc:
        raise DatasetError(f"Cannot read {path}: {exc}. Give a Parquet or JSON-lines stepwise file.") from exc
    raise DatasetError(f"{path} is neither .parquet nor .jsonl; give the studio's PRM export or a stepwise file "
                       "with prompt/completions/labels columns in one of those formats.")


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist"):
        return list(value.tolist())
    return [value]


def _label_value(value, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise DatasetError(
            f"{where}: label {value!r} is outside the expected set (true/false, 0/1, or a fraction in [0, 1]). "
            "Ratings of -1/0/+1 (PRM800K, Math-Shepherd) are imported with `python -m agentark import-steps` "
            "and exported with `python -m agentark export prm`, which maps them to booleans."
        )
    return number


def load_stepwise(path: Path | str, label_type: str = "auto") -> StepwiseData:
    """Read and check a stepwise file; every problem is refused here, before any model is loaded.

    ``label_type`` "auto" makes the labels soft when any is a fraction other than 0 or 1; "hard" refuses
    fractions; "soft" keeps 0/1 labels as the floats 0.0/1.0.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetError(f"PRM data file {path} does not exist; export one with `python -m agentark export prm` "
                           "or give the path of a stepwise Parquet/JSONL file.")
    frame = _read_frame(path)
    if frame.empty:
        raise DatasetError(f"{path} has no rows; export a PRM set from runs with labelled steps "
                           "(`python -m agentark export prm`) and train on that.")
    missing = [c for c in ("prompt", "completions", "labels") if c not in frame.columns]
    if missing:
        raise DatasetError(f"{path} lacks column(s) {', '.join(missing)}; a stepwise PRM file has prompt, completions "
                           "and labels (the studio's `export prm` writes them).")
    prompts, completions, labels = [], [], []
    for i, row in enumerate(frame.itertuples(index=False)):
        steps = [str(s) for s in _as_list(row.completions)]
        values = _as_list(row.labels)
        where = f"{path.name} row {i}"
        if len(steps) != len(values):
            raise DatasetError(f"{where}: {len(steps)} completions but {len(values)} labels; every step needs exactly "
                               "one label. Re-export the file or fix that row.")
        if not steps:
            raise DatasetError(f"{where} has no steps; drop the row or re-export (rows need at least one step).")
        prompts.append(str(row.prompt))
        completions.append(steps)
        labels.append([_label_value(v, where) for v in values])
    fractional = any(v not in HARD_VALUES for row in labels for v in row)
    if label_type == "auto":
        label_type = "soft" if fractional else "hard"
    elif label_type == "hard" and fractional:
        raise DatasetError(f"{path} has fractional (soft) labels but [[label_type]] is 'hard'; set it to 'soft' "
                           "or 'auto', or export hard labels (`export prm --label-type hard`).")
    return StepwiseData(prompts, completions, labels, label_type)


def separator_ids(tokenizer, separator: str) -> list[int]:
    """The separator's token ids; refuses a separator the tokenizer encodes to nothing."""
    ids = tokenizer(separator, add_special_tokens=False)["input_ids"]
    if not ids:
        raise DatasetError(f"The step separator {separator!r} encodes to no tokens with this tokenizer; choose "
                           "another separator (e.g. '\\n').")
    return list(ids)


def encode(tokenizer, question: str, steps: list[str], sep: list[int], max_length: int,
           keep_all_steps: bool) -> tuple[list[int], list[int]]:
    """Token ids of question + separator + (step + separator)* and the position of each step's last separator token.

    Too long for ``max_length``: the question is cut from the left to at most half the budget, then steps are
    appended while they fit. With ``keep_all_steps`` (scoring) the question gives way first and a trajectory
    whose steps alone do not fit is refused; otherwise (training) the steps that do not fit are dropped.
    """
    question_ids = tokenizer(question, add_special_tokens=False)["input_ids"] + sep
    step_ids = [tokenizer(s, add_special_tokens=False)["input_ids"] + sep for s in steps]
    steps_len = sum(len(s) for s in step_ids)
    if keep_all_steps:
        if steps_len > max_length:
            raise DatasetError(f"A trajectory of {len(steps)} steps takes {steps_len} tokens, more than the PRM's "
                               f"max_length {max_length}; score shorter completions or train the PRM with a larger "
                               "max_length.")
        question_ids = question_ids[-(max_length - steps_len):] if steps_len < max_length else []
    elif len(question_ids) + steps_len > max_length:
        question_ids = question_ids[-(max_length // 2):]
    ids = list(question_ids)
    positions = []
    for piece in step_ids:
        if len(ids) + len(piece) > max_length:
            break
        ids += piece
        positions.append(len(ids) - 1)
    return ids, positions


def tokenize_dataset(data: StepwiseData, tokenizer, sep: list[int], max_length: int) -> tuple[list[dict], int]:
    """Training features (input_ids, float labels with IGNORE elsewhere) and how many steps did not fit."""
    features, dropped = [], 0
    for question, steps, values in zip(data.prompts, data.completions, data.labels):
        ids, positions = encode(tokenizer, question, steps, sep, max_length, keep_all_steps=False)
        dropped += len(steps) - len(positions)
        if not positions:
            continue
        labels = [IGNORE] * len(ids)
        for pos, value in zip(positions, values):
            labels[pos] = float(value)
        features.append({"input_ids": ids, "labels": labels})
    return features, dropped


class StepwiseCollator:
    """Right-pads a batch; labels stay float32 (soft labels are fractions) with IGNORE off the separators."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict]) -> dict:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        input_ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(features), width), dtype=torch.long)
        labels = torch.full((len(features), width), IGNORE, dtype=torch.float32)
        for row, f in enumerate(features):
            n = len(f["input_ids"])
            input_ids[row, :n] = torch.tensor(f["input_ids"], dtype=torch.long)
            attention[row, :n] = 1
            labels[row, :n] = torch.tensor(f["labels"], dtype=torch.float32)
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}
