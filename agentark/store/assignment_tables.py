"""Queries behind annotators' queues: which steps each person holds, the share of a run labelled twice, progress.

Design decision: a step is held by whoever's queue took it (``step_claims``) or labelled it (a human label), so
labels given before assignments existed count too. A step is in the overlap of its run when a hash of its id
falls under the run's share (``label_assignments``, the latest row per run): the choice needs no stored list,
is the same for everyone, and keeps its steps when the share grows. An annotator's queue takes a step nobody
else holds, or an overlap step fewer than two others hold.
"""
from __future__ import annotations

import pandas as pd

from agentark.store import Store, frame_view, operation

_BUCKETS = 1_000_000
# The share in force per run.
_SHARES = """SELECT run_id, arg_max(overlap, set_at) AS overlap FROM label_assignments GROUP BY run_id"""
_HOLDERS = """SELECT step_id, annotator AS who FROM step_claims
              UNION SELECT step_id, annotator FROM step_labels WHERE source = 'human' AND annotator IS NOT NULL"""
# A predicate over ``s`` (steps) and ``m`` (messages) that keeps the steps ``$who``'s queue may take.
AVAILABLE = f"""($who IS NULL OR (
    SELECT count(DISTINCT h.who) FROM ({_HOLDERS}) h WHERE h.step_id = s.step_id AND h.who <> $who
) < CASE WHEN (hash(s.step_id) % {_BUCKETS}) < coalesce(
        (SELECT a.overlap FROM ({_SHARES}) a WHERE a.run_id = m.run_id), 0) * {_BUCKETS} THEN 2 ELSE 1 END)"""


def set_overlap(store: Store, run_ids: list[str], overlap: float, by: str | None, at) -> None:
    """Set the share of each run's steps that two annotators label."""
    with store.transaction() as con:
        con.executemany("INSERT INTO label_assignments VALUES (?, ?, ?, ?)",
                        [[run_id, float(overlap), by, at] for run_id in run_ids])


def overlaps(store: Store) -> pd.DataFrame:
    """The share labelled twice per run that has one set."""
    return store.df(_SHARES + " ORDER BY run_id")


def claim(store: Store, step_ids: list[str], who: str, at) -> None:
    """Record that ``who``'s queue took these steps (taking one twice changes nothing)."""
    if not step_ids:
        return
    frame = pd.DataFrame({"step_id": list(step_ids), "annotator": who, "claimed_at": at})
    with store.write() as con:
        with frame_view(con, "_claims", frame):
            con.execute("INSERT OR IGNORE INTO step_claims SELECT step_id, annotator, claimed_at FROM _claims")


@operation
def progress(store: Store, run_ids: list[str] | None = None) -> pd.DataFrame:
    """Per annotator: steps held, steps labelled (a human label in force), and how many of them are overlap."""
    return store.con.execute(
        f"""WITH held AS (
                SELECT h.step_id, h.who, m.run_id FROM ({_HOLDERS}) h
                JOIN steps s USING (step_id) JOIN messages m USING (message_id)
                WHERE $runs IS NULL OR list_contains($runs, m.run_id)),
            labelled AS (
                SELECT DISTINCT step_id, annotator AS who FROM step_labels
                WHERE source = 'human' AND value IS NOT NULL)
            SELECT h.who AS annotator, count(*) AS held, count(l.step_id) AS labelled,
                   count(*) FILTER (WHERE (hash(h.step_id) % {_BUCKETS}) < coalesce(a.overlap, 0) * {_BUCKETS})
                       AS overlap_held
            FROM held h LEFT JOIN labelled l USING (step_id, who) LEFT JOIN ({_SHARES}) a USING (run_id)
            GROUP BY h.who ORDER BY h.who""",
        {"runs": list(run_ids) if run_ids else None}).df()
