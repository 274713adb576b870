"""Every query behind steps, step labels, label imports and exports.

Step labels are append-only: a label is never updated or deleted, and the label in force for a step and
a source (or a step and an annotator) is the latest row with a value, ordered by ``created_at`` then by
insertion order (``rowid``), so two labels written in the same microsecond still have a defined winner. An
automatic source withdraws a label it no longer gives by appending a row without a value (``WITHDRAWN``); a
person's row without a value is a flag and leaves their label in force.
Curation is applied here, in one place: a problem or a message whose mark in force is ``exclude`` never
reaches an export.
"""
from __future__ import annotations

import json

import duckdb
import pandas as pd

from agentark.clock import now
from agentark.errors import ConfigError
from agentark.store import Store, operation
from agentark.store.assignment_tables import AVAILABLE
from agentark.store.curation_tables import LATEST_MARKS
from agentark.store.ledger_tables import ingest_once
from agentark.store.run_tables import insert_run

LABEL_COLUMNS = ["label_id", "step_id", "value", "source", "annotator", "confidence", "flag", "note",
                 "created_at", "soft_value"]
_RUN_FILTER = "($runs IS NULL OR list_contains($runs, m.run_id))"
# The step context every labeling view needs: message, problem, and the run it came from.
_STEP_CONTEXT = f"""
    SELECT s.step_id, s.message_id, s.idx, s.text, s.char_start, s.char_end, s.segmenter,
           coalesce(s.claim, true) AS claim,
           m.run_id, m.problem_id, m.agent, m.round, m.role, m.seq, m.answer, m.is_correct,
           p.question, p.reference_answer
    FROM steps s JOIN messages m USING (message_id) JOIN problems p ON p.problem_id = m.problem_id
    WHERE {_RUN_FILTER}"""
# The rows that can be in force: every row with a value, and an automatic source's withdrawals.
_COUNTS = "(value IS NOT NULL OR source <> 'human')"
_IN_FORCE = f"""SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY step_id, {{part}} ORDER BY created_at DESC, rid DESC) AS rn
    FROM (SELECT *, rowid AS rid FROM step_labels WHERE {_COUNTS} {{where}})) WHERE rn = 1 AND value IS NOT NULL"""
WITHDRAWN = "withdrawn: the labeler no longer gives this label"


def _held(who: str | None) -> str:
    """The queue filter of one annotator's assignment; none for a queue of every step."""
    return "" if who is None else f"AND {AVAILABLE}"


def _who(who: str | None) -> dict:
    return {} if who is None else {"who": who}


def _runs(run_ids: list[str] | None) -> list[str] | None:
    return list(run_ids) if run_ids else None


# -- steps ------------------------------------------------------------------------------------------------
@operation
def messages_to_segment(store: Store, run_ids: list[str] | None, roles: list[str]) -> pd.DataFrame:
    return store.con.execute(
        f"""SELECT m.message_id, m.content, p.question FROM messages m JOIN problems p USING (problem_id)
            WHERE {_RUN_FILTER} AND list_contains($roles, m.role) AND m.error IS NULL
            ORDER BY m.run_id, m.problem_id, m.seq""",
        {"runs": _runs(run_ids), "roles": list(roles)},
    ).df()


