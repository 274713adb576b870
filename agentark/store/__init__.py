"""The DuckDB store: schema, migrations and every query the studio runs.

The one design decision: **nobody holds the store file between operations.** DuckDB lets one process
open a file read-write and no other process open it at all, so the app, the CLI and annotators' scripts
take turns: every operation (a query, an ingest, a migration) opens the file, does its work and closes it.
An operation that finds the file held by another process waits and retries with jittered exponential
backoff, up to ``AGENTARK_LOCK_TIMEOUT`` seconds (default 30), then raises ``StoreLockedError`` naming
the holder. Inside a process, threads share DuckDB's one instance of the file (each thread opens its own
connection to it) and this process's writes go one at a time. Long jobs never open the store: they write
Parquet shards into their run folder and ``Store.refresh`` ingests those, idempotently, keyed by ids and
recorded in ``ingested_shards``.
"""
from __future__ import annotations

import json
import os
import random
import re
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from functools import wraps
from typing import Callable, Iterator, TypeVar

import duckdb
import pandas as pd

from agentark import config
from agentark.clock import now
from agentark.errors import StoreError, StoreLockedError
from agentark.store.ingesters import registered
from agentark.store.migrations import MIGRATIONS, latest_version

_LOCK_PATTERNS = ("could not set lock", "conflicting lock")
# Backoff between attempts to open a held file: short at first (most operations take milliseconds), capped
# so that a waiter notices a released file within a fraction of a second.
_FIRST_WAIT_S = 0.005
_MAX_WAIT_S = 0.2
_TRANSACTION_WORDS = ("BEGIN", "COMMIT", "ROLLBACK", "ABORT", "END", "START")
APPEND_ONLY_TABLES = {"curation_marks", "step_labels", "metrics"}
# The mark in force per target: the latest row per (run, problem, message-or-none).
LATEST_MARKS = """SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY run_id, problem_id, coalesce(message_id, '')
                                 ORDER BY created_at DESC, mark_id DESC) AS rn
    FROM curation_marks) WHERE rn = 1"""


_F = TypeVar("_F", bound=Callable)


