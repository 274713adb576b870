"""A run's folder: the only thing a running job writes, and what the store ingests.

Layout under ``$AGENTARK_HOME/runs/RUN_ID/``: ``run.json`` (the run row: config, model, versions,
commit), ``problems.parquet`` (the run's problems in order), ``shards/`` (finished problems: one
``NAME.messages.parquet`` and one ``NAME.outcomes.parquet`` per chunk), ``progress.json`` and
``worker.log``. Every file is written under a temporary name and renamed, and a shard counts as finished
only once its outcomes file exists (it is renamed last), so a job killed at any moment leaves either a
whole shard or none.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from agentark import config
from agentark.errors import JobError

MESSAGE_SCHEMA = pa.schema([
    ("message_id", pa.string()), ("run_id", pa.string()), ("problem_id", pa.string()), ("agent", pa.string()),
    ("round", pa.int32()), ("role", pa.string()), ("seq", pa.int32()), ("model", pa.string()),
    ("content", pa.string()), ("answer", pa.string()), ("answer_norm", pa.string()), ("is_correct", pa.bool_()),
    ("prompt_tokens", pa.int32()), ("completion_tokens", pa.int32()), ("latency_ms", pa.float64()),
    ("error", pa.string()), ("finish_reason", pa.string()),
])
OUTCOME_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("problem_id", pa.string()), ("final_answer", pa.string()), ("is_correct", pa.bool_()),
    ("consensus", pa.float64()), ("answer_changes", pa.int32()), ("prompt_tokens", pa.int64()),
    ("completion_tokens", pa.int64()), ("engine_calls", pa.int32()), ("wall_ms", pa.float64()),
])


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def pid_alive(pid: int | None) -> bool:
    """Whether a process runs; a zombie (exited, not yet reaped by the app) counts as gone."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


class JobFiles:
    """What every job folder shares (a debate run's or a Monte-Carlo labeling job's): its manifest, shards
    folder, log, progress file and the status read from it. Subclasses give ``path`` and ``manifest``."""

    manifest = "run.json"

    @property
    def path(self) -> Path:
        raise NotImplementedError

    @property
    def shards(self) -> Path:
        return self.path / "shards"

    @property
    def log_path(self) -> Path:
        return self.path / "worker.log"

    def exists(self) -> bool:
        return (self.path / self.manifest).exists()

    def progress(self) -> dict:
        try:
            return json.loads((self.path / "progress.json").read_text())
        except (OSError, ValueError):
            return {}

    def write_progress(self, **fields) -> dict:
        progress = {**self.progress(), **fields, "updated_at": time.time()}
        _atomic_write_bytes(self.path / "progress.json", json.dumps(progress).encode())
        return progress

    def status(self) -> str:
        """queued, running, done, failed, or interrupted (its process died before finishing)."""
        progress = self.progress()
        status = progress.get("status", "queued")
        if status in ("running", "queued") and progress.get("pid") and not pid_alive(progress.get("pid")):
            return "interrupted"
        return status


@dataclass
class RunFolder(JobFiles):
    run_id: str

    @property
    def path(self) -> Path:
        return config.runs_dir() / self.run_id

    def require(self) -> "RunFolder":
        if not self.exists():
            raise JobError(
                f"No run folder for '{self.run_id}' under {config.runs_dir()}. Check the id with "
                "`python -m agentark runs`, or the AGENTARK_HOME it was started with."
            )
        return self

    # -- writing (the job side) ---------------------------------------------------------------------------
    def create(self, meta: dict, problems: pd.DataFrame) -> None:
        self.shards.mkdir(parents=True, exist_ok=True)
        tmp = self.path / "problems.parquet.tmp"
        problems.to_parquet(tmp, index=False)
        os.replace(tmp, self.path / "problems.parquet")
        # run.json last: a folder without it is not a run yet.
        _atomic_write_bytes(self.path / "run.json", json.dumps(meta, indent=2, sort_keys=True).encode())

    def write_shard(self, messages: list[dict], outcomes: list[dict]) -> str:
        name = f"{time.time_ns():020d}"
        for kind, rows, schema in (("messages", messages, MESSAGE_SCHEMA), ("outcomes", outcomes, OUTCOME_SCHEMA)):
            table = pa.Table.from_pylist(rows, schema=schema)
            final = self.shards / f"{name}.{kind}.parquet"
            tmp = final.with_name(final.name + ".tmp")
            pq.write_table(table, tmp)
            os.replace(tmp, final)
        return name

    # -- reading (either side) ----------------------------------------------------------------------------
    def meta(self) -> dict:
        return json.loads((self.require().path / "run.json").read_text())

    def problems(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "problems.parquet")

    def finished_shards(self) -> list[str]:
        if not self.shards.exists():
            return []
        return sorted(p.name[: -len(".outcomes.parquet")] for p in self.shards.glob("*.outcomes.parquet"))

    def shard_paths(self, name: str) -> tuple[Path, Path]:
        return self.shards / f"{name}.messages.parquet", self.shards / f"{name}.outcomes.parquet"

    def problem_states(self) -> dict[str, bool]:
        """problem id -> whether its latest shard finished it without a failed message.

        A problem retried on resume appears in a later shard; that later shard's rows supersede the earlier
        ones, here and in the store.
        """
        states: dict[str, bool] = {}
        for name in self.finished_shards():
            messages_path, outcomes_path = self.shard_paths(name)
            ids = pq.read_table(outcomes_path, columns=["problem_id"]).column(0).to_pylist()
            table = pq.read_table(messages_path, columns=["problem_id", "error"]).to_pydict()
            failed = {pid for pid, err in zip(table["problem_id"], table["error"]) if err is not None}
            states.update({pid: pid not in failed for pid in ids})
        return states

    def done_problem_ids(self) -> set[str]:
        """Problems finished without failed messages: resuming skips these and retries the rest."""
        return {pid for pid, ok in self.problem_states().items() if ok}

    def failed_problem_ids(self) -> set[str]:
        return {pid for pid, ok in self.problem_states().items() if not ok}


def list_run_folders() -> list[RunFolder]:
    return [RunFolder(p.name) for p in sorted(config.runs_dir().iterdir()) if (p / "run.json").exists()]


def sync_store(store) -> int:
    """Register run folders the store has not seen and ingest their finished shards; keep statuses fresh."""
    ingested = 0
    for folder in list_run_folders():
        meta = folder.meta()
        run_id = meta["run_id"]
        known_status = store.run_status(run_id)
        if known_status is None:
            store.register_run(meta, folder.problems())
        seen = store.ingested_shards(run_id)
        for name in folder.finished_shards():
            if name not in seen:
                ingested += store.ingest_shard(run_id, name, *folder.shard_paths(name))
        status = folder.status()
        if status != known_status:
            store.set_run_status(run_id, status)
            if store.scalar("SELECT 1 FROM jobs WHERE job_id = ?", [run_id]):
                store.set_job_status(run_id, status, ended=status in ("done", "failed", "interrupted"))
    return ingested
