"""Job rows and job metrics in the store: what ``Store.refresh`` writes for every kind of job.

Design decision: a metrics shard is ingested once, through the shard ledger (``ledger_tables.ingest_once``,
under the job's id and ``metrics:NAME``), so a refresh interrupted at any point neither loses nor doubles a
metric; the ``metrics`` table is keyed by (job, step, name) and a later shard's value replaces an earlier one,
so a resumed job that logs a step again (a PRM's step-0 data figures, steps replayed after its checkpoint)
holds one value per step.
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from agentark.store import Store
from agentark.store.ledger_tables import ingest_once


def ingest_metrics_shard(store: Store, job_id: str, shard: str, path: Path) -> int:
    """Add one metrics shard's rows to ``metrics`` unless already ingested (a step logged again replaces its
    value); return 1 if it was new."""

    def write(con: duckdb.DuckDBPyConnection) -> int:
        con.execute("INSERT OR REPLACE INTO metrics SELECT job_id, step, name, last(value) FROM read_parquet(?) "
                    "GROUP BY job_id, step, name", [str(path)])
        return con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0][0]

    return ingest_once(store, job_id, f"metrics:{shard}", write)


def upsert_job(store: Store, job: dict) -> None:
    """A job's row as its folder tells it: inserted, or its pid, status and start/end times updated."""
    with store.write() as con:
        con.execute(
            """INSERT INTO jobs (job_id, kind, config_json, pid, status, log_path, started_at, ended_at, run_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (job_id) DO UPDATE SET pid = excluded.pid, status = excluded.status,
                   started_at = excluded.started_at, ended_at = excluded.ended_at""",
            [job["job_id"], job["kind"], json.dumps(job.get("config", {}), sort_keys=True), job.get("pid"),
             job["status"], job.get("log_path"), job.get("started_at"), job.get("ended_at"), job.get("run_id")],
        )


def jobs(store: Store) -> pd.DataFrame:
    """Every job row, most recently started first."""
    return store.df("SELECT * FROM jobs ORDER BY started_at DESC NULLS LAST")


def job_states(store: Store) -> dict[str, tuple]:
    """job id -> (status, pid, started_at, ended_at) as stored: what a refresh compares folders with."""
    with store.connection() as con:
        rows = con.execute("SELECT job_id, status, pid, started_at, ended_at FROM jobs").fetchall()
    return {job_id: (status, pid, started, ended) for job_id, status, pid, started, ended in rows}


def job_metrics(store: Store, job_id: str, name: str | None = None) -> pd.DataFrame:
    """A job's metrics in step order (one name, or all of them)."""
    return store.df(
        "SELECT step, name, value FROM metrics WHERE job_id = $job AND ($name IS NULL OR name = $name) "
        "ORDER BY name, step",
        {"job": job_id, "name": name},
    )