def replace_steps(store: Store, message_ids: list[str], rows: list[dict],
                  moved: list[tuple[str, str]] = ()) -> None:
    """Make ``rows`` the steps of ``message_ids`` in one transaction; unchanged steps keep their ids. ``moved``
    (label id, new step id) copies those labels onto the new steps, under new ids; the rows they copy stay."""
    frame = pd.DataFrame(rows, columns=["step_id", "message_id", "idx", "text", "char_start", "char_end",
                                        "segmenter", "claim"])
    frame["created_at"] = now()
    ids = pd.DataFrame({"message_id": list(message_ids)})
    with store.transaction() as con:
        con.register("_new_steps", frame)
        con.register("_seg_messages", ids)
        if moved:
            con.register("_moved_labels", pd.DataFrame(list(moved), columns=["label_id", "new_step_id"]))
            con.execute(
                """INSERT INTO step_labels BY NAME
                   SELECT l.* EXCLUDE (label_id, step_id), 'moved:' || l.label_id || ':' || m.new_step_id AS label_id,
                          m.new_step_id AS step_id
                   FROM step_labels l JOIN _moved_labels m USING (label_id)
                   ON CONFLICT DO NOTHING""")
            con.unregister("_moved_labels")
        try:
            con.execute(
                """DELETE FROM steps WHERE message_id IN (SELECT message_id FROM _seg_messages)
                   AND step_id NOT IN (SELECT step_id FROM _new_steps)"""
            )
            con.execute(
                """INSERT INTO steps BY NAME SELECT * FROM _new_steps
                   ON CONFLICT (step_id) DO UPDATE SET idx = excluded.idx, char_start = excluded.char_start,
                       char_end = excluded.char_end, segmenter = excluded.segmenter, claim = excluded.claim"""
            )
        finally:
            con.unregister("_new_steps")
            con.unregister("_seg_messages")


@operation
def steps_of_messages(store: Store, message_ids: list[str]) -> pd.DataFrame:
    """The stored steps (id, message, place, text) of the given messages."""
    return store.con.execute(
        "SELECT step_id, message_id, idx, text FROM steps WHERE list_contains($ids, message_id)",
        {"ids": list(message_ids)}).df()


@operation
def human_rows(store: Store, step_ids: list[str]) -> pd.DataFrame:
    """Every human label row of the given steps, oldest first, with whether it is the annotator's label in force
    on its step (``in_force``: their latest row, with a value)."""
    return store.con.execute(
        """SELECT label_id, step_id, annotator, value, created_at,
                  value IS NOT NULL AND row_number() OVER (PARTITION BY step_id, annotator, value IS NULL
                                                          ORDER BY created_at DESC, rowid DESC) = 1 AS in_force
           FROM step_labels WHERE source = 'human' AND list_contains($ids, step_id)
           ORDER BY created_at, rowid""",
        {"ids": list(step_ids)}).df()


@operation
def steps_in_context(store: Store, run_ids: list[str] | None = None) -> pd.DataFrame:
    """Every stored step with its message and problem, in transcript order."""
    return store.con.execute(
        _STEP_CONTEXT + " ORDER BY m.run_id, m.problem_id, m.seq, s.idx", {"runs": _runs(run_ids)}
    ).df()


@operation
def message_with_problem(store: Store, message_id: str) -> dict:
    row = store.con.execute(
        """SELECT m.*, p.question, p.reference_answer, p.meta_json FROM messages m
           JOIN problems p USING (problem_id) WHERE m.message_id = ?""",
        [message_id],
    ).df()
    return row.iloc[0].to_dict() if not row.empty else {}


@operation
def transcript_messages(store: Store, run_ids: list[str] | None = None) -> pd.DataFrame:
    """Messages of the given runs with their problem and reference solution, for the automatic labelers."""
    return store.con.execute(
        f"""SELECT m.message_id, m.run_id, m.problem_id, m.agent, m.round, m.role, m.seq, m.content, m.answer,
                   m.is_correct, p.question, p.reference_answer, p.meta_json
            FROM messages m JOIN problems p USING (problem_id)
            WHERE {_RUN_FILTER} AND m.error IS NULL ORDER BY m.run_id, m.problem_id, m.seq""",
        {"runs": _runs(run_ids)},
    ).df()


# -- the labeling queue -----------------------------------------------------------------------------------
# Each queue order is three numeric keys (smaller first) followed by transcript order, which makes every
# step's position total and lets a page continue from the last row shown (keyset paging).
_QUEUE_KEYS = {
    "unlabeled": ("k.human", "0", "0"),
    "disagreement": ("CASE WHEN k.auto_signs > 1 THEN 0 ELSE 1 END", "k.human", "-k.auto_n"),
    "confidence": ("k.human", "coalesce(k.min_confidence, -1.0)", "0"),
    "first-error": ("CASE WHEN k.is_correct = false AND NOT k.message_bad THEN 0 ELSE 1 END", "k.human", "0"),
}
# Only these orders need the labels of every source; the others read the human labels alone.
_QUEUE_ALL_SOURCES = {"disagreement", "confidence", "first-error"}
QUEUE_CURSOR = ["k1", "k2", "k3", "run_id", "problem_id", "seq", "idx", "step_id"]


