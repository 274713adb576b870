"""The ``auto:prm`` label source: a trained studio PRM labels stored steps, with a confidence.

Each message's steps are scored in one forward pass (:class:`agentark.train.prm_scoring.PRMScorer`); a step
whose probability of being good reaches the threshold gets +1, otherwise -1. The probability itself is kept
as the label's ``soft_value`` (so a soft PRM export can use it) and ``max(p, 1 - p)`` as its confidence, so
the labeling page's "lowest automatic confidence first" queue puts the PRM's doubtful steps in front of a
person. Design decision: like the other automatic labelers, :func:`prm_label_rows` is a pure function from
steps and scores to label rows, and a rerun appends only labels that change what is in force (a new value,
or a probability that moved), so labelling twice with the same PRM adds nothing.
"""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field

import pandas as pd

from agentark.errors import ConfigError
from agentark.store import Store, now
from agentark.store import labels as q

SOURCE = "auto:prm"
SOFT_CHANGE = 1e-3


@dataclass
class PRMLabelConfig:
    """Which PRM labels which runs' steps, and where it calls a step wrong."""

    model: str = field(default="", metadata={"help": "The PRM: a studio model id, or the model or checkpoint folder "
                                                     "a PRM training job wrote."})
    run_ids: list[str] = field(default_factory=list, metadata={"help": "Runs whose steps to label (all when empty)."})
    threshold: float = field(default=0.5, metadata={
        "help": "A step whose probability of being good is below this gets -1, otherwise +1."})
    batch_size: int = field(default=16, metadata={"help": "Trajectories per forward pass."})
    device: str = field(default="auto", metadata={"help": "auto (CUDA when visible), cpu or cuda."})

    def __post_init__(self) -> None:
        if not str(self.model).strip():
            raise ConfigError("No PRM given: pass --model with a studio PRM id or folder (train one with "
                              "`python -m agentark train prm`).")
        if not 0 < self.threshold < 1:
            raise ConfigError(f"threshold must be between 0 and 1 (got {self.threshold}).")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1 (got {self.batch_size}).")

    def to_dict(self) -> dict:
        return asdict(self)


def trajectories(steps: pd.DataFrame) -> list[tuple[str, str, list[str], list[str]]]:
    """(message_id, question, step ids, step texts) per message, steps in order."""
    out = []
    for message_id, g in steps.groupby("message_id", sort=False):
        g = g.sort_values("idx")
        out.append((message_id, str(g["question"].iloc[0]), list(g["step_id"]), [str(t) for t in g["text"]]))
    return out


def prm_label_rows(step_ids: list[list[str]], scores: list[list[float]], threshold: float) -> pd.DataFrame:
    """Label rows (step_id, value, confidence, soft_value) from each trajectory's step probabilities."""
    rows = [(sid, 1.0 if p >= threshold else -1.0, max(p, 1.0 - p), float(p))
            for ids, ps in zip(step_ids, scores) for sid, p in zip(ids, ps)]
    return pd.DataFrame(rows, columns=["step_id", "value", "confidence", "soft_value"])


def changed_only(fresh: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """The fresh labels that differ from those in force: another value, or a probability that moved."""
    if fresh.empty or current.empty:
        return fresh
    merged = fresh.merge(current[["step_id", "value", "soft_value"]], on="step_id", how="left", suffixes=("", "_old"))
    moved = (merged["soft_value"] - merged["soft_value_old"].astype(float)).abs() > SOFT_CHANGE
    keep = merged["value_old"].isna() | (merged["value"] != merged["value_old"]) | moved.fillna(True)
    return merged.loc[keep, fresh.columns].reset_index(drop=True)


def stamp(rows: pd.DataFrame, model: str) -> pd.DataFrame:
    """Turn label rows into ``step_labels`` rows of source auto:prm, noting which PRM gave them."""
    rows = rows.copy()
    rows["label_id"] = [f"{SOURCE}:{secrets.token_hex(10)}" for _ in range(len(rows))]
    rows["source"] = SOURCE
    rows["annotator"] = None
    rows["flag"] = False
    rows["note"] = f"prm {model}"
    rows["created_at"] = now()
    return rows


def run_prm_labeler(store: Store, cfg: PRMLabelConfig, scorer=None) -> int:
    """Label the runs' stored steps with the PRM (loaded from ``cfg.model`` unless given); return labels written."""
    steps = q.steps_in_context(store, cfg.run_ids or None)
    if steps.empty:
        raise ConfigError("No steps to label: segment the runs first (labeling page, or `python -m agentark segment`).")
    if scorer is None:
        from agentark.train.prm_scoring import load_prm

        scorer = load_prm(cfg.model, device=cfg.device, batch_size=cfg.batch_size)
    items = trajectories(steps)
    scores = scorer.score([(question, texts) for _, question, _, texts in items])
    fresh = prm_label_rows([ids for _, _, ids, _ in items], scores, cfg.threshold)
    fresh = changed_only(fresh, q.labels_in_force(store, cfg.run_ids or None, [SOURCE]))
    return q.append_labels(store, stamp(fresh, cfg.model)) if not fresh.empty else 0
