"""Existence checks for curation targets, in SQL next to the rest of the store's queries.

Targets are checked in one query over a registered frame, so marking ten thousand problems at once
costs one join, not ten thousand lookups.
"""
from __future__ import annotations

import pandas as pd

from agentark.store import Store, operation


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
