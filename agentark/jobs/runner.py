"""Starting, running, stopping and resuming a job: the same verbs for every kind.

- ``start(kind, cfg, **inputs)`` is how any job begins: the kind's preflight refuses what would fail (nothing
  is written then), ``create`` writes the folder (frozen inputs, then the manifest) and the job is spawned in
  the background or run in this process. ``create`` alone leaves it queued.
- ``spawn(kind, job_id)`` starts ``python -m agentark worker JOB_ID`` in its own session and returns its
  pid; ``worker_main`` (that command) looks the job up by id and runs it with ``run_job``, which
  dispatches on the manifest's kind.
- ``stop(job_id)`` asks the job to stop at its next step: it writes the folder's ``cancel`` file, which
  the job polls between steps, and sends SIGTERM, which the worker turns into the same request (a second
  SIGTERM ends it at once). The job then ends with status "stopped".
- ``resume(job_id)`` spawns it again; every kind skips the work its finished shards already hold.
- ``run_job`` first waits for a slot on the devices the job needs (``agentark.jobs.slots``): the job is
  ``queued`` with its place in the queue until then, wherever it runs (a worker, the CLI's foreground, the app).

Design decision: the runner, not the kind, owns status, pid, start and end times and the error in
``progress.json``, so every kind reports them the same way and the Jobs table needs no per-kind code.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from agentark import config
from agentark.clock import new_id, now
from agentark.errors import JobError
from agentark.jobs.folder import FINISHED, JobFolder, JobStopped, atomic_write_table, pid_alive
from agentark.jobs.registry import JobKind, Progress, find, folders, get_kind, job_needs, kinds
from agentark.jobs.slots import acquire, queue_places


@dataclass(frozen=True)
class Started:
    """What ``create`` and ``start`` hand back: the job's id, the worker's pid when it was spawned, its final
    progress when it ran in this process, and what the kind's preflight reported (a load report, say)."""

    job_id: str
    pid: int | None = None
    progress: dict | None = None
    info: Any = None


def create(kind: str, cfg: Any, *, job_id: str | None = None, by: str | None = None, **inputs: Any) -> Started:
    """Check everything the kind can check, then write the job's folder (queued); nothing is written on refusal.

    ``by``: who started it (the app's logged-in person; else the OS user), kept in the manifest as ``started_by``.
    ``inputs`` go to the kind's preflight (a store, an exports table, given problems).
    """
    record = get_kind(kind)
    if record.preflight is None:
        raise JobError(f"Job kind '{kind}' has no preflight, so it cannot be created with jobs.create.")
    plan = record.preflight(cfg, **inputs)
    folder = record.folder(job_id or new_id(plan.id_prefix))
    if folder.exists():
        raise JobError(f"Job '{folder.job_id}' already exists; resume it, or pick a new id.")
    folder.path.mkdir(parents=True, exist_ok=True)
    for name, frame in plan.tables.items():
        atomic_write_table(folder.path / f"{name}.parquet", pa.Table.from_pandas(frame, preserve_index=False))
    # ``launched_as``: the kind the user started (an evaluation), when its jobs run as another (a debate run).
    folder.create({"kind": record.runs_as or record.name, "launched_as": record.name,
                   "needs": list(job_needs(record, plan.config)), "config": plan.config.to_dict(),
                   "created_at": now().isoformat(), "started_by": by or os.environ.get("USER"), **plan.meta})
    folder.write_progress(status="queued", done=0, total=plan.total)
    return Started(folder.job_id, info=plan.info)


def start(kind: str, cfg: Any, *, background: bool = True, job_id: str | None = None,
          on_progress: Progress | None = None, by: str | None = None, **inputs: Any) -> Started:
    """The one verb that launches a job of any kind: ``create`` it, then spawn its worker (``background``) or
    run it here until it ends (``on_progress(done, total)`` as it goes)."""
    created = create(kind, cfg, job_id=job_id, by=by, **inputs)
    if background:
        return Started(created.job_id, pid=spawn(get_kind(kind).runs_as or kind, created.job_id), info=created.info)
    return Started(created.job_id, progress=run_job(created.job_id, on_progress=on_progress), info=created.info)


