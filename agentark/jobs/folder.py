"""A job's folder: the only thing a running job writes, and what the store ingests.

Every kind of job (debate, Monte-Carlo labeling, training, evaluation) has the same layout under
``$AGENTARK_HOME/ROOT/JOB_ID/`` (ROOT is the kind's folder, ``jobs`` unless the kind says otherwise):

- the manifest (``job.json``; debates keep ``run.json``): ``job_id``, ``kind``, ``config`` and whatever
  else the kind records; written last when the folder is created, so a folder without it is no job yet;
- ``shards/``: finished work, one Parquet file per batch (``NAME.SUFFIX.parquet``), including the generic
  metrics stream ``NAME.metrics.parquet`` (job_id, step, name, value) that lands in the ``metrics`` table;
- ``checkpoints/``: whatever a training kind saves to resume from (``step-N/`` folders by convention);
- ``progress.json`` (status, done/total, stage, pid, started/ended times, error), ``worker.log``, and
  ``cancel`` while a stop was requested.

Design decision: every file is written under a temporary name and renamed, so a job killed at any moment
leaves either a whole file or none, and a shard counts as finished once it exists under its final name.
Ids are checked before they become paths (``agentark.ids.check_id``), so no id can make a job read or
write outside its root folder.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from agentark import config
from agentark.jobs import slurm

if TYPE_CHECKING:
    import pandas as pd
from agentark.errors import JobError
from agentark.ids import check_id, is_valid_id

STATUSES = ("queued", "running", "done", "failed", "stopped", "interrupted")
FINISHED = ("done", "failed", "stopped", "interrupted")
METRICS_SCHEMA = pa.schema([("job_id", pa.string()), ("step", pa.int64()), ("name", pa.string()),
                            ("value", pa.float64())])


class JobStopped(Exception):
    """Raised inside a job by ``JobFolder.check_cancel`` when a stop was requested; the runner records
    status "stopped" and the job resumes from its finished shards."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` under a temporary name, then rename: readers see all of it or nothing."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def atomic_write_table(path: Path, table: pa.Table) -> None:
    """Write a Parquet table under a temporary name, then rename."""
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def shard_name() -> str:
    """A new shard's name: nanoseconds since the epoch, so names sort in the order they were written."""
    return f"{time.time_ns():020d}"


def pid_alive(pid: int | None) -> bool:
    """Whether a process runs; a zombie (exited, not yet reaped by its parent) counts as gone."""
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


def merge_chunks(main: dict, chunks: list[dict]) -> dict:
    """A job array's progress: running while a task runs, done when all are, otherwise what the tasks ended as
    (failed before interrupted before stopped); ``done`` is the sum of the tasks' (each counts its own share),
    the error the first task's."""
    if not any(chunks):
        return main  # no task has started (or it was stopped before any did)
    statuses = [c.get("status", "queued") for c in chunks]
    if all(s == "done" for s in statuses):
        status = "done"
    else:
        status = next((s for s in ("running", "queued", "failed", "interrupted", "stopped") if s in statuses), "queued")
    ended = [c.get("ended_at") for c in chunks if c.get("ended_at")]
    started = [c.get("started_at") for c in chunks if c.get("started_at")]
    finished = sum(1 for s in statuses if s == "done")
    return {**main, "status": status, "done": sum(int(c.get("done") or 0) for c in chunks),
            "total": main.get("total") or sum(int(c.get("total") or 0) for c in chunks),
            "started_at": min(started) if started else main.get("started_at"),
            "ended_at": max(ended) if status in FINISHED and ended else None,
            "error": next((c["error"] for c in chunks if c.get("error")), None),
            "stage": f"{finished}/{len(chunks)} array tasks done" + (
                f"; {status}" if status != "done" else ""), "pid": None}


