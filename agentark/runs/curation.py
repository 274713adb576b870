"""Curation marks: keep or exclude a problem of a run, or one message (transcript turn) in it.

Marks are appended, never updated, each with who and when; the latest mark for a target wins. Exports
drop a problem whose latest problem-level mark is ``exclude`` and a message whose latest message-level
mark is ``exclude``; ``keep`` documents a reviewed item (and lets an export ask for reviewed items only).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import pandas as pd

from agentark.clock import now
from agentark.errors import ConfigError, StoreError
from agentark.store import Store
from agentark.store import curation_tables

MARKS = ("keep", "exclude")


@dataclass(frozen=True)
class Mark:
    run_id: str
    problem_id: str
    mark: str
    message_id: str | None = None
    note: str | None = None
    annotator: str | None = None

    def __post_init__(self) -> None:
        if self.mark not in MARKS:
            raise ConfigError(f"Unknown mark '{self.mark}'; use one of: {', '.join(MARKS)}.")


def add_marks(store: Store, marks: list[Mark]) -> int:
    """Append marks in one transaction; return how many were written."""
    if not marks:
        return 0
    rows = pd.DataFrame(
        {
            "mark_id": [secrets.token_hex(8) for _ in marks],
            "run_id": [m.run_id for m in marks],
            "problem_id": [m.problem_id for m in marks],
            "message_id": [m.message_id for m in marks],
            "mark": [m.mark for m in marks],
            "note": [m.note for m in marks],
            "annotator": [m.annotator for m in marks],
            "created_at": [now()] * len(marks),
        }
    )
    curation_tables.append_marks(store, rows)
    return len(marks)


def latest_marks(store: Store, run_id: str | None = None) -> pd.DataFrame:
    """The mark in force per target (run, problem, message or none), with who made it and when."""
    return curation_tables.latest_marks(store, run_id)


def mark_targets(store: Store, marks: list[Mark]) -> int:
    """Append marks after checking that every run, problem and message they name is in the store.

    The check is one query per call, so bulk marking from the problem list stays a single round trip.
    """
    if not marks:
        return 0
    missing = curation_tables.missing_targets(store, [(m.run_id, m.problem_id, m.message_id) for m in marks])
    if missing:
        run_id, problem_id, message_id = missing[0]
        what = f"message '{message_id}' of problem '{problem_id}'" if message_id else f"problem '{problem_id}'"
        raise StoreError(
            f"Run '{run_id}' has no {what} ({len(missing)} target(s) unknown); check the ids with "
            f"`python -m agentark runs` and the problem list, nothing was marked."
        )
    return add_marks(store, marks)
