"""Job rows and job metrics in the store: what ``Store.refresh`` writes for every kind of job.

Design decision: a metrics shard is ingested once, in the same transaction that records it in the shard
ledger (``ingested_shards`` under the job's id and ``metrics:NAME``), so a refresh interrupted at any point
neither loses nor doubles a metric; the ``metrics`` table itself has no key and is append-only.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from agentark.clock import now
from agentark.store import Store


def ingest_metrics_shard(store: Store, job_id: str, shard: str, path: Path) -> int:
    """Append one metrics shard's rows to ``metrics`` unless already ingested; return 1 if it was new."""
    ledger = f"metrics:{shard}"
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM ingested_shards WHERE run_id = ? AND shard = ?", [job_id, ledger]).fetchall():
            return 0
        con.execute("INSERT INTO metrics BY NAME SELECT job_id, step, name, value FROM read_parquet(?)", [str(path)])
        n = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0][0]
        con.execute("INSERT INTO ingested_shards VALUES (?, ?, ?, ?)", [job_id, ledger, n, now()])
    return 1


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