class InFolder:
    """A path inside a job's folder, read as an attribute of the folder (``folder.shards``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, folder: "JobFolder", owner: type) -> Path:
        return folder.path / self.name


class JobFolder:
    """One job's folder. Subclasses (one per kind) add the kind's own files and shard readers.

    ``root`` is the folder under ``$AGENTARK_HOME`` holding this kind's jobs, ``manifest`` the manifest's
    file name; both are class attributes so a kind can keep an existing layout.
    """

    root = "jobs"
    manifest = "job.json"
    # How a missing folder is named, and the command that lists the existing ones.
    noun = "job"
    listed_by = "python -m agentark jobs"

    def __init__(self, job_id: str) -> None:
        self.job_id = check_id(job_id, "job id")

    @classmethod
    def of_kind(cls, kind: str) -> list["JobFolder"]:
        """Every folder under this class's root whose manifest says ``kind``, in name order."""
        root = cls.root_dir()
        if not root.exists():
            return []
        found = []
        for path in sorted(root.iterdir()):
            if not (path / cls.manifest).exists() or not is_valid_id(path.name):
                continue  # not a job yet, or a folder made by hand with a name no job could have
            folder = cls(path.name)
            if folder.meta().get("kind") == kind:
                found.append(folder)
        return found

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.job_id!r})"

    # -- where things are ---------------------------------------------------------------------------------
    @classmethod
    def root_dir(cls) -> Path:
        return config.home() / cls.root

    @property
    def path(self) -> Path:
        return self.root_dir() / self.job_id

    @property
    def manifest_path(self) -> Path:
        return self.path / self.manifest

    shards = InFolder("shards")
    # Where a training kind saves what it resumes from: ``checkpoints/step-N/`` by convention.
    checkpoints = InFolder("checkpoints")
    # The worker's output (stdout and stderr), appended to by every run of the job.
    log_path = InFolder("worker.log")
    # Present while a stop is requested; the job polls it between steps.
    cancel_path = InFolder("cancel")

    def checkpoint_dir(self, step: int) -> Path:
        """Where step ``step``'s checkpoint goes (``checkpoints/step-N``); write it under another name and
        rename it there, so a checkpoint that exists is whole."""
        return self.checkpoints / f"step-{int(step)}"

    def latest_checkpoint(self) -> tuple[int, Path] | None:
        """(step, folder) of the newest whole checkpoint, or None: what a resumed training job loads.

        ``checkpoint-N`` folders (what a transformers Trainer given ``checkpoints/`` as its output writes)
        count the same as ``step-N``.
        """
        steps = []
        if self.checkpoints.exists():
            for p in self.checkpoints.iterdir():
                prefix, _, number = p.name.rpartition("-")
                if p.is_dir() and prefix in ("step", "checkpoint") and number.isdigit():
                    steps.append((int(number), p))
        return max(steps) if steps else None

    def exists(self) -> bool:
        return self.manifest_path.exists()

    def require(self):
        """This folder, or a JobError naming where it was looked for."""
        if not self.exists():
            raise JobError(f"No {self.noun} '{self.job_id}' under {self.root_dir()}. Check the id with "
                           f"`{self.listed_by}`, or the AGENTARK_HOME it was started with.")
        return self

    # -- manifest -----------------------------------------------------------------------------------------
    def create(self, meta: dict) -> None:
        """Write the manifest (with this job's id), after the kind wrote its other files; fails if it exists."""
        if self.exists():
            raise JobError(f"Job '{self.job_id}' already exists; resume it, or pick a new id.")
        self.shards.mkdir(parents=True, exist_ok=True)
        # The module defining this folder's kind: a worker process imports it to run the job.
        meta = {"module": type(self).__module__, **meta, "job_id": self.job_id}
        atomic_write_bytes(self.manifest_path, json.dumps(meta, indent=2, sort_keys=True, default=str).encode())
        self.write_progress(status="queued")

    def meta(self) -> dict:
        return json.loads(self.require().manifest_path.read_text())

    def kind(self) -> str:
        return self.meta()["kind"]

    # -- progress and status ------------------------------------------------------------------------------
    def _read(self, name: str) -> dict:
        try:
            return json.loads((self.path / name).read_text())
        except (OSError, ValueError):
            return {}

    def progress(self) -> dict:
        """progress.json; for a job split into a Slurm job array (``chunks``), its tasks' progress merged."""
        progress = self._read("progress.json")
        count = int(progress.get("chunks") or 1)
        if count <= 1:
            return progress
        return merge_chunks(progress, [self._read(f"progress.chunk-{i}.json") for i in range(count)])

    def write_progress(self, **fields: Any) -> dict:
        """Add ``fields`` to the job's progress; a task of a job array writes its own file (no two writers share
        one) and gets its own progress back."""
        share = slurm.chunk()
        name = "progress.json"
        if share and int(self._read(name).get("chunks") or 1) > 1:
            name = f"progress.chunk-{share[0]}.json"
        progress = {**self._read(name), **fields, "updated_at": time.time()}
        atomic_write_bytes(self.path / name, json.dumps(progress, default=str).encode())
        return progress

    def clear_chunks(self) -> None:
        """Forget the array tasks' progress of an earlier submission."""
        for path in self.path.glob("progress.chunk-*.json"):
            path.unlink(missing_ok=True)

    def status(self) -> str:
        """queued, running, done, failed, stopped, or interrupted (its process died before finishing)."""
        progress = self.progress()
        status = progress.get("status", "queued")
        if status not in ("running", "queued"):
            return status
        if progress.get("slurm_job_id"):
            # A Slurm job's worker runs on a node: squeue, not this machine's pids, says whether it lives.
            return "interrupted" if slurm.active(progress["slurm_job_id"]) is False else status
        if progress.get("pid") and not pid_alive(progress.get("pid")):
            return "interrupted"
        return status

    def pid(self) -> int | None:
        return self.progress().get("pid")

    # -- stopping -----------------------------------------------------------------------------------------
    def request_cancel(self) -> None:
        """Ask the job to stop at its next step; it polls this file (``cancel_requested``)."""
        atomic_write_bytes(self.cancel_path, str(time.time()).encode())

    def cancel_requested(self) -> bool:
        return self.cancel_path.exists()

    def clear_cancel(self) -> None:
        self.cancel_path.unlink(missing_ok=True)

    def check_cancel(self) -> None:
        """Call between steps: raises JobStopped once a stop was requested (file or SIGTERM)."""
        if self.cancel_requested():
            raise JobStopped(f"job {self.job_id} stopped on request")

    # -- shards -------------------------------------------------------------------------------------------
    def shard_path(self, name: str, suffix: str) -> Path:
        return self.shards / f"{name}.{suffix}.parquet"

    def finished_shards(self, suffix: str) -> list[str]:
        """Names of the finished shards with this suffix, oldest first."""
        if not self.shards.exists():
            return []
        tail = f".{suffix}.parquet"
        return sorted(p.name[: -len(tail)] for p in self.shards.glob(f"*{tail}"))

    def write_metrics(self, rows: Iterable[tuple[int, str, float]]) -> str | None:
        """Append (step, name, value) rows as one metrics shard; the store's ``metrics`` table gets them on
        refresh. Returns the shard's name, or None when there was nothing to write."""
        rows = list(rows)
        if not rows:
            return None
        table = pa.Table.from_pylist(
            [{"job_id": self.job_id, "step": int(s), "name": str(n), "value": float(v)} for s, n, v in rows],
            schema=METRICS_SCHEMA,
        )
        name = shard_name()
        atomic_write_table(self.shard_path(name, "metrics"), table)
        return name


class LabelJobFolder(JobFolder):
    """A labeling job's folder (Monte-Carlo or PRM): one ``NAME.labels.parquet`` shard of label rows per
    finished chunk, under ``$AGENTARK_HOME/labeling/``; the step ids in finished shards are done."""

    root = "labeling"

    def done_step_ids(self) -> set[str]:
        done: set[str] = set()
        for name in self.finished_shards("labels"):
            done.update(pq.read_table(self.shard_path(name, "labels"), columns=["step_id"]).column(0).to_pylist())
        return done

    def write_shard(self, rows: pd.DataFrame) -> str:
        name = shard_name()
        atomic_write_table(self.shard_path(name, "labels"), pa.Table.from_pandas(rows, preserve_index=False))
        return name