def queue_orders() -> list[str]:
    return list(_QUEUE_KEYS)


@operation
def queue_page(store: Store, order: str, run_ids: list[str] | None = None, as_of=None,
               after: tuple | None = None, limit: int | None = None, who: str | None = None) -> pd.DataFrame:
    """One page of the labeling queue: steps in ``order``, after the cursor row ``after``.

    Labels count only when created at or before ``as_of``, so the pages of one queue keep the order it
    had when it was opened even while people label (a labelled step does not jump ahead of the cursor).
    The result has the cursor columns (``QUEUE_CURSOR``); the last row's values are the next ``after``.
    ``who``: only steps that annotator's queue may take (``assignment_tables.AVAILABLE``).
    """
    k1, k2, k3 = _QUEUE_KEYS[order]
    sources = "" if order in _QUEUE_ALL_SOURCES else "AND source = 'human'"
    message_bad = ("bool_or(coalesce(l.bad, false)) OVER (PARTITION BY c.message_id)"
                   if order == "first-error" else "false")
    sql = f"""
        WITH ctx AS (
            SELECT s.step_id, s.message_id, s.idx, m.run_id, m.problem_id, m.seq, m.is_correct
            FROM steps s JOIN messages m USING (message_id) WHERE {_RUN_FILTER} {_held(who)}),
        in_force AS (
            SELECT * FROM (
                SELECT step_id, source, arg_max(value, (created_at, rid)) AS value,
                       arg_max(confidence, (created_at, rid)) AS confidence
                FROM (SELECT *, rowid AS rid FROM step_labels
                      WHERE {_COUNTS} AND ($as_of IS NULL OR created_at <= $as_of) {sources})
                GROUP BY step_id, source) WHERE value IS NOT NULL),
        per_step AS (
            SELECT step_id, bool_or(source = 'human') AS human, bool_or(value < 0) AS bad,
                   count(DISTINCT sign(value)) FILTER (WHERE source <> 'human') AS auto_signs,
                   count(*) FILTER (WHERE source <> 'human') AS auto_n,
                   min(confidence) FILTER (WHERE source <> 'human') AS min_confidence
            FROM in_force GROUP BY step_id),
        k AS (
            SELECT c.*, coalesce(l.human, false)::INT AS human, coalesce(l.auto_signs, 0) AS auto_signs,
                   coalesce(l.auto_n, 0) AS auto_n, l.min_confidence, {message_bad} AS message_bad
            FROM ctx c LEFT JOIN per_step l USING (step_id)),
        keyed AS (
            SELECT ({k1})::DOUBLE AS k1, ({k2})::DOUBLE AS k2, ({k3})::DOUBLE AS k3, k.run_id, k.problem_id,
                   k.seq, k.idx, k.step_id, k.human, k.auto_signs, k.auto_n, k.min_confidence, k.is_correct
            FROM k)
        SELECT * FROM keyed
        {"" if after is None else "WHERE (k1, k2, k3, run_id, problem_id, seq, idx, step_id) > "
                                  "($a1, $a2, $a3, $a4, $a5, $a6, $a7, $a8)"}
        ORDER BY k1, k2, k3, run_id, problem_id, seq, idx, step_id
        {"" if limit is None else "LIMIT $limit"}"""
    params = {"runs": _runs(run_ids), "as_of": as_of, **_who(who)}
    if after is not None:
        k1v, k2v, k3v, run_id, problem_id, seq, idx, step_id = after
        params.update(a1=float(k1v), a2=float(k2v), a3=float(k3v), a4=str(run_id), a5=str(problem_id),
                      a6=int(seq), a7=int(idx), a8=str(step_id))
    if limit is not None:
        params["limit"] = int(limit)
    return store.con.execute(sql, params).df()


