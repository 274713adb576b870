"""How right each automatic labeler is: its negatives against people's labels and against gold first errors.

For every automatic source over the chosen runs (each registered automatic labeler, ``agentark.labels.labelers``,
and any other ``auto:*`` source a store holds), and each registered reference (``human``: the people's label in
force; ``gold``: a gold debate's key, ``agentark.labels.gold``):

- **precision of negatives**: of the steps the source calls wrong (-1) that the reference labelled, the share
  the reference calls wrong too; **recall of negatives**: of the steps the reference calls wrong, the share the
  source calls wrong;
- **first-error accuracy** (ProcessBench's measure): over the trajectories (messages) whose first error the
  reference fixes (its first -1 with every claim step before it labelled), or whose cleanliness it fixes (every
  claim step labelled, none -1), the share where the source's first -1 is that same step, or where it has none;
- **coverage**: the share of claim steps the source labelled at all;

and, with no reference needed, where the source's negatives fall: how many are on a message's first step and
how many on steps that make no claim (the signature of a labeler that flags openings).

Design decision: the scores are a pure function of three frames (steps, the source's labels, the reference's
labels), so a test checks them on a gold set by hand; ``labeler_report`` only reads the store.
``gold_set_report`` measures the inline labelers on a file of hand-marked first errors instead of a store.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from agentark.labels.gold_set import GOLD_SET, LabelerFigures, gold_set_figures, load_gold_set
from agentark.labels.labelers import automatic_sources, reference_sources
from agentark.store import Store
from agentark.store import label_tables as q

AUTOMATIC_FAMILY = "auto:"  # a source of this family is measured even when no labeler registers it (older stores)


@dataclass
class Against:
    """One source against one reference."""

    reference: str
    compared: int  # steps both labelled
    negatives_compared: int  # of the source's negatives, how many the reference labelled
    reference_negatives: int
    precision: float | None
    recall: float | None
    trajectories: int  # reference trajectories with a known first error or known to be clean
    with_error: int
    located: int  # of those with an error, how many the source's first -1 hits exactly
    clean_kept: int  # of the clean ones, how many the source gives no -1
    first_error_accuracy: float | None


@dataclass
class SourceFigures:
    """One automatic source: coverage, where its negatives fall, and its scores against each reference."""

    source: str
    claim_steps: int
    labelled: int
    coverage: float | None
    negatives: int
    negatives_on_first_step: int
    negatives_on_claim_free: int
    against: list[Against] = field(default_factory=list)

    @property
    def first_step_share(self) -> float | None:
        """The share of its negatives that fall on a message's first step."""
        return self.negatives_on_first_step / self.negatives if self.negatives else None


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _first_negative(values: list[float | None]) -> int | None:
    return next((i for i, v in enumerate(values) if v is not None and v < 0), None)


def score_against(steps: pd.DataFrame, mine: dict[str, float], reference: dict[str, float], name: str) -> Against:
    """``mine`` and ``reference`` map step ids to values; ``steps`` has step_id, message_id, idx and claim."""
    both = [s for s in mine if s in reference]
    my_negatives = [s for s in both if mine[s] < 0]
    ref_negatives = [s for s, v in reference.items() if v < 0]
    true_negatives = sum(reference[s] < 0 for s in my_negatives)
    trajectories = with_error = located = clean_kept = 0
    for _, g in steps.groupby("message_id", sort=False):
        g = g.sort_values("idx")
        ids, claims = list(g["step_id"]), [bool(c) for c in g["claim"]]
        ref = [reference.get(s) for s in ids]
        first_ref = _first_negative(ref)
        known_before = all(ref[i] is not None for i in range(first_ref if first_ref is not None else len(ids))
                           if claims[i])
        if not known_before or not any(v is not None for v in ref):
            continue  # the reference does not fix this trajectory's first error
        trajectories += 1
        predicted = _first_negative([mine.get(s) for s in ids])
        if first_ref is None:
            clean_kept += predicted is None
        else:
            with_error += 1
            located += predicted == first_ref
    return Against(name, len(both), len(my_negatives), len(ref_negatives), _ratio(true_negatives, len(my_negatives)),
                   _ratio(sum(mine.get(s, 0) < 0 for s in ref_negatives), len(ref_negatives)), trajectories,
                   with_error, located, clean_kept, _ratio(located + clean_kept, trajectories))


def measured(source: str) -> bool:
    """Whether the report measures ``source``: a registered automatic labeler's, or any of the ``auto:`` family."""
    return source in automatic_sources() or source.startswith(AUTOMATIC_FAMILY)


