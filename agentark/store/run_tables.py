"""Runs, their problems, messages and outcomes: the rows a debate run (or an import) puts in the store.

Design decision: a run row is written by one function, ``insert_run``, inside the caller's transaction, so a
debate run, a labeled-set import and a transcript import store the same columns the same way; and a debate
shard goes in through the shard ledger (``ledger_tables.ingest_once``), once, in one transaction.
"""
from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from agentark.errors import StoreError
from agentark.store import Store
from agentark.store.curation_tables import LATEST_MARKS
from agentark.store.ledger_tables import ingest_once

# A run being imported is stored as "importing pid N" until the import completes; shown as "importing" while
# process N lives and as "interrupted" once it is gone (killed half-way: run the import again to complete it).
_IMPORTING = "importing pid "
INTERRUPTED = "interrupted"

_COUNTED_TABLES = {"messages", "outcomes", "run_problems", "problems", "runs", "jobs"}


def insert_run(con: duckdb.DuckDBPyConnection, run: dict, default_status: str) -> bool:
    """Insert a run's row (from its ``run.json`` fields) in the caller's transaction unless its id is stored;
    return whether it was new. ``default_status`` is the status of a run that names none."""
    if con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run["run_id"]]).fetchall():
        return False
    con.execute(
        """INSERT INTO runs (run_id, kind, method, dataset, model, config_json, status, created_at,
           git_commit, versions_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [run["run_id"], run["kind"], run.get("method"), run.get("dataset"), run.get("model"),
         json.dumps(run.get("config") or {}, sort_keys=True), run.get("status") or default_status,
         datetime.fromisoformat(run["created_at"]), run.get("git_commit"),
         json.dumps(run.get("versions") or {}, sort_keys=True)],
    )
    return True


def register_run(store: Store, meta: dict, problems: pd.DataFrame) -> bool:
    """Insert a run and its problems if the run is new; return whether it was new. Each problem's dataset and
    split are recorded for this run (``run_problems``), since one problem may come from several."""
    run_problems = pd.DataFrame(
        {"run_id": meta["run_id"], "problem_id": problems["problem_id"], "idx": range(len(problems)),
         "dataset": problems["dataset"], "split": problems["split"]}
    )
    with store.transaction() as con:
        if not insert_run(con, meta, "queued"):
            return False
        con.register("_problems", problems)
        con.register("_rp", run_problems)
        try:
            con.execute(
                """INSERT OR IGNORE INTO problems (problem_id, dataset, split, question, reference_answer, meta_json)
                   SELECT problem_id, dataset, split, question, reference_answer, meta_json FROM _problems"""
            )
            con.execute("INSERT OR IGNORE INTO run_problems BY NAME SELECT run_id, problem_id, idx, dataset, split FROM _rp")
        finally:
            con.unregister("_problems")
            con.unregister("_rp")
    return True


def ingest_shard(store: Store, run_id: str, shard: str, messages_path: Path, outcomes_path: Path) -> int:
    """Ingest one finished shard (messages + outcomes); a shard already ingested is skipped."""

    def write(con: duckdb.DuckDBPyConnection) -> int:
        # A later shard of the same problem (a retry of failed requests) supersedes its earlier rows,
        # and the summaries made from them: sync_traces then sees them missing and summarizes anew.
        # A shard written before problem ids followed the question holds old ids: problem_aliases maps them.
        for table in ("messages", "outcomes", "problem_rounds", "problem_traces"):
            con.execute(
                f"DELETE FROM {table} WHERE run_id = ? AND problem_id IN (SELECT coalesce(a.problem_id, s.problem_id) "
                "FROM read_parquet(?) s LEFT JOIN problem_aliases a ON a.old_id = s.problem_id)",
                [run_id, str(outcomes_path)]
            )
        con.execute("INSERT OR IGNORE INTO messages BY NAME SELECT * FROM read_parquet(?)", [str(messages_path)])
        con.execute("INSERT OR IGNORE INTO outcomes BY NAME SELECT * FROM read_parquet(?)", [str(outcomes_path)])
        for table in ("messages", "outcomes"):
            con.execute(f"UPDATE {table} SET problem_id = a.problem_id FROM problem_aliases a "
                        f"WHERE {table}.run_id = ? AND {table}.problem_id = a.old_id", [run_id])
        return con.execute("SELECT count(*) FROM read_parquet(?)", [str(messages_path)]).fetchall()[0][0]

    return ingest_once(store, run_id, shard, write)


def set_run_status(store: Store, run_id: str, status: str) -> None:
    with store.write() as con:
        con.execute("UPDATE runs SET status = ? WHERE run_id = ?", [status, run_id])


def run_status(store: Store, run_id: str) -> str | None:
    return shown_status(store.scalar("SELECT status FROM runs WHERE run_id = ?", [run_id]))


def importing_status() -> str:
    """The stored status of a run this process is importing into."""
    return f"{_IMPORTING}{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped by its parent still answers signals
        return "\tZ" not in Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0]
    except (OSError, IndexError):
        return True


def shown_status(status: str | None) -> str | None:
    """A run's status as listings show it: an import whose process is gone is ``interrupted``."""
    if isinstance(status, str) and status.startswith(_IMPORTING):
        return "importing" if _alive(int(status[len(_IMPORTING):])) else INTERRUPTED
    return status


def get_run(store: Store, run_id: str) -> dict:
    rows = store.df("SELECT * FROM runs WHERE run_id = ?", [run_id])
    if rows.empty:
        raise StoreError(f"No run '{run_id}' in {store.path}. List runs with `python -m agentark runs`.")
    row = rows.iloc[0].to_dict()
    row["status"] = shown_status(row.get("status"))
    row["config"] = json.loads(row.pop("config_json"))
    row["versions"] = json.loads(row.pop("versions_json") or "{}")
    return row


def list_runs(store: Store) -> pd.DataFrame:
    """One row per run: what it ran, how far it got, its final accuracy (with how many final answers came
    from a tied vote) and its curation counts."""
    return store.df(
        f"""WITH latest AS ({LATEST_MARKS}),
           marks AS (
               SELECT run_id,
                      count(*) FILTER (WHERE message_id IS NULL AND mark = 'keep') AS kept_problems,
                      count(*) FILTER (WHERE message_id IS NULL AND mark = 'exclude') AS excluded_problems,
                      count(*) FILTER (WHERE message_id IS NOT NULL AND mark = 'keep') AS kept_messages,
                      count(*) FILTER (WHERE message_id IS NOT NULL AND mark = 'exclude') AS excluded_messages
               FROM latest GROUP BY run_id)
           SELECT r.run_id, r.name, coalesce(r.tags, []) AS tags, r.kind, r.method, r.dataset, r.model,
                  r.status, r.created_at, coalesce(p.n, 0) AS problems, coalesce(o.done, 0) AS done, o.accuracy,
                  coalesce(o.ties, 0) AS ties,
                  coalesce(m.n, 0) AS messages,
                  coalesce(k.kept_problems, 0) AS kept_problems,
                  coalesce(k.excluded_problems, 0) AS excluded_problems,
                  coalesce(k.kept_messages, 0) AS kept_messages,
                  coalesce(k.excluded_messages, 0) AS excluded_messages
           FROM runs r
           LEFT JOIN marks k USING (run_id)
           LEFT JOIN (SELECT run_id, count(*) n FROM run_problems GROUP BY run_id) p USING (run_id)
           LEFT JOIN (SELECT run_id, count(*) done, avg(is_correct::INT) accuracy,
                             count(*) FILTER (WHERE vote_tie) AS ties FROM outcomes GROUP BY run_id) o
                USING (run_id)
           LEFT JOIN (SELECT run_id, count(*) n FROM messages GROUP BY run_id) m USING (run_id)
           ORDER BY r.created_at DESC"""
    ).assign(status=lambda f: f["status"].map(shown_status))


def round_accuracy(store: Store, run_id: str) -> pd.DataFrame:
    """Accuracy per round of a stored run (see ``accuracy_per_round``)."""
    with store.connection() as con:
        return accuracy_per_round(con, run_id, "messages")


def final_answers(store: Store, run_id: str) -> dict[str, str | None]:
    """problem id -> the stored final answer of each finished problem of a run."""
    rows = store.df("SELECT problem_id, final_answer FROM outcomes WHERE run_id = ?", [run_id])
    return {p: (None if a is None or (not isinstance(a, str) and pd.isna(a)) else a)
            for p, a in zip(rows["problem_id"], rows["final_answer"])}


def final_accuracy(store: Store, run_id: str) -> float | None:
    """Share of a run's finished problems whose final answer is right; None before any finished."""
    return store.scalar("SELECT avg(is_correct::INT) FROM outcomes WHERE run_id = ?", [run_id])


def has_outcome(store: Store, run_id: str, problem_id: str) -> bool:
    """Whether this problem of this run is finished (has its outcome row)."""
    return bool(store.scalar("SELECT count(*) FROM outcomes WHERE run_id = ? AND problem_id = ?",
                             [run_id, problem_id]))


def run_problems(store: Store, run_id: str) -> pd.DataFrame:
    """The problems of a run in run order, with their outcome when finished."""
    return store.df(
        """SELECT rp.idx, rp.problem_id, p.question, p.reference_answer, o.final_answer, o.is_correct,
                  o.consensus, o.answer_changes, o.prompt_tokens, o.completion_tokens, o.engine_calls, o.wall_ms
           FROM run_problems rp JOIN problems p USING (problem_id)
           LEFT JOIN outcomes o ON o.run_id = rp.run_id AND o.problem_id = rp.problem_id
           WHERE rp.run_id = ? ORDER BY rp.idx""",
        [run_id],
    )


def problem(store: Store, problem_id: str) -> dict:
    rows = store.df("SELECT * FROM problems WHERE problem_id = ?", [problem_id])
    if rows.empty:
        raise StoreError(f"No problem '{problem_id}' in the store.")
    row = rows.iloc[0].to_dict()
    row["meta"] = json.loads(row.pop("meta_json") or "{}")
    return row


def messages(store: Store, run_id: str, problem_id: str | None = None) -> pd.DataFrame:
    """A run's messages (one problem's, when given) in problem and turn order."""
    sql = "SELECT * FROM messages WHERE run_id = ?"
    params: list = [run_id]
    if problem_id is not None:
        sql += " AND problem_id = ?"
        params.append(problem_id)
    return store.df(sql + " ORDER BY problem_id, seq", params)


def count(store: Store, table: str, run_id: str | None = None) -> int:
    """Rows of one of the run tables (or ``jobs``), all or one run's."""
    if table not in _COUNTED_TABLES:
        raise StoreError(f"Unknown table {table}.")
    if run_id is None:
        return int(store.scalar(f"SELECT count(*) FROM {table}"))
    return int(store.scalar(f"SELECT count(*) FROM {table} WHERE run_id = ?", [run_id]))


def shard_relations(con: duckdb.DuckDBPyConnection, shards: list[tuple[Path, Path]]) -> None:
    """Create ``messages`` and ``outcomes`` tables in ``con`` from a run's finished shards, (messages file,
    outcomes file) in the order they were written, keeping each problem's rows from its latest shard only:
    the same rows the store keeps once a retry supersedes a problem's earlier shard."""
    for i, table in enumerate(("messages", "outcomes")):
        paths = [str(pair[i]) for pair in shards]
        order = {path: n for n, path in enumerate(paths)}
        con.execute("CREATE OR REPLACE TEMP TABLE _shard_order (filename VARCHAR, n INTEGER)")
        con.executemany("INSERT INTO _shard_order VALUES (?, ?)", list(order.items()))
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table} AS
                SELECT * EXCLUDE (filename, n, latest) FROM (
                    SELECT r.*, o.n, max(o.n) OVER (PARTITION BY r.problem_id) AS latest
                    FROM read_parquet(?, filename = true, union_by_name = true) r JOIN _shard_order o USING (filename))
                WHERE n = latest""",
            [paths],
        )
    con.execute("DROP TABLE _shard_order")


def accuracy_per_round(con: duckdb.DuckDBPyConnection, run_id: str, relation: str = "messages") -> pd.DataFrame:
    """Accuracy per round of a run: mean over agents' answers, and of the majority vote per problem.

    ``relation`` names the messages (the store table, or a view over a run's Parquet shards),
    so the CLI can report from shards when another process holds the store. A problem whose agents gave no
    answer in a round counts as wrong in that round's vote.
    """
    return con.execute(
        f"""
        WITH solver AS (
            SELECT problem_id, round, seq, answer_norm, coalesce(is_correct, false) AS ok
            FROM {relation} WHERE run_id = $run AND role = 'solver'),
        groups AS (
            SELECT problem_id, round, answer_norm, count(*) AS n, bool_or(ok) AS ok, min(seq) AS first_seq
            FROM solver WHERE answer_norm IS NOT NULL GROUP BY ALL),
        vote AS (
            SELECT problem_id, round, arg_max(ok, n * 100000 - first_seq) AS ok FROM groups GROUP BY ALL),
        per_round AS (
            SELECT round, avg(ok::INT) AS agent_accuracy, count(*) AS messages,
                   count(DISTINCT problem_id) AS problems
            FROM solver GROUP BY round)
        SELECT pr.round, pr.problems, pr.messages, pr.agent_accuracy,
               coalesce((SELECT sum(v.ok::INT) FROM vote v WHERE v.round = pr.round), 0) / pr.problems
                   AS vote_accuracy
        FROM per_round pr ORDER BY pr.round
        """,
        {"run": run_id},
    ).df()


def grading_rows(store: Store, run_id: str) -> pd.DataFrame:
    """Every message of a run with what grading it needs (its problem's question and reference answer)
    and its stored grade, plus whether its problem is finished (``has_outcome``), in problem and turn order."""
    return store.df(
        """SELECT m.message_id, m.problem_id, m.agent, m.round, m.role, m.seq, m.content, m.finish_reason,
                  m.error, m.answer, m.answer_kind, m.is_correct, p.question, p.reference_answer,
                  o.problem_id IS NOT NULL AS has_outcome
           FROM messages m JOIN problems p USING (problem_id)
           LEFT JOIN outcomes o ON o.run_id = m.run_id AND o.problem_id = m.problem_id
           WHERE m.run_id = ? ORDER BY m.problem_id, m.seq""",
        [run_id],
    )


def write_grades(store: Store, run_id: str, messages: pd.DataFrame, outcomes: pd.DataFrame) -> None:
    """Store re-graded messages (message_id, answer, answer_norm, answer_kind, is_correct) and outcomes
    (problem_id, final_answer, is_correct, consensus, answer_changes, vote_tie) of one run, in one
    transaction, and drop the run's trace summaries so ``sync_traces`` derives them again from the new grades."""
    with store.transaction() as con:
        con.register("_grades", messages)
        con.register("_decisions", outcomes)
        try:
            con.execute(
                """UPDATE messages SET answer = g.answer, answer_norm = g.answer_norm, answer_kind = g.answer_kind,
                          is_correct = g.is_correct
                   FROM _grades g WHERE messages.message_id = g.message_id AND messages.run_id = ?""", [run_id])
            con.execute(
                """UPDATE outcomes SET final_answer = d.final_answer, is_correct = d.is_correct,
                          consensus = d.consensus, answer_changes = d.answer_changes, vote_tie = d.vote_tie
                   FROM _decisions d WHERE outcomes.problem_id = d.problem_id AND outcomes.run_id = ?""", [run_id])
            for table in ("problem_rounds", "problem_traces"):
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        finally:
            con.unregister("_grades")
            con.unregister("_decisions")


def run_ids(store: Store) -> list[str]:
    """Every stored run's id, oldest first."""
    return [r[0] for r in store.con.execute("SELECT run_id FROM runs ORDER BY created_at, run_id").fetchall()]
