"""The PRM label policy: which of a step's labels counts, and which steps of a trajectory a PRM learns from.

Each step's label comes from the first source in ``precedence`` that has one in force (people before automatic
sources by default); a neutral (0) counts as positive or negative as ``neutral`` says; ``label_type`` gives
booleans (hard) or the Monte-Carlo fraction (soft; 1.0/0.0 for sources without one). The ``consensus`` policy
keeps a Monte-Carlo or judge label only where the other agrees (Qwen's "Lessons of developing PRMs"). A step
that makes no claim (an opening, the question restated) is never a first error: an automatic label on it is
ignored and it counts good (source ``policy:claim-free``) unless a person or an imported set labelled it. With
the first-error convention (PRM800K's and ProcessBench's) a trajectory whose first wrong step is known keeps
the steps before it as good, that step as bad, and drops the rest; a trajectory with a right final answer and
no bad step counts every step good; steps whose label comes from this convention rather than from a labeler
have the source ``policy:first-error``. Without it, a trajectory is kept only when every step has a label.

:class:`PRMFigures` says what a set of PRM rows holds, and warns (naming the labelers that add negatives) when
negatives are too few to teach a PRM about wrong steps.

The default precedence, the sources the consensus policy pairs and the labelers named for negatives are read off
the labeler registry (``agentark.labels.labelers``: ``default_precedence``, ``consensus_sources``,
``negative_labelers``), so a labeler registered with a rank or a hint takes part without an edit here.

Design decision: the policy reads its settings through :class:`LabelSettings` (the PRM export's config, or an
evaluation's sources and neutral), so labels depend on no training-set module.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from agentark.labels.labelers import consensus_sources, negative_labelers
from agentark.options import ConfigBase

FIRST_ERROR_SOURCE = "policy:first-error"
CLAIM_FREE_SOURCE = "policy:claim-free"
POLICIES = ("precedence", "consensus")
POLICY_NAMES = {"precedence": "precedence: the first listed source with a label wins",
                "consensus": "consensus: keep a Monte-Carlo or judge label only where the other agrees"}
DEFAULT_BALANCE_THRESHOLD = 0.10
DROP_FIRST_ERROR_UNKNOWN = "wrong final answer whose first error no source has labelled"
DROP_UNLABELLED = "a step no listed source has labelled"


class LabelSettings(Protocol):
    """What the policy reads from a config: sources winner first, how a neutral counts, hard or soft labels."""

    precedence: list[str]
    neutral: str
    label_type: str


def resolve_step_labels(labels: pd.DataFrame, cfg: LabelSettings) -> pd.DataFrame:
    """One label per step under the config's policy: columns step_id, source, label, and good (the hard
    label, which decides where a first error is even when soft labels are exported)."""
    rank = {s: i for i, s in enumerate(cfg.precedence)}
    usable = labels[labels["source"].isin(rank)].copy()
    if usable.empty:
        return pd.DataFrame(columns=["step_id", "source", "label", "good"])
    usable["_rank"] = usable["source"].map(rank)
    winners = usable.sort_values(["step_id", "_rank"]).drop_duplicates("step_id")
    neutral_positive = cfg.neutral == "positive"
    hard = [bool(v > 0 or (v == 0 and neutral_positive)) for v in winners["value"]]
    if cfg.label_type == "hard":
        values: list = hard
    else:
        soft = winners["soft_value"] if "soft_value" in winners else pd.Series([None] * len(winners))
        values = [float(s) if s is not None and not pd.isna(s) else float(h) for s, h in zip(soft, hard)]
    return pd.DataFrame({"step_id": winners["step_id"].values, "source": winners["source"].values, "label": values,
                         "good": hard})


def consensus_labels(labels: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The labels in force minus every Monte-Carlo and judge label of a step where the two do not agree in sign
    (or only one of them labelled it); with the count of steps that agreed, disagreed or had one alone."""
    pair = labels[labels["source"].isin(consensus_sources())]
    signs = pair.assign(sign=pair["value"].map(lambda v: (v > 0) - (v < 0))).groupby("step_id")["sign"]
    kinds, distinct = signs.size(), signs.nunique()
    agreed = set(kinds[(kinds == 2) & (distinct == 1)].index)
    counts = {"agreed": len(agreed), "disagreed": int(((kinds == 2) & (distinct > 1)).sum()),
              "alone": int((kinds == 1).sum())}
    keep = ~labels["source"].isin(consensus_sources()) | labels["step_id"].isin(agreed)
    return labels[keep], counts


def _automatic(source: str) -> bool:
    return str(source).startswith("auto:")


def _known(value: Any) -> bool:
    return value is not None and not pd.isna(value)