def score_sources(steps: pd.DataFrame, labels: pd.DataFrame) -> list[SourceFigures]:
    """Figures for every automatic source in ``labels`` (step_id, source, value: the labels in force) over
    ``steps`` (step_id, message_id, idx, claim), against every registered reference present."""
    steps = steps.copy()
    steps["claim"] = steps["claim"].map(lambda v: True if v is None or pd.isna(v) else bool(v)) if "claim" in steps \
        else True
    in_scope = set(steps["step_id"])
    labels = labels[labels["step_id"].isin(in_scope)]
    first_steps = set(steps.loc[steps.groupby("message_id")["idx"].idxmin(), "step_id"]) if len(steps) else set()
    claim_free = set(steps.loc[~steps["claim"].astype(bool), "step_id"])
    claim_steps = len(steps) - len(claim_free)
    by_source = {s: dict(zip(g["step_id"], g["value"].astype(float))) for s, g in labels.groupby("source")}
    out = []
    for source in sorted(s for s in by_source if measured(s)):
        mine = by_source[source]
        negatives = [s for s, v in mine.items() if v < 0]
        labelled = sum(1 for s in mine if s not in claim_free)
        figures = SourceFigures(source, claim_steps, labelled, _ratio(labelled, claim_steps), len(negatives),
                                sum(s in first_steps for s in negatives), sum(s in claim_free for s in negatives))
        for ref in reference_sources():
            if by_source.get(ref):
                figures.against.append(score_against(steps, mine, by_source[ref], ref))
        out.append(figures)
    return out


@dataclass
class LabelerReport:
    """Every automatic source's figures over some runs (all runs when ``run_ids`` is empty)."""

    run_ids: list[str]
    sources: list[SourceFigures]

    def to_dict(self) -> dict:
        return {"run_ids": list(self.run_ids),
                "sources": [{**asdict(s), "first_step_share": s.first_step_share} for s in self.sources]}

    def table(self) -> pd.DataFrame:
        """One row per source and reference (``-`` when no reference labelled these runs)."""
        rows = []
        for s in self.sources:
            base = {"source": s.source, "coverage": s.coverage, "negatives": s.negatives,
                    "on first step": s.negatives_on_first_step, "on claim-free": s.negatives_on_claim_free}
            for a in s.against or [None]:
                rows.append({**base, "reference": a.reference if a else "-",
                             "precision (neg)": a.precision if a else None, "recall (neg)": a.recall if a else None,
                             "first-error acc.": a.first_error_accuracy if a else None,
                             "trajectories": a.trajectories if a else None})
        return pd.DataFrame(rows, columns=["source", "reference", "precision (neg)", "recall (neg)",
                                           "first-error acc.", "trajectories", "coverage", "negatives",
                                           "on first step", "on claim-free"])

    def lines(self) -> list[str]:
        """The report as text, one source per block (what the CLI prints and an export's figures show)."""
        def pct(v: float | None) -> str:
            return "-" if v is None else f"{v:.0%}"

        lines = []
        for s in self.sources:
            lines.append(f"{s.source}: coverage {pct(s.coverage)} ({s.labelled} of {s.claim_steps} claim steps), "
                         f"{s.negatives} negatives, {s.negatives_on_first_step} on a message's first step "
                         f"({pct(s.first_step_share)}), {s.negatives_on_claim_free} on claim-free steps")
            for a in s.against:
                lines.append(f"  vs {a.reference}: negatives precision {pct(a.precision)} "
                             f"({a.negatives_compared} compared), recall {pct(a.recall)} (of {a.reference_negatives}); "
                             f"first error located {a.located}/{a.with_error}, clean kept "
                             f"{a.clean_kept}/{a.trajectories - a.with_error}: accuracy {pct(a.first_error_accuracy)}")
        return lines or ["no automatic labels on these runs"]


def labeler_report(store: Store, run_ids: list[str] | None = None) -> LabelerReport:
    """The report over the runs' stored steps and the labels in force."""
    steps = q.steps_in_context(store, run_ids or None)
    labels = q.labels_in_force(store, run_ids or None)
    if steps.empty or labels.empty:
        return LabelerReport(list(run_ids or []), [])
    return LabelerReport(list(run_ids or []), score_sources(steps[["step_id", "message_id", "idx", "claim"]],
                                                            labels[["step_id", "source", "value"]]))


def gold_set_report(path: Path | str = GOLD_SET) -> list[LabelerFigures]:
    """Each inline labeler's figures on a gold set of hand-marked first errors (``agentark.labels.gold_set``;
    the repository's own by default), and last the PRM export's under its defaults: coverage (wrong messages
    with a negative), precision (of those, the first negative on the marked first error), recall by error kind,
    and right messages given a negative. No store and no model: the labelers run on the file's messages."""
    return gold_set_figures(load_gold_set(path))