@operation
def find_steps(store: Store, run_ids: list[str] | None = None, problem_ids: list[str] | None = None,
               message_ids: list[str] | None = None, contains: str = "", source: str | None = None,
               limit: int | None = None) -> pd.DataFrame:
    """Steps in transcript order with their context, filtered by run, problem, message, text and the source of a
    label in force; ``matching`` on every row counts all matches."""
    sql = f"""
        WITH ctx AS ({_STEP_CONTEXT}),
        with_source AS (
            SELECT DISTINCT step_id FROM ({_IN_FORCE.format(part='source', where='')}) WHERE source = $source)
        SELECT c.step_id, c.run_id, c.problem_id, c.message_id, c.agent, c.round, c.idx, c.claim, c.text,
               c.is_correct, count(*) OVER () AS matching
        FROM ctx c
        WHERE ($problems IS NULL OR list_contains($problems, c.problem_id))
          AND ($messages IS NULL OR list_contains($messages, c.message_id))
          AND ($contains = '' OR contains(lower(c.text), $contains))
          AND ($source IS NULL OR c.step_id IN (SELECT step_id FROM with_source))
        ORDER BY c.run_id, c.problem_id, c.seq, c.idx
        {"" if limit is None else "LIMIT $limit"}"""
    params = {"runs": _runs(run_ids), "problems": list(problem_ids) if problem_ids else None,
              "messages": list(message_ids) if message_ids else None, "contains": (contains or "").lower(),
              "source": source}
    if limit is not None:
        params["limit"] = int(limit)
    return store.con.execute(sql, params).df()


@operation
def labels_of_steps(store: Store, step_ids: list[str]) -> pd.DataFrame:
    """The labels in force (per source) of the given steps."""
    return store.con.execute(
        f"""SELECT step_id, source, value, confidence, annotator FROM
            ({_IN_FORCE.format(part='source', where='AND list_contains($ids, step_id)')}) ORDER BY step_id, source""",
        {"ids": list(step_ids)}).df()


@operation
def count_steps(store: Store, run_ids: list[str] | None = None, who: str | None = None) -> int:
    return int(store.con.execute(
        f"SELECT count(*) FROM steps s JOIN messages m USING (message_id) WHERE {_RUN_FILTER} {_held(who)}",
        {"runs": _runs(run_ids), **_who(who)}).fetchall()[0][0])


def in_marks(values: list) -> str:
    """``?`` placeholders for an IN list: DuckDB looks each value up in the table's index (a list parameter
    or a join would scan the table, seconds at a million steps)."""
    return ", ".join("?" * len(values)) or "NULL"


@operation
def steps_with_context(store: Store, step_ids: list[str]) -> pd.DataFrame:
    """The given steps, each with its message (content included) and problem: the labeling card's window.
    Three index lookups (steps, their messages, their problems), not a join over the tables."""
    ids = list(dict.fromkeys(step_ids))
    steps = store.con.execute(
        f"SELECT step_id, message_id, idx, text, char_start, char_end FROM steps WHERE step_id IN ({in_marks(ids)})",
        ids).df()
    mids = list(dict.fromkeys(steps["message_id"]))
    messages = store.con.execute(
        f"""SELECT message_id, run_id, problem_id, agent, round, content, answer, is_correct FROM messages
            WHERE message_id IN ({in_marks(mids)})""", mids).df()
    pids = list(dict.fromkeys(messages["problem_id"]))
    problems = store.con.execute(
        f"SELECT problem_id, question, reference_answer FROM problems WHERE problem_id IN ({in_marks(pids)})",
        pids).df()
    return steps.merge(messages, on="message_id").merge(problems, on="problem_id")


@operation
def label_histories(store: Store, step_ids: list[str]) -> pd.DataFrame:
    """Every label ever given to the given steps, oldest first per step (index lookups, as above)."""
    ids = list(dict.fromkeys(step_ids))
    return store.con.execute(
        f"""SELECT step_id, created_at, source, annotator, value, soft_value, confidence, flag, note, label_id
            FROM step_labels WHERE step_id IN ({in_marks(ids)}) ORDER BY step_id, created_at, rowid""", ids).df()