def run_job(job_id: str, on_progress: Progress | None = None, clear_stop: bool = True,
            on_wait: Callable[[int], None] | None = None, queued_at: str | None = None, **options: Any) -> dict:
    """Run (or resume) a job in this process until it is done, fails or is stopped; return its progress.

    It first waits, ``queued``, for a slot on every device it needs (its manifest's ``needs``); a stop request
    while it waits ends it ``stopped`` before it started; ``on_wait(place)`` hears its place in the queue as it
    changes (a foreground command prints it); ``queued_at`` (a spawned worker's: when ``spawn`` ran) places it in
    the queue, so jobs start in the order they were started whichever worker boots first. ``started_at`` is when it first started (a resume
    keeps it and sets ``resumed_at``). ``options`` go to the kind's run function (tests pass prebuilt engines
    this way). A stop request left from an earlier run is cleared (``clear_stop``): starting a job is asking it
    to run; a spawned worker keeps one made while it started up, as ``spawn`` cleared the old one.
    """
    kind, folder = find(job_id)
    if clear_stop:
        folder.clear_cancel()
    first_start = folder.progress().get("started_at")
    needs = _needs(kind, folder.meta())
    queued_at = queued_at or now().isoformat()
    folder.write_progress(status="queued", pid=os.getpid(), queued_at=queued_at, ended_at=None, error=None,
                          stage="waiting for a slot" if needs else "starting")
    previous = _catch_sigterm(folder)
    held = None
    try:
        def waiting(place: int) -> None:
            folder.write_progress(stage=f"waiting for a slot ({_nth(place)} in the queue for {', '.join(needs)})")
            if on_wait is not None:
                on_wait(place)

        held = acquire(needs, label=job_id, job_id=job_id, check=folder.check_cancel, on_wait=waiting,
                       since=datetime.fromisoformat(queued_at).replace(tzinfo=timezone.utc).timestamp())
        started = now().isoformat()
        folder.write_progress(status="running", started_at=first_start or started,
                              resumed_at=started if first_start else None, threads=held.threads, stage="starting")
        fields = kind.run(folder, on_progress=on_progress, **options)
    except JobStopped:
        stage = "stopped on request" if held is not None else "stopped before it started"
        return folder.write_progress(status="stopped", ended_at=now().isoformat(), stage=stage)
    except BaseException as exc:
        # A KeyboardInterrupt (or a second SIGTERM) is an interruption, anything else a failure.
        folder.write_progress(status="failed" if isinstance(exc, Exception) else "interrupted",
                              error=f"{type(exc).__name__}: {exc}", ended_at=now().isoformat())
        raise
    finally:
        if held is not None:
            held.release()
        _restore_sigterm(previous)
        folder.clear_cancel()
    fields = dict(fields or {})
    return folder.write_progress(**{"status": "done", **fields, "ended_at": now().isoformat()})


def _needs(kind: JobKind, meta: dict) -> tuple[str, ...]:
    """The devices the manifest says the job needs; a job created before manifests said so is asked again."""
    if "needs" in meta:
        return tuple(meta["needs"])
    return job_needs(kind, kind.config.from_dict(meta["config"])) if kind.config else ("cpu",)


def _nth(place: int) -> str:
    return f"{place}{'th' if 10 <= place % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(place % 10, 'th')}"


