"""What ``Store.refresh`` does for every job kind: the kind's own shards, metrics shards, the job's row.

Design decision: the folder is the source of truth for a job's status and progress; the ``jobs`` table
is a copy refreshed from it, written only when something changed, so an app refreshing every two seconds
does not write to the store while nothing happens.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from agentark.jobs.folder import JobFolder
from agentark.store.job_tables import ingest_metrics_shard, job_states, upsert_job
from agentark.store.ledger_tables import ingested_shards

if TYPE_CHECKING:
    from agentark.store import Store


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def ingest_metrics(store: Store, folder: JobFolder) -> int:
    """Ingest the folder's metrics shards not yet in the store; return how many were new. The ledger is
    read once, so a refresh of a job whose metrics are all in writes nothing."""
    names = folder.finished_shards("metrics")
    if not names:
        return 0
    seen = ingested_shards(store, folder.job_id)
    return sum(ingest_metrics_shard(store, folder.job_id, name, folder.shard_path(name, "metrics"))
               for name in names if f"metrics:{name}" not in seen)


def sync_folders(store: Store, kind: str, folders: list[JobFolder],
                 ingest: Callable[[Store, JobFolder], int]) -> int:
    """Ingest every folder of one kind (its shards with the kind's ``ingest``, then its metrics) and bring its
    job row up to date. Takes the kind's parts, not its record, so the registry imports this module and not
    the other way round."""
    known = job_states(store)
    ingested = 0
    for folder in folders:
        ingested += ingest(store, folder)
        ingested += ingest_metrics(store, folder)
        progress = folder.progress()
        state = (folder.status(), progress.get("pid"), _when(progress.get("started_at")), _when(progress.get("ended_at")))
        if known.get(folder.job_id) != state:
            meta = folder.meta()
            upsert_job(store, {
                "job_id": folder.job_id, "kind": kind, "config": meta.get("config", {}), "status": state[0],
                "pid": state[1], "started_at": state[2], "ended_at": state[3], "log_path": str(folder.log_path),
                "run_id": meta.get("run_id"),
            })
    return ingested