AUTO_FILTERS = ("any", "some negative", "some positive", "disagreeing")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@operation
def filtered_steps(store: Store, run_ids: list[str] | None, only_unlabeled: bool, auto_filter: str, contains: str,
                   limit: int | None) -> pd.DataFrame:
    """Steps in transcript order with the human label in force (and who gave it) and one column per other
    source's label in force, filtered; ``matching`` on every row counts all matches, ``limit`` or not."""
    sources = [r[0] for r in store.con.execute(
        "SELECT DISTINCT source FROM step_labels WHERE source <> 'human' AND value IS NOT NULL ORDER BY source"
    ).fetchall()]
    params: dict = {"runs": _runs(run_ids), "unlabeled": bool(only_unlabeled), "auto": auto_filter,
                    "contains": (contains or "").lower()}
    pivot = "".join(f", max(value) FILTER (WHERE source = $src{i}) AS {_quoted(src)}" for i, src in enumerate(sources))
    params.update({f"src{i}": src for i, src in enumerate(sources)})
    columns = "".join(f", p.{_quoted(src)}" for src in sources)
    sql = f"""
        WITH ctx AS (
            SELECT s.step_id, s.idx, s.text, m.run_id, m.problem_id, m.seq, m.agent, m.round
            FROM steps s JOIN messages m USING (message_id) WHERE {_RUN_FILTER}),
        in_force AS (
            SELECT * FROM (
                SELECT step_id, source, arg_max(value, (created_at, rid)) AS value,
                       arg_max(annotator, (created_at, rid)) AS annotator
                FROM (SELECT *, rowid AS rid FROM step_labels WHERE {_COUNTS}) GROUP BY step_id, source)
            WHERE value IS NOT NULL),
        per_step AS (
            SELECT step_id, max(value) FILTER (WHERE source = 'human') AS human,
                   max(annotator) FILTER (WHERE source = 'human') AS human_by,
                   count(DISTINCT sign(value)) FILTER (WHERE source <> 'human') AS auto_signs,
                   coalesce(bool_or(value < 0) FILTER (WHERE source <> 'human'), false) AS auto_negative,
                   coalesce(bool_or(value > 0) FILTER (WHERE source <> 'human'), false) AS auto_positive{pivot}
            FROM in_force GROUP BY step_id)
        SELECT c.step_id, c.run_id, c.agent, c.round, c.idx, c.text, p.human, p.human_by{columns},
               count(*) OVER () AS matching
        FROM ctx c LEFT JOIN per_step p USING (step_id)
        WHERE (NOT $unlabeled OR p.human IS NULL)
          AND ($auto = 'any' OR ($auto = 'disagreeing' AND p.auto_signs > 1)
               OR ($auto = 'some negative' AND p.auto_negative) OR ($auto = 'some positive' AND p.auto_positive))
          AND ($contains = '' OR contains(lower(c.text), $contains))
        ORDER BY c.run_id, c.problem_id, c.seq, c.idx
        {"" if limit is None else "LIMIT $limit"}"""
    if limit is not None:
        params["limit"] = int(limit)
    return store.con.execute(sql, params).df()


