"""Every query behind step corrections: the step a person wrote in place of a wrong one (and optionally the rest).

Corrections are append-only, like step labels: each row says who wrote it, when, which step it replaces (its id,
and a copy of its text and offsets, which stay true after the message is segmented again) and the text written.
The one design decision: a correction always sits on a step its author marked wrong, so the batch that stores
corrections also appends that author's -1 label (at the correction's time) where they never gave the step one,
in the same transaction as the labels and corrections of the batch (one store operation per batch from the browser).
"""
from __future__ import annotations

import pandas as pd

from agentark.store import Store, frame_view, operation
from agentark.store.label_tables import LABEL_COLUMNS, in_marks

CORRECTION_COLUMNS = ["correction_id", "step_id", "message_id", "original_text", "char_start", "char_end", "text",
                      "rest", "note", "annotator", "created_at"]


@operation
def steps_by_id(store: Store, step_ids: list[str]) -> pd.DataFrame:
    """The stored steps among ``step_ids`` (id, message, text, offsets)."""
    ids = list(dict.fromkeys(step_ids))
    return store.con.execute(
        f"SELECT step_id, message_id, text, char_start, char_end FROM steps WHERE step_id IN ({in_marks(ids)})",
        ids).df()


def write_batch(store: Store, labels: pd.DataFrame, corrections: pd.DataFrame) -> dict[str, int]:
    """Append label rows and correction rows in one transaction; rows whose ids exist are skipped, so a batch
    sent twice stores once. A correction's author who never labelled its step -1 gets that label with it.
    Returns how many labels and corrections were new."""
    labels = labels.reindex(columns=LABEL_COLUMNS)
    corrections = corrections.reindex(columns=CORRECTION_COLUMNS)
    with store.transaction() as con:
        before = con.execute("SELECT (SELECT count(*) FROM step_labels), (SELECT count(*) FROM step_corrections)"
                             ).fetchall()[0]
        if not labels.empty:
            with frame_view(con, "_batch_labels", labels):
                con.execute("INSERT OR IGNORE INTO step_labels BY NAME SELECT * FROM _batch_labels")
        if not corrections.empty:
            with frame_view(con, "_batch_corrections", corrections):
                fresh = con.execute(
                    """SELECT c.* FROM _batch_corrections c
                       WHERE c.correction_id NOT IN (SELECT correction_id FROM step_corrections)""").df()
                con.execute("INSERT OR IGNORE INTO step_corrections BY NAME SELECT * FROM _batch_corrections")
            if not fresh.empty:
                with frame_view(con, "_fresh_corrections", fresh):
                    con.execute(
                        """INSERT INTO step_labels (label_id, step_id, value, source, annotator, confidence, flag,
                                                    note, created_at)
                           SELECT 'h:' || c.correction_id, c.step_id, -1, 'human', c.annotator, 1.0, false,
                                  'corrected', c.created_at
                           FROM _fresh_corrections c
                           WHERE NOT EXISTS (SELECT 1 FROM step_labels l
                                             WHERE l.step_id = c.step_id AND l.source = 'human'
                                               AND l.annotator = c.annotator AND l.value = -1)
                           ON CONFLICT DO NOTHING""")
        after = con.execute("SELECT (SELECT count(*) FROM step_labels), (SELECT count(*) FROM step_corrections)"
                            ).fetchall()[0]
    return {"labels": after[0] - before[0], "corrections": after[1] - before[1]}


@operation
def step_corrections(store: Store, step_ids: list[str]) -> pd.DataFrame:
    """Every correction written for the given steps, oldest first."""
    ids = list(dict.fromkeys(step_ids))
    return store.con.execute(
        f"""SELECT {', '.join(CORRECTION_COLUMNS)} FROM step_corrections
            WHERE step_id IN ({in_marks(ids)}) ORDER BY created_at, correction_id""", ids).df()


@operation
def problem_corrections(store: Store, run_id: str, problem_id: str) -> pd.DataFrame:
    """Every correction of the messages of one problem of one run, with the step's position (-1 once the message
    was segmented again without that step), oldest first."""
    return store.con.execute(
        f"""SELECT c.{', c.'.join(CORRECTION_COLUMNS)}, coalesce(s.idx, -1) AS step_idx
            FROM step_corrections c JOIN messages m USING (message_id) LEFT JOIN steps s USING (step_id)
            WHERE m.run_id = ? AND m.problem_id = ? ORDER BY c.created_at, c.correction_id""",
        [run_id, problem_id]).df()


@operation
def corrections_in_context(store: Store, run_ids: list[str] | None = None) -> pd.DataFrame:
    """Every correction of the given runs' messages with its message and problem, for the exports."""
    return store.con.execute(
        f"""SELECT c.{', c.'.join(CORRECTION_COLUMNS)}, m.run_id, m.problem_id, m.content, m.round, m.seq, m.agent,
                   p.question, p.reference_answer
            FROM step_corrections c JOIN messages m USING (message_id) JOIN problems p ON p.problem_id = m.problem_id
            WHERE ($runs IS NULL OR list_contains($runs, m.run_id))
            ORDER BY m.run_id, m.problem_id, m.seq, c.char_start, c.created_at, c.correction_id""",
        {"runs": list(run_ids) if run_ids else None}).df()


def count_corrections(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM step_corrections"))