def claim_free_resolved(resolved: pd.DataFrame, steps: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """The resolved labels (indexed by step_id) without automatic ones on claim-free steps, and the claim-free
    step ids: such a step is never a first error (a person's label on it stands)."""
    claim_free = set(steps.loc[steps["claim"].eq(False), "step_id"]) if "claim" in steps else set()
    ignored = {s for s in claim_free if s in resolved.index and _automatic(resolved.at[s, "source"])}
    return resolved.drop(index=list(ignored)), claim_free


def kept_steps(ids: list[str], resolved: pd.DataFrame, claim_free: set[str], right: Any,
               first_error: bool) -> tuple[int, str | None]:
    """How many of a trajectory's steps (``ids`` in order) a PRM row keeps, or 0 and why it keeps none.

    ``resolved`` is indexed by step_id (see :func:`claim_free_resolved`); ``right`` is whether the final answer
    is correct (unknown for imported data without a reference)."""
    known = [s in resolved.index or s in claim_free for s in ids]
    if first_error:
        first_bad = next((i for i, s in enumerate(ids) if s in resolved.index and not resolved.at[s, "good"]), None)
        if first_bad is not None:
            return first_bad + 1, None
        if not (_known(right) and bool(right)) and not all(known):
            return 0, DROP_FIRST_ERROR_UNKNOWN if _known(right) else DROP_UNLABELLED
    elif not all(known):
        return 0, DROP_UNLABELLED
    return len(ids), None


def step_source(step_id: str, resolved: pd.DataFrame, claim_free: set[str]) -> str:
    """Where a kept step's label comes from: its winning source, else the claim-free or first-error policy."""
    if step_id in resolved.index:
        return resolved.at[step_id, "source"]
    return CLAIM_FREE_SOURCE if step_id in claim_free else FIRST_ERROR_SOURCE


@dataclass
class PRMFigures(ConfigBase):
    """What a PRM training set holds: rows, steps, positives and negatives, overall and per label source."""

    rows: int
    steps: int
    positives: int
    negatives: int
    by_source: dict[str, dict[str, int]]
    rows_with_negative: int = 0
    threshold: float = DEFAULT_BALANCE_THRESHOLD

    @property
    def negative_share(self) -> float:
        return self.negatives / self.steps if self.steps else 0.0

    def warning(self) -> str | None:
        """The balance check: None when negatives reach the threshold, else what is wrong and who adds more."""
        if not self.steps or self.negative_share >= self.threshold:
            return None
        return (f"Only {self.negatives} of {self.steps} steps ({self.negative_share:.1%}) are negative, under the "
                f"{self.threshold:.0%} threshold: a PRM trained on this set learns little about wrong steps. Add "
                f"negatives with {'; '.join(negative_labelers())}; or weight classes in the PRM trainer.")

    def lines(self) -> list[str]:
        lines = [f"{self.rows} rows ({self.rows_with_negative} with a negative step), {self.steps} steps: "
                 f"{self.positives} positive, {self.negatives} negative ({self.negative_share:.1%})"]
        for source, n in sorted(self.by_source.items()):
            lines.append(f"  {source}: {n['steps']} steps, {n['positives']} positive, {n['negatives']} negative")
        return lines


def prm_figures(rows: pd.DataFrame, threshold: float = DEFAULT_BALANCE_THRESHOLD) -> PRMFigures:
    """Figures of PRM rows (``labels`` and ``label_sources`` columns, as exported or read back from an export
    file); a soft label counts as positive from 0.5 up. The PRM trainer shows these before training."""
    by_source: dict[str, dict[str, int]] = {}
    steps = positives = with_negative = 0
    for labels, sources in zip(rows["labels"], rows["label_sources"]):
        good = [float(v) >= 0.5 for v in labels]
        steps += len(good)
        positives += sum(good)
        with_negative += not all(good)
        for ok, source in zip(good, sources):
            n = by_source.setdefault(str(source), {"steps": 0, "positives": 0, "negatives": 0})
            n["steps"] += 1
            n["positives" if ok else "negatives"] += 1
    return PRMFigures(len(rows), steps, positives, steps - positives, by_source, with_negative, threshold)


def file_figures(path: Path | str, threshold: float = DEFAULT_BALANCE_THRESHOLD) -> PRMFigures:
    """The figures of a stepwise file (a studio PRM export, or any prompt/completions/labels file, whose steps
    then count under the source ``unknown``)."""
    path = Path(path)
    frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_json(path, lines=True)
    if "labels" not in frame:
        raise ValueError(f"{path} is no stepwise file (it has no labels column)")
    if "label_sources" not in frame:
        frame["label_sources"] = [["unknown"] * len(labels) for labels in frame["labels"]]
    return prm_figures(frame, threshold)