# -- labels -----------------------------------------------------------------------------------------------
def append_labels(store: Store, rows: pd.DataFrame, known_steps_only: bool = False) -> int:
    """Append label rows in one transaction; a row whose label_id exists is skipped (idempotent ingestion).

    With ``known_steps_only`` a row for a step id that is not stored refuses the whole batch (ConfigError naming
    the ids), checked in the same transaction, so nothing is written and no orphan label is ever stored.
    """
    if rows.empty:
        return 0
    frame = rows.reindex(columns=LABEL_COLUMNS)
    with store.transaction() as con:
        con.register("_labels", frame)
        try:
            if known_steps_only:
                unknown = [r[0] for r in con.execute(
                    "SELECT DISTINCT step_id FROM _labels WHERE step_id NOT IN (SELECT step_id FROM steps) "
                    "ORDER BY step_id").fetchall()]
                if unknown:
                    raise ConfigError(
                        f"No step {', '.join(unknown[:3])}{' ...' if len(unknown) > 3 else ''} in the store; nothing "
                        "was labelled. Find step ids with `python -m agentark steps` (by run, problem, message or "
                        "text), or segment the run first.")
            before = con.execute("SELECT count(*) FROM step_labels").fetchall()[0][0]
            con.execute("INSERT OR IGNORE INTO step_labels BY NAME SELECT * FROM _labels")
            return con.execute("SELECT count(*) FROM step_labels").fetchall()[0][0] - before
        finally:
            con.unregister("_labels")


@operation
def labels_in_force(store: Store, run_ids: list[str] | None = None, sources: list[str] | None = None) -> pd.DataFrame:
    """The latest label with a value per (step, source), for steps of the given runs."""
    return store.con.execute(
        f"""SELECT l.* EXCLUDE (rid) FROM ({_IN_FORCE.format(part='source', where='')}) l
            JOIN steps s USING (step_id) JOIN messages m USING (message_id)
            WHERE {_RUN_FILTER} AND ($sources IS NULL OR list_contains($sources, l.source))""",
        {"runs": _runs(run_ids), "sources": list(sources) if sources else None},
    ).df()


@operation
def human_labels_by_annotator(store: Store, run_ids: list[str] | None = None) -> pd.DataFrame:
    """Each annotator's latest human label per step."""
    return store.con.execute(
        f"""SELECT l.step_id, l.annotator, l.value FROM
            ({_IN_FORCE.format(part="coalesce(annotator, '')", where="AND source = 'human'")}) l
            JOIN steps s USING (step_id) JOIN messages m USING (message_id) WHERE {_RUN_FILTER}""",
        {"runs": _runs(run_ids)},
    ).df()


@operation
def latest_human_rows(store: Store, step_ids: list[str]) -> pd.DataFrame:
    """The latest human row per step (value or not), which carries the step's flag in force."""
    return store.con.execute(
        """SELECT * EXCLUDE (rn, rid) FROM (
               SELECT *, rowid AS rid, row_number() OVER (PARTITION BY step_id ORDER BY created_at DESC, rowid DESC) rn
               FROM step_labels WHERE source = 'human' AND list_contains($ids, step_id)) WHERE rn = 1""",
        {"ids": list(step_ids)},
    ).df()


@operation
def label_history(store: Store, step_id: str) -> pd.DataFrame:
    """Every label ever given to a step, oldest first."""
    return store.con.execute(
        """SELECT created_at, source, annotator, value, soft_value, confidence, flag, note, label_id
           FROM step_labels WHERE step_id = ? ORDER BY created_at, rowid""",
        [step_id],
    ).df()


def count_labels(store: Store, source: str, annotator: str | None = None) -> int:
    return int(store.scalar(
        "SELECT count(*) FROM step_labels WHERE source = ? AND (? IS NULL OR annotator = ?)", [source, annotator, annotator]
    ))


def label_counts(store: Store) -> pd.DataFrame:
    return store.df(
        """SELECT source, coalesce(annotator, '') AS annotator, count(*) AS labels,
                  count(DISTINCT step_id) AS steps FROM step_labels GROUP BY ALL ORDER BY source, annotator"""
    )


# -- imports ----------------------------------------------------------------------------------------------
def insert_imported(store: Store, meta: dict, problems: pd.DataFrame, run_problems: pd.DataFrame,
                    messages: pd.DataFrame, steps: pd.DataFrame, labels: pd.DataFrame) -> None:
    """Store one batch of an imported labeled set (a run of kind 'import') in one transaction.

    A streamed import calls this once per batch: the run row comes with the first batch, and rows whose
    keys are already stored are left as they are, so importing the same file again adds nothing.
    """
    with store.transaction() as con:
        insert_run(con, meta, "done")
        for name, frame, table in (("_imp_p", problems, "problems"), ("_imp_rp", run_problems, "run_problems"),
                                   ("_imp_m", messages, "messages"), ("_imp_s", steps, "steps"),
                                   ("_imp_l", labels.reindex(columns=LABEL_COLUMNS), "step_labels")):
            if frame.empty:
                continue
            con.register(name, frame)
            try:
                con.execute(f"INSERT OR IGNORE INTO {table} BY NAME SELECT * FROM {name}")
            finally:
                con.unregister(name)


