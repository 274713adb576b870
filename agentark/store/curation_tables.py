"""Curation marks in the store: appending them, the mark in force per target, and checks of their targets.

Design decision: marks are append-only and the one in force is derived (``LATEST_MARKS``, the latest row
per target), so every query that honours curation joins the same relation. Targets are checked in one
query over a registered frame, so marking ten thousand problems at once costs one join, not ten thousand
lookups.
"""
from __future__ import annotations

import pandas as pd

from agentark.store import Store, frame_view, operation

# The mark in force per target: the latest row per (run, problem, message-or-none).
LATEST_MARKS = """SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY run_id, problem_id, coalesce(message_id, '')
                                 ORDER BY created_at DESC, mark_id DESC) AS rn
    FROM curation_marks) WHERE rn = 1"""


def append_marks(store: Store, rows: pd.DataFrame) -> None:
    """Append marks (columns matched by name) to the append-only ``curation_marks``, in one statement."""
    with store.write() as con:
        with frame_view(con, "_rows", rows):
            con.execute("INSERT INTO curation_marks BY NAME SELECT * FROM _rows")


def latest_marks(store: Store, run_id: str | None = None) -> pd.DataFrame:
    """The mark in force per target, of one run or of all."""
    return store.df(f"SELECT * FROM ({LATEST_MARKS}) WHERE $run IS NULL OR run_id = $run "
                    "ORDER BY run_id, problem_id, message_id NULLS FIRST", {"run": run_id})


@operation
def missing_targets(store: Store, targets: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
    """The (run_id, problem_id, message_id) targets that name no problem of the run or no message of it."""
    frame = pd.DataFrame(targets, columns=["run_id", "problem_id", "message_id"]).astype(object)
    con = store.con
    con.register("_targets", frame)
    try:
        rows = con.execute(
            """SELECT t.run_id, t.problem_id, t.message_id FROM _targets t
               WHERE NOT EXISTS (SELECT 1 FROM run_problems rp
                                 WHERE rp.run_id = t.run_id AND rp.problem_id = t.problem_id)
                  OR (t.message_id IS NOT NULL AND NOT EXISTS (
                          SELECT 1 FROM messages m WHERE m.message_id = t.message_id
                          AND m.run_id = t.run_id AND m.problem_id = t.problem_id))"""
        ).fetchall()
    finally:
        con.unregister("_targets")
    return [tuple(r) for r in rows]