def _catch_sigterm(folder: JobFolder):
    """While the job runs, SIGTERM becomes a stop request; a second SIGTERM ends the process as usual."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def request_stop(signum: int, frame: object) -> None:
        folder.request_cancel()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return signal.signal(signal.SIGTERM, request_stop)


def _restore_sigterm(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def spawn(kind: str, job_id: str) -> int:
    """Start the job's worker process in its own session; return its pid. The job must exist, be of this
    kind and not be running."""
    found_kind, folder = find(job_id)
    if found_kind.name != get_kind(kind).name:
        raise JobError(f"Job '{job_id}' is a {found_kind.name} job, not {kind}.")
    if folder.status() in ("running", "queued") and pid_alive(folder.pid()):
        raise JobError(f"Job '{job_id}' is already {folder.status()} (pid {folder.pid()}); stop it first.")
    folder.clear_cancel()
    # Queued until its worker holds a slot; no pid yet, so an old run's dead pid does not read as interrupted.
    folder.write_progress(status="queued", pid=None, queued_at=now().isoformat(), ended_at=None, error=None,
                          stage="starting its worker")
    root = str(Path(__file__).resolve().parents[2])
    # The worker must import this same checkout of agentark, wherever the app was started from.
    pythonpath = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, AGENTARK_HOME=str(config.home()), PYTHONUNBUFFERED="1", PYTHONPATH=pythonpath)
    with open(folder.log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentark", "worker", job_id],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=os.getcwd(), start_new_session=True,
        )
    # The worker writes its own pid too; this covers a worker that dies before it gets that far.
    folder.write_progress(pid=proc.pid)
    return proc.pid


def stop(job_id: str) -> bool:
    """Ask a job to stop at its next step (or, waiting for a slot, not to start); return whether it was running
    or queued (False: already over)."""
    _, folder = find(job_id)
    status = folder.status()
    if status in FINISHED:
        return False
    folder.request_cancel()
    pid = folder.pid()
    if pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
    else:
        folder.write_progress(status="stopped", ended_at=now().isoformat(), stage="stopped before it started")
    return True


def resume(job_id: str) -> int:
    """Start a stopped, failed or interrupted job (or a queued one) again in the background; return its pid."""
    kind, folder = find(job_id)
    if folder.status() == "done":
        raise JobError(f"Job '{job_id}' is done: there is nothing left to resume.")
    return spawn(kind.name, job_id)


def worker_main(job_id: str) -> int:
    """``python -m agentark worker JOB_ID``: run the job, print progress lines to its log. A bad or unknown
    id raises (the CLI prints the fix); the job's own failure is printed with its traceback."""
    _, folder = find(job_id)
    try:
        final = run_job(job_id, on_progress=lambda d, t: print(f"progress {d}/{t}", flush=True), clear_stop=False,
                        queued_at=folder.progress().get("queued_at"))
    except Exception:
        traceback.print_exc()
        return 1
    return 0 if final["status"] in ("done", "stopped") else 1


COLUMNS = ("job_id", "kind", "title", "status", "queue", "done", "total", "percent", "stage", "needs", "queued_at",
           "started_at", "resumed_at", "ended_at", "pid", "error", "started_by")


def list_jobs(*names: str) -> list[dict]:
    """Every job of the kinds named (every kind when none is) as its folder tells it: the one Jobs table.

    ``kind``/``title`` are the kind the job was started as (an evaluation, though it runs as a debate run);
    ``queue`` is a queued job's place in the queue for its devices (1 = next to start); ``percent`` is done of
    total, never above 100 and None while the total is unknown. Running and queued jobs come first (in queue
    order), then the rest, newest first.
    """
    places = queue_places()
    known = kinds()
    rows = []
    for kind in known.values():
        for folder in folders(kind):
            meta = folder.meta()
            shown = known.get(meta.get("launched_as") or kind.name, kind)
            if names and shown.name not in names:
                continue
            progress = folder.progress()
            status = folder.status()
            done, total = int(progress.get("done") or 0), int(progress.get("total") or 0)
            rows.append({
                "job_id": folder.job_id, "kind": shown.name, "title": shown.title or shown.name, "status": status,
                "queue": places.get(folder.job_id) if status == "queued" else None,
                "done": done, "total": total,
                "percent": round(100.0 * min(done, total) / total, 1) if total > 0 else None,
                "stage": progress.get("stage") or "", "needs": ", ".join(meta.get("needs", ())),
                "queued_at": progress.get("queued_at"), "started_at": progress.get("started_at"),
                "resumed_at": progress.get("resumed_at"), "ended_at": progress.get("ended_at"),
                "pid": progress.get("pid"), "error": progress.get("error"), "started_by": meta.get("started_by"),
            })
    rows.sort(key=lambda r: (r["started_at"] or r["queued_at"] or "", r["job_id"]), reverse=True)
    rows.sort(key=lambda r: (r["status"] != "running", r["status"] != "queued", r["queue"] or 0))
    return rows
