"""The DuckDB store: schema, migrations and every query the studio runs.

One process owns the store file read-write (DuckDB allows no second one, not even read-only). Long jobs
never open it: they write Parquet shards into their run folder and ``Store.refresh`` ingests those,
idempotently, keyed by ids and recorded in ``ingested_shards``. Inside the owning process each thread
gets its own cursor of the one connection, which is what DuckDB supports.
"""
from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from agentark import config
from agentark.errors import StoreError, StoreLockedError
from agentark.store.migrations import MIGRATIONS, latest_version

_LOCK_PATTERNS = ("could not set lock", "conflicting lock")
APPEND_ONLY_TABLES = {"curation_marks", "step_labels", "metrics"}
# The mark in force per target: the latest row per (run, problem, message-or-none).
_LATEST_MARKS = """SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY run_id, problem_id, coalesce(message_id, '')
                                 ORDER BY created_at DESC, mark_id DESC) AS rn
    FROM curation_marks) WHERE rn = 1"""


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def open_connection(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, turning a lock conflict into an error that says what to do."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        text = str(exc)
        if any(p in text.lower() for p in _LOCK_PATTERNS):
            pid = re.search(r"PID (\d+)", text)
            holder = f"process {pid.group(1)}" if pid else "another process"
            raise StoreLockedError(
                f"The store {path} is held by {holder} (the Studio app or another agentark command). "
                "Stop that process, or use another store with --home DIR or AGENTARK_HOME=DIR. "
                "Debates started from the CLI still run: they write to their run folder and the app "
                "ingests them on its next refresh."
            ) from exc
        raise


class Store:
    """The studio's database; create one per process and share it across threads."""

    def __init__(self, path: Path | str | None = None, read_only: bool = False) -> None:
        self.path = Path(path) if path else config.store_path()
        self._root = open_connection(self.path, read_only=read_only)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        if not read_only:
            self.migrate()

    # -- connection -------------------------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the shared connection."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._root.cursor()
            self._local.cursor = cur
        return cur

    def close(self) -> None:
        self._root.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def df(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list | tuple | None = None):
        # fetchall, not fetchone: DuckDB refuses new work on a cursor with an unfinished result.
        rows = self.con.execute(sql, params or []).fetchall()
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
        con = self.con
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
        )
        applied = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
        for migration in sorted(MIGRATIONS, key=lambda m: m.version):
            if migration.version in applied or migration.version > target:
                continue
            con.execute("BEGIN TRANSACTION")
            try:
                for statement in migration.statements:
                    con.execute(statement)
                con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", [migration.version, migration.name, now()]
                )
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        return self.schema_version()

    # -- runs -------------------------------------------------------------------------------------------
    def register_run(self, meta: dict, problems: pd.DataFrame) -> bool:
        """Insert a run and its problems if the run is new; return whether it was new."""
        with self._write_lock:
            con = self.con
            if con.execute("SELECT 1 FROM runs WHERE run_id = ?", [meta["run_id"]]).fetchall():
                return False
            con.execute("BEGIN TRANSACTION")
            try:
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
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
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
        with self._write_lock:
            con = self.con
            if con.execute(
                "SELECT 1 FROM ingested_shards WHERE run_id = ? AND shard = ?", [run_id, shard]
            ).fetchall():
                return 0
            con.execute("BEGIN TRANSACTION")
            try:
                # A later shard of the same problem (a retry of failed requests) supersedes its earlier rows.
                for table in ("messages", "outcomes"):
                    con.execute(
                        f"DELETE FROM {table} WHERE run_id = ? AND problem_id IN "
                        "(SELECT problem_id FROM read_parquet(?))", [run_id, str(outcomes_path)]
                    )
                con.execute(
                    "INSERT OR IGNORE INTO messages BY NAME SELECT * FROM read_parquet(?)", [str(messages_path)]
                )
                con.execute(
                    "INSERT OR IGNORE INTO outcomes BY NAME SELECT * FROM read_parquet(?)", [str(outcomes_path)]
                )
                n = con.execute("SELECT count(*) FROM read_parquet(?)", [str(messages_path)]).fetchall()[0][0]
                con.execute("INSERT INTO ingested_shards VALUES (?, ?, ?, ?)", [run_id, shard, n, now()])
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
            return 1

    def set_run_status(self, run_id: str, status: str) -> None:
        with self._write_lock:
            self.con.execute("UPDATE runs SET status = ? WHERE run_id = ?", [status, run_id])

    def run_status(self, run_id: str) -> str | None:
        return self.scalar("SELECT status FROM runs WHERE run_id = ?", [run_id])

    def ingested_shards(self, run_id: str) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT shard FROM ingested_shards WHERE run_id = ?", [run_id]).fetchall()}

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
            f"""WITH latest AS ({_LATEST_MARKS}),
               marks AS (
                   SELECT run_id,
                          count(*) FILTER (WHERE message_id IS NULL AND mark = 'keep') AS kept_problems,
                          count(*) FILTER (WHERE message_id IS NULL AND mark = 'exclude') AS excluded_problems,
                          count(*) FILTER (WHERE message_id IS NOT NULL AND mark = 'keep') AS kept_messages,
                          count(*) FILTER (WHERE message_id IS NOT NULL AND mark = 'exclude') AS excluded_messages
                   FROM latest GROUP BY run_id)
               SELECT r.run_id, r.kind, r.method, r.dataset, r.model, r.status, r.created_at,
                      coalesce(p.n, 0) AS problems, coalesce(o.done, 0) AS done, o.accuracy,
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
        return round_accuracy(self.con, run_id, "messages")

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
        sql = f"SELECT * FROM ({_LATEST_MARKS}) WHERE $run IS NULL OR run_id = $run ORDER BY run_id, problem_id, message_id NULLS FIRST"
        return self.con.execute(sql, {"run": run_id}).df()

    # -- jobs -------------------------------------------------------------------------------------------
    def upsert_job(self, job: dict) -> None:
        with self._write_lock:
            self.con.execute(
                """INSERT INTO jobs (job_id, kind, config_json, pid, status, log_path, started_at, ended_at, run_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (job_id) DO UPDATE SET pid = excluded.pid, status = excluded.status,
                       started_at = excluded.started_at, ended_at = excluded.ended_at""",
                [job["job_id"], job["kind"], json.dumps(job.get("config", {}), sort_keys=True), job.get("pid"),
                 job["status"], job.get("log_path"), job.get("started_at"), job.get("ended_at"), job.get("run_id")],
            )

    def set_job_status(self, job_id: str, status: str, ended: bool = False) -> None:
        with self._write_lock:
            self.con.execute(
                "UPDATE jobs SET status = ?, ended_at = CASE WHEN ? THEN coalesce(ended_at, ?) ELSE ended_at END WHERE job_id = ?",
                [status, ended, now(), job_id],
            )

    def jobs(self) -> pd.DataFrame:
        return self.df("SELECT * FROM jobs ORDER BY started_at DESC NULLS LAST")

    # -- refresh ----------------------------------------------------------------------------------------
    def refresh(self) -> int:
        """Register new run folders, ingest finished debate and Monte-Carlo label shards and register trained
        model folders; return how many."""
        from agentark.models import sync_models
        from agentark.montecarlo import sync_mc_jobs
        from agentark.runfolder import sync_store

        return sync_store(self) + sync_mc_jobs(self) + sync_models(self)


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