# -- Monte-Carlo shards -----------------------------------------------------------------------------------
def ingest_label_shard(store: Store, job_id: str, shard: str, labels: pd.DataFrame) -> int:
    """Ingest one Monte-Carlo shard of labels once, recorded in the shard ledger under the job's id."""

    def write(con: duckdb.DuckDBPyConnection) -> int:
        con.register("_mc", labels.reindex(columns=LABEL_COLUMNS))
        try:
            con.execute("INSERT OR IGNORE INTO step_labels BY NAME SELECT * FROM _mc")
        finally:
            con.unregister("_mc")
        return len(labels)

    return ingest_once(store, job_id, shard, write)


def job_row(store: Store, job_id: str) -> dict | None:
    rows = store.df("SELECT * FROM jobs WHERE job_id = ?", [job_id])
    return rows.iloc[0].to_dict() if not rows.empty else None


# -- exports ----------------------------------------------------------------------------------------------
@operation
def curated_messages(store: Store, run_ids: list[str] | None = None, roles: tuple[str, ...] = ("solver",)) -> pd.DataFrame:
    """Messages of the given runs minus excluded problems and excluded messages, with their problem."""
    return store.con.execute(
        f"""WITH latest AS ({LATEST_MARKS}),
            dropped_problems AS (SELECT run_id, problem_id FROM latest WHERE message_id IS NULL AND mark = 'exclude'),
            dropped_messages AS (SELECT message_id FROM latest WHERE message_id IS NOT NULL AND mark = 'exclude')
            SELECT m.message_id, m.run_id, m.problem_id, m.agent, m.round, m.role, m.seq, m.content, m.answer,
                   m.answer_norm, m.is_correct, m.finish_reason, p.question, p.reference_answer
            FROM messages m JOIN problems p USING (problem_id)
            WHERE {_RUN_FILTER} AND list_contains($roles, m.role) AND m.error IS NULL
              AND NOT EXISTS (SELECT 1 FROM dropped_problems d WHERE d.run_id = m.run_id AND d.problem_id = m.problem_id)
              AND m.message_id NOT IN (SELECT message_id FROM dropped_messages)
            ORDER BY m.run_id, m.problem_id, m.seq""",
        {"runs": _runs(run_ids), "roles": list(roles)},
    ).df()


def curated_message_ids(store: Store, run_ids: list[str] | None = None) -> set[str]:
    """Ids of every message of the given runs (any role, failed ones too) that curation did not exclude."""
    rows = store.con.execute(
        f"""WITH latest AS ({LATEST_MARKS})
            SELECT m.message_id FROM messages m
            WHERE {_RUN_FILTER}
              AND NOT EXISTS (SELECT 1 FROM latest d WHERE d.message_id IS NULL AND d.mark = 'exclude'
                              AND d.run_id = m.run_id AND d.problem_id = m.problem_id)
              AND NOT EXISTS (SELECT 1 FROM latest d WHERE d.message_id = m.message_id AND d.mark = 'exclude')""",
        {"runs": _runs(run_ids)},
    ).fetchall()
    return {r[0] for r in rows}


def record_export(store: Store, row: dict) -> None:
    with store.transaction() as con:
        con.execute(
            "INSERT INTO exports (export_id, kind, path, sha256, n_rows, filters_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [row["export_id"], row["kind"], row["path"], row["sha256"], row["n_rows"],
             json.dumps(row["filters"], sort_keys=True), now()],
        )


def list_exports(store: Store) -> pd.DataFrame:
    return store.df("SELECT * FROM exports ORDER BY created_at DESC")