def operation(fn: _F) -> _F:
    """Run a store function (first argument: the ``Store``) as one operation: one connection for all its statements."""

    @wraps(fn)
    def wrapper(store: "Store", *args, **kwargs):
        with store.connection():
            return fn(store, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _holder(message: str) -> str:
    """Who holds the file, from DuckDB's lock message: the pid and, where /proc tells, its command line."""
    pid = re.search(r"PID (\d+)", message)
    if not pid:
        return "another process"
    try:
        argv = Path(f"/proc/{pid.group(1)}/cmdline").read_bytes().split(b"\0")
        command = " ".join(Path(a.decode(errors="replace")).name if i == 0 else a.decode(errors="replace")
                           for i, a in enumerate(argv) if a)
    except OSError:
        command = ""
    command = command if len(command) <= 100 else command[:97] + "..."
    return f"process {pid.group(1)}" + (f" ({command})" if command else "")


def open_connection(path: Path, read_only: bool = False, timeout_s: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, waiting out another process's hold for up to ``timeout_s`` seconds.

    Attempts back off exponentially with jitter (so that waiting writers do not retry in step); when the
    bound passes, a ``StoreLockedError`` names the holder and what to do.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout_s = config.lock_timeout_s() if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    wait = _FIRST_WAIT_S
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            text = str(exc)
            if not any(p in text.lower() for p in _LOCK_PATTERNS):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreLockedError(
                    f"The store {path} is still held by {_holder(text)} after waiting {timeout_s:g} s. Studio "
                    "commands and the app hold it only for one operation at a time, so that process is in a "
                    "long operation or is not an agentark command: let it finish or stop it, wait longer with "
                    "AGENTARK_LOCK_TIMEOUT=SECONDS, or use another store with --home DIR or AGENTARK_HOME=DIR. "
                    "Debates started from the CLI still run: they write to their run folder and the store "
                    "ingests them on its next refresh."
                ) from exc
            time.sleep(min(left, wait * random.uniform(0.5, 1.5)))
            wait = min(wait * 2, _MAX_WAIT_S)


class _Result:
    """A statement's rows, fetched before its connection closed; read them the way a DuckDB result reads."""

    def __init__(self, relation: duckdb.DuckDBPyRelation | None) -> None:
        self._table = relation.to_arrow_table() if relation is not None else None
        self._rows: list[tuple] | None = None

    def _relation(self) -> duckdb.DuckDBPyRelation:
        if self._table is None:
            raise StoreError("That statement returned no rows to fetch.")
        return duckdb.connect().from_arrow(self._table)

    def df(self) -> pd.DataFrame:
        return self._relation().df()

    fetchdf = df

    def fetchall(self) -> list[tuple]:
        if self._rows is None:
            self._rows = self._relation().fetchall()
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple | None:
        if self._rows is None:
            self._rows = self._relation().fetchall()
        return self._rows.pop(0) if self._rows else None

    def arrow(self):
        return self._table


class _OneStatement:
    """``Store.con`` outside an operation: every ``execute`` is its own operation (open, run, fetch, close).

    Statements that only make sense together on one connection (a transaction, a registered DataFrame)
    are refused with the way to do them: ``with store.connection() as con`` or ``store.transaction()``.
    """

    def __init__(self, store: "Store") -> None:
        self._store = store

    def execute(self, sql: str, params: list | tuple | dict | None = None) -> _Result:
        first_word = (sql.split(None, 1) or [""])[0].upper().rstrip(";")
        if first_word in _TRANSACTION_WORDS:
            raise StoreError(
                "A transaction needs one connection for all its statements: use `with store.transaction() as con:`."
            )
        with self._store.connection() as con:
            return _Result(con.sql(sql, params=params or None))

    def register(self, *_args) -> None:
        raise StoreError("A registered DataFrame lives on one connection: use `with store.connection() as con:`.")

    unregister = register


class _WriteOperation:
    """This process's writers one at a time, each on one connection held for the whole write.

    Reentrant, so a write may call another store write (say, inside ``Store.transaction``).
    """

    def __init__(self, store: "Store") -> None:
        self._store = store
        self._lock = threading.RLock()
        self._open = threading.local()

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self._lock.acquire()
        try:
            operation = self._store.connection()
            connection = operation.__enter__()
        except BaseException:
            self._lock.release()
            raise
        self._open.__dict__.setdefault("stack", []).append(operation)
        return connection

    def __exit__(self, *exc) -> None:
        try:
            self._open.stack.pop().__exit__(*exc)
        finally:
            self._lock.release()


class Store:
    """The studio's database. Cheap to keep (it holds no connection between operations); share it across threads."""

    def __init__(self, path: Path | str | None = None, read_only: bool = False,
                 lock_timeout_s: float | None = None) -> None:
        self.path = Path(path) if path else config.store_path()
        self.read_only = read_only
        # None: read AGENTARK_LOCK_TIMEOUT at each operation, so a long-lived store (the app's) follows it.
        self.lock_timeout_s = lock_timeout_s
        self._local = threading.local()
        self._write_lock = _WriteOperation(self)
        if read_only:
            with self.connection():
                pass  # fail now, not at the first query, when the file cannot be opened
        else:
            self.migrate()

    # -- connection -------------------------------------------------------------------------------------
    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One operation: this thread's connection, opened on entry and closed when the outermost block ends.

        Nested blocks (a method calling another) share the connection, so an operation opens the file once.
        """
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            self._local.connection = open_connection(self.path, self.read_only, self.lock_timeout_s)
        self._local.depth = depth + 1
        try:
            yield self._local.connection
        finally:
            self._local.depth -= 1
            if self._local.depth == 0:
                connection, self._local.connection = self._local.connection, None
                connection.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write in one transaction: committed when the block ends, rolled back if it raises."""
        with self._write_lock as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    @property
    def con(self) -> duckdb.DuckDBPyConnection | _OneStatement:
        """Inside ``with store.connection()`` (or a write), that connection; outside, one operation per statement."""
        connection = getattr(self._local, "connection", None)
        return connection if connection is not None else _OneStatement(self)

    def close(self) -> None:
        """Nothing stays open between operations; kept so ``with Store() as store`` reads naturally."""

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def df(self, sql: str, params: list | tuple | dict | None = None) -> pd.DataFrame:
        with self.connection() as con:
            return con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list | tuple | dict | None = None):
        with self.connection() as con:
            # fetchall, not fetchone: DuckDB refuses new work on a cursor with an unfinished result.
            rows = con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    # -- schema -----------------------------------------------------------------------------------------
    def schema_version(self) -> int:
        exists = self.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        )
        if not exists:
            return 0
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    def migrate(self, target: int | None = None) -> int:
        """Apply every migration above the stored version (up to ``target``); return the new version."""
        target = latest_version() if target is None else target
        with self._write_lock as con:
            return self._migrate(con, target)

    def _migrate(self, con: duckdb.DuckDBPyConnection, target: int) -> int:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
        )
        applied = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
        for migration in sorted(MIGRATIONS, key=lambda m: m.version):
            if migration.version in applied or migration.version > target:
                continue
            with self.transaction() as tx:
                for statement in migration.statements:
                    tx.execute(statement)
                tx.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [migration.version, migration.name, now()])
        return self.schema_version()

    # -- runs -------------------------------------------------------------------------------------------
    def register_run(self, meta: dict, problems: pd.DataFrame) -> bool:
        """Insert a run and its problems if the run is new; return whether it was new."""
        with self.transaction() as con:
            if con.execute("SELECT 1 FROM runs WHERE run_id = ?", [meta["run_id"]]).fetchall():
                return False
            con.execute(
                """INSERT INTO runs (run_id, kind, method, dataset, model, config_json, status, created_at,
                   git_commit, versions_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    meta["run_id"], meta["kind"], meta.get("method"), meta.get("dataset"), meta.get("model"),
                    json.dumps(meta["config"], sort_keys=True), meta.get("status", "queued"),
                    datetime.fromisoformat(meta["created_at"]), meta.get("git_commit"),
                    json.dumps(meta.get("versions", {}), sort_keys=True),
                ],
            )
            self._insert_problems(con, problems)
            run_problems = pd.DataFrame(
                {"run_id": meta["run_id"], "problem_id": problems["problem_id"], "idx": range(len(problems))}
            )
            con.register("_rp", run_problems)
            con.execute("INSERT OR IGNORE INTO run_problems SELECT run_id, problem_id, idx FROM _rp")
            con.unregister("_rp")
        return True

    @staticmethod
    def _insert_problems(con: duckdb.DuckDBPyConnection, problems: pd.DataFrame) -> None:
        con.register("_problems", problems)
        con.execute(
            """INSERT OR IGNORE INTO problems (problem_id, dataset, split, question, reference_answer, meta_json)
               SELECT problem_id, dataset, split, question, reference_answer, meta_json FROM _problems"""
        )
        con.unregister("_problems")

    def ingest_shard(self, run_id: str, shard: str, messages_path: Path, outcomes_path: Path) -> int:
        """Ingest one finished shard (messages + outcomes); a shard already ingested is skipped."""
        with self.transaction() as con:
            if con.execute(
                "SELECT 1 FROM ingested_shards WHERE run_id = ? AND shard = ?", [run_id, shard]
            ).fetchall():
                return 0
            # A later shard of the same problem (a retry of failed requests) supersedes its earlier rows,
            # and the summaries made from them: sync_traces then sees them missing and summarizes anew.
            for table in ("messages", "outcomes", "problem_rounds", "problem_traces"):
                con.execute(
                    f"DELETE FROM {table} WHERE run_id = ? AND problem_id IN "
                    "(SELECT problem_id FROM read_parquet(?))", [run_id, str(outcomes_path)]
                )
            con.execute("INSERT OR IGNORE INTO messages BY NAME SELECT * FROM read_parquet(?)", [str(messages_path)])
            con.execute("INSERT OR IGNORE INTO outcomes BY NAME SELECT * FROM read_parquet(?)", [str(outcomes_path)])
            n = con.execute("SELECT count(*) FROM read_parquet(?)", [str(messages_path)]).fetchall()[0][0]
            con.execute("INSERT INTO ingested_shards VALUES (?, ?, ?, ?)", [run_id, shard, n, now()])
        return 1

    def set_run_status(self, run_id: str, status: str) -> None:
        with self._write_lock:
            self.con.execute("UPDATE runs SET status = ? WHERE run_id = ?", [status, run_id])

    def run_status(self, run_id: str) -> str | None:
        return self.scalar("SELECT status FROM runs WHERE run_id = ?", [run_id])

    def ingested_shards(self, run_id: str) -> set[str]:
        with self.connection() as con:
            return {r[0] for r in con.execute("SELECT shard FROM ingested_shards WHERE run_id = ?", [run_id]).fetchall()}

    def get_run(self, run_id: str) -> dict:
        rows = self.df("SELECT * FROM runs WHERE run_id = ?", [run_id])
        if rows.empty:
            raise StoreError(f"No run '{run_id}' in {self.path}. List runs with `python -m agentark runs`.")
        row = rows.iloc[0].to_dict()
        row["config"] = json.loads(row.pop("config_json"))
        row["versions"] = json.loads(row.pop("versions_json") or "{}")
        return row

    def list_runs(self) -> pd.DataFrame:
        """One row per run: what it ran, how far it got, its final accuracy and its curation counts."""
        return self.df(
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
                      coalesce(m.n, 0) AS messages,
                      coalesce(k.kept_problems, 0) AS kept_problems,
                      coalesce(k.excluded_problems, 0) AS excluded_problems,
                      coalesce(k.kept_messages, 0) AS kept_messages,
                      coalesce(k.excluded_messages, 0) AS excluded_messages
               FROM runs r
               LEFT JOIN marks k USING (run_id)
               LEFT JOIN (SELECT run_id, count(*) n FROM run_problems GROUP BY run_id) p USING (run_id)
               LEFT JOIN (SELECT run_id, count(*) done, avg(is_correct::INT) accuracy FROM outcomes GROUP BY run_id) o
                    USING (run_id)
               LEFT JOIN (SELECT run_id, count(*) n FROM messages GROUP BY run_id) m USING (run_id)
               ORDER BY r.created_at DESC"""
        )

    def round_accuracy(self, run_id: str) -> pd.DataFrame:
        with self.connection() as con:
            return round_accuracy(con, run_id, "messages")

    def final_accuracy(self, run_id: str) -> float | None:
        """Share of a run's finished problems whose final answer is right; None before any finished."""
        return self.scalar("SELECT avg(is_correct::INT) FROM outcomes WHERE run_id = ?", [run_id])

    def has_outcome(self, run_id: str, problem_id: str) -> bool:
        """Whether this problem of this run is finished (has its outcome row)."""
        return bool(self.scalar("SELECT count(*) FROM outcomes WHERE run_id = ? AND problem_id = ?",
                                [run_id, problem_id]))

    def run_problems(self, run_id: str) -> pd.DataFrame:
        """The problems of a run in run order, with their outcome when finished."""
        return self.df(
            """SELECT rp.idx, rp.problem_id, p.question, p.reference_answer, o.final_answer, o.is_correct,
                      o.consensus, o.answer_changes, o.prompt_tokens, o.completion_tokens, o.engine_calls, o.wall_ms
               FROM run_problems rp JOIN problems p USING (problem_id)
               LEFT JOIN outcomes o ON o.run_id = rp.run_id AND o.problem_id = rp.problem_id
               WHERE rp.run_id = ? ORDER BY rp.idx""",
            [run_id],
        )

    def problem(self, problem_id: str) -> dict:
        rows = self.df("SELECT * FROM problems WHERE problem_id = ?", [problem_id])
        if rows.empty:
            raise StoreError(f"No problem '{problem_id}' in the store.")
        row = rows.iloc[0].to_dict()
        row["meta"] = json.loads(row.pop("meta_json") or "{}")
        return row

    def messages(self, run_id: str, problem_id: str | None = None) -> pd.DataFrame:
        sql = "SELECT * FROM messages WHERE run_id = ?"
        params: list = [run_id]
        if problem_id is not None:
            sql += " AND problem_id = ?"
            params.append(problem_id)
        return self.df(sql + " ORDER BY problem_id, seq", params)

    def count(self, table: str, run_id: str | None = None) -> int:
        if table not in {"messages", "outcomes", "run_problems", "problems", "runs", "jobs"}:
            raise StoreError(f"Unknown table {table}.")
        if run_id is None:
            return int(self.scalar(f"SELECT count(*) FROM {table}"))
        return int(self.scalar(f"SELECT count(*) FROM {table} WHERE run_id = ?", [run_id]))

    # -- curation ---------------------------------------------------------------------------------------
    def append_rows(self, table: str, rows: pd.DataFrame) -> None:
        """Append a DataFrame to an append-only table (columns matched by name), in one transaction."""
        if table not in APPEND_ONLY_TABLES:
            raise StoreError(f"{table} is not an append-only table.")
        with self._write_lock:
            con = self.con
            con.register("_rows", rows)
            try:
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
            finally:
                con.unregister("_rows")

    def latest_marks(self, run_id: str | None = None) -> pd.DataFrame:
        sql = f"SELECT * FROM ({LATEST_MARKS}) WHERE $run IS NULL OR run_id = $run ORDER BY run_id, problem_id, message_id NULLS FIRST"
        return self.df(sql, {"run": run_id})

    # -- jobs -------------------------------------------------------------------------------------------
    def upsert_job(self, job: dict) -> None:
        """A job's row as its folder tells it: inserted, or its pid, status and start/end times updated."""
        with self._write_lock:
            self.con.execute(
                """INSERT INTO jobs (job_id, kind, config_json, pid, status, log_path, started_at, ended_at, run_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (job_id) DO UPDATE SET pid = excluded.pid, status = excluded.status,
                       started_at = excluded.started_at, ended_at = excluded.ended_at""",
                [job["job_id"], job["kind"], json.dumps(job.get("config", {}), sort_keys=True), job.get("pid"),
                 job["status"], job.get("log_path"), job.get("started_at"), job.get("ended_at"), job.get("run_id")],
            )

    def jobs(self) -> pd.DataFrame:
        """Every job row, most recently started first."""
        return self.df("SELECT * FROM jobs ORDER BY started_at DESC NULLS LAST")

    # -- refresh ----------------------------------------------------------------------------------------
    @operation
    def refresh(self) -> int:
        """Run every registered ingester (each job kind's, trained models'): new run and job folders are
        registered and their finished shards ingested, once. Returns how many shards or rows came in.

        One operation: the store is opened once for every folder checked and every shard ingested. The store
        imports no job module: ``import agentark.jobs.builtin`` registers the built-in kinds.
        """
        found = registered()
        if not found:
            raise StoreError(
                "No ingesters are registered, so refresh would find nothing: import agentark.jobs.builtin first "
                "(the app and the CLI do)."
            )
        return sum(ingest(self) for ingest in found.values())


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


def round_accuracy(con: duckdb.DuckDBPyConnection, run_id: str, messages: str = "messages") -> pd.DataFrame:
    """Accuracy per round of a run: mean over agents' answers, and of the majority vote per problem.

    ``messages`` names a relation (the store table, or a view over a run's Parquet shards),
    so the CLI can report from shards when another process holds the store. A problem whose agents gave no
    answer in a round counts as wrong in that round's vote.
    """
    return con.execute(
        f"""
        WITH solver AS (
            SELECT problem_id, round, seq, answer_norm, coalesce(is_correct, false) AS ok
            FROM {messages} WHERE run_id = $run AND role = 'solver'),
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
