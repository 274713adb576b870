"""Who labels what: each annotator's queue takes steps no one else holds, except a share of each run that two
people label, so agreement (Cohen's kappa) is measured on that overlap.

Design decision: assignment is claiming, not a plan made in advance. A queue opened for a person takes the
steps nobody else holds (``agentark.store.assignment_tables``) a page at a time and records them as theirs,
so people who join later, leave half-way or label at different speeds never wait on a fixed split. The
overlap is a per-run share chosen by a hash of the step id: the same steps for everyone, no list to store.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from agentark.clock import now
from agentark.errors import ConfigError
from agentark.labels.agreement import agreement
from agentark.options import ConfigBase, run_ids_field
from agentark.store import Store
from agentark.store import assignment_tables as at


@dataclass
class AssignmentConfig(ConfigBase):
    """The share of runs' steps that two annotators label (the rest: one each)."""

    run_ids: list[str] = run_ids_field("the runs it applies to")
    overlap: float = field(default=0.1, metadata={
        "help": "share of each run's steps labelled by two people, for agreement (0: none, 1: every step)",
        "min": 0.0, "max": 1.0, "step": 0.05})

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.overlap) <= 1.0:
            raise ConfigError(f"[[overlap]] is a share between 0 and 1; got {self.overlap}.")
        if not self.run_ids:
            raise ConfigError("Choose the runs the overlap applies to ([[run_ids]]).")


def set_overlap(store: Store, cfg: AssignmentConfig, by: str | None) -> None:
    """Set the share labelled twice for each run of ``cfg``; ``by``: who set it."""
    at.set_overlap(store, list(cfg.run_ids), float(cfg.overlap), by, now())


def overlaps(store: Store) -> dict[str, float]:
    """Run id -> the share labelled twice, for runs that have one set (others: 0)."""
    frame = at.overlaps(store)
    return dict(zip(frame["run_id"], frame["overlap"].astype(float)))


@dataclass(frozen=True)
class TeamProgress:
    """Each person's progress and the pairwise agreement of people on the steps two of them labelled."""

    people: pd.DataFrame
    pairs: pd.DataFrame


def team_progress(store: Store, run_ids: list[str] | None = None) -> TeamProgress:
    """Steps held and labelled per annotator, and Cohen's kappa for every pair of people."""
    people = at.progress(store, run_ids)
    if not people.empty:
        people["done"] = people["labelled"] / people["held"].where(people["held"] > 0)
    names = set(people["annotator"])
    pairs = [{"annotator A": r.rater_a, "annotator B": r.rater_b, "steps both labelled": r.n, "kappa": r.kappa}
             for r in agreement(store, run_ids) if r.rater_a in names and r.rater_b in names]
    return TeamProgress(people, pd.DataFrame(pairs, columns=["annotator A", "annotator B", "steps both labelled",
                                                             "kappa"]))
