"""Debate runs as resumable jobs, in this process (CLI) or in a background process (app).

A job never opens the store: it reads its run folder and writes shards there (see ``runfolder``), so
the app stays usable while it runs and a ``kill -9`` loses only the chunk in flight. Resuming a run skips
every problem that already has a finished shard, so each problem is done exactly once.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from agentark import config
from agentark.debate import DebateConfig, build_engines, run_chunk
from agentark.errors import DatasetError, JobError
from agentark.provenance import git_commit, package_versions
from agentark.runfolder import RunFolder, pid_alive
from agentark.tasks import ColumnMap, LoadReport, Problem, load_problems

Progress = Callable[[int, int], None]


def new_run_id(method: str) -> str:
    return f"{method}-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "problem_id": [p.problem_id for p in problems],
            "dataset": [p.dataset for p in problems],
            "split": [p.split for p in problems],
            "question": [p.question for p in problems],
            "reference_answer": [p.reference_answer for p in problems],
            "meta_json": [json.dumps(p.meta, sort_keys=True) for p in problems],
        }
    )


def frame_problems(frame: pd.DataFrame) -> list[Problem]:
    return [
        Problem(r.problem_id, r.dataset, r.split, r.question, r.reference_answer, json.loads(r.meta_json or "{}"))
        for r in frame.itertuples()
    ]


def check_engine(spec) -> None:
    """Fail before a run is created on what would only fail in the worker: a missing model folder, an
    unset API key variable, no base URL, vLLM not installed."""
    if spec.engine == "transformers":
        from agentark.backends.transformers_engine import check_model

        check_model(spec.model)
    elif spec.engine == "openai":
        from agentark.backends.openai_engine import check_options

        check_options(spec.model, **spec.options)
    elif spec.engine == "vllm":
        from agentark.backends.vllm_engine import import_vllm

        import_vllm()


def create_debate_run(cfg: DebateConfig, problems: list[Problem] | None = None, run_id: str | None = None) -> tuple[str, LoadReport]:
    """Write a new run folder (config, problems, provenance) and return its id with the load report.

    Nothing is written when the dataset cannot be loaded or yields no problems.
    """
    for spec in cfg.engine_specs().values():
        check_engine(spec)
    if problems is None:
        columns = ColumnMap(**cfg.columns) if cfg.columns else None
        report = load_problems(cfg.dataset, limit=cfg.limit, split=cfg.split, seed=cfg.problem_seed,
                               columns=columns)
    else:
        report = LoadReport(problems=list(problems), rejected=[], source="given")
    if not report.problems:
        raise DatasetError(f"Dataset '{cfg.dataset}' gave no problems; check the name, split and limit.")
    ids = [p.problem_id for p in report.problems]
    if len(set(ids)) != len(ids):
        # Duplicate questions would collide in the store; keep the first of each.
        seen: set[str] = set()
        report.problems = [p for p in report.problems if not (p.problem_id in seen or seen.add(p.problem_id))]
    run_id = run_id or new_run_id(cfg.method)
    meta = {
        "run_id": run_id,
        "kind": "debate",
        "method": cfg.method,
        "dataset": cfg.dataset,
        "model": ", ".join(cfg.models()),
        "config": cfg.to_dict(),
        "created_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "status": "queued",
    }
    folder = RunFolder(run_id)
    if folder.exists():
        raise JobError(f"Run '{run_id}' already exists; resume it with --run-id {run_id} or pick a new id.")
    folder.create(meta, problems_frame(report.problems))
    folder.write_progress(status="queued", done=0, total=len(report.problems))
    return run_id, report


def run_debate_job(run_id: str, on_progress: Progress | None = None, engines: dict | None = None) -> dict:
    """Run (or resume) a debate run in this process until every problem has a shard."""
    folder = RunFolder(run_id).require()
    meta = folder.meta()
    cfg = DebateConfig.from_dict(meta["config"])
    problems = frame_problems(folder.problems())
    done = folder.done_problem_ids()
    todo = [p for p in problems if p.problem_id not in done]
    failed: set[str] = set()
    total = len(problems)
    folder.write_progress(status="running", done=len(done), total=total, pid=os.getpid(), error=None, failed=0,
                          stage="loading the engine")
    if on_progress:
        on_progress(len(done), total)
    try:
        if todo and engines is None:
            engines = build_engines(cfg)
        chunks = [todo[i : i + cfg.chunk_size] for i in range(0, len(todo), cfg.chunk_size)]
        for number, chunk in enumerate(chunks, 1):

            def step_done(step: int, number: int = number) -> None:
                # Finer than problems: a chunk's problems finish together, after its last step.
                folder.write_progress(stage=f"chunk {number}/{len(chunks)}: step {step} done")
                if on_progress:
                    on_progress(len(done), total)

            result = run_chunk(chunk, cfg, run_id, engines=engines, on_round=step_done)
            folder.write_shard(result.messages, result.outcomes)
            chunk_failed = {m["problem_id"] for m in result.messages if m["error"] is not None}
            failed.update(chunk_failed)
            done.update(p.problem_id for p in chunk if p.problem_id not in chunk_failed)
            folder.write_progress(done=len(done), failed=len(failed), stage=f"chunk {number}/{len(chunks)} stored")
            if on_progress:
                on_progress(len(done), total)
    except BaseException as exc:
        folder.write_progress(status="failed" if isinstance(exc, Exception) else "interrupted",
                              error=f"{type(exc).__name__}: {exc}")
        raise
    if failed:
        first = next(m["error"] for m in _failed_messages(folder, failed))
        return folder.write_progress(
            status="failed", done=len(done), stage="finished with failed requests",
            error=f"{len(failed)} problem(s) have failed requests (first error: {first}); resume the run to retry them",
        )
    return folder.write_progress(status="done", done=len(done), stage="finished")


def _failed_messages(folder: RunFolder, problem_ids: set[str]) -> list[dict]:
    rows: list[dict] = []
    for name in folder.finished_shards():
        frame = pd.read_parquet(folder.shard_paths(name)[0], columns=["problem_id", "error"])
        rows += frame[frame["problem_id"].isin(problem_ids) & frame["error"].notna()].to_dict("records")
    return rows


def start_background(run_id: str) -> int:
    """Start ``python -m agentark worker RUN_ID`` in its own session; return its pid."""
    folder = RunFolder(run_id).require()
    status = folder.status()
    if status == "running":
        raise JobError(f"Run '{run_id}' is already running (pid {folder.progress().get('pid')}).")
    root = str(Path(__file__).resolve().parent.parent)
    # The worker must import this same checkout of agentark, wherever the app was started from.
    pythonpath = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, AGENTARK_HOME=str(config.home()), PYTHONUNBUFFERED="1", PYTHONPATH=pythonpath)
    log = open(folder.log_path, "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentark", "worker", run_id],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        cwd=os.getcwd(), start_new_session=True,
    )
    log.close()
    folder.write_progress(status="running", pid=proc.pid, error=None)
    return proc.pid


def launch_debate(store, cfg: DebateConfig, problems: list[Problem] | None = None) -> tuple[str, LoadReport]:
    """Create a run, register it and its job in the store, and start it in the background."""
    run_id, report = create_debate_run(cfg, problems)
    resume_background(store, run_id)
    return run_id, report


def resume_background(store, run_id: str) -> int:
    """(Re)start a run's background process and record the job; the store is touched only here."""
    folder = RunFolder(run_id).require()
    store.refresh()
    pid = start_background(run_id)
    store.upsert_job({
        "job_id": run_id, "kind": "debate", "config": folder.meta()["config"], "pid": pid, "status": "running",
        "log_path": str(folder.log_path), "started_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "ended_at": None, "run_id": run_id,
    })
    store.set_run_status(run_id, "running")
    return pid


def stop(run_id: str) -> bool:
    """Stop a running background job; finished shards stay, and the run can be resumed."""
    import signal

    pid = RunFolder(run_id).progress().get("pid")
    if pid and pid_alive(pid):
        os.killpg(os.getpgid(pid), signal.SIGTERM)
        return True
    return False


def worker_main(run_id: str) -> int:
    """Entry point of a background worker process."""
    try:
        run_debate_job(run_id, on_progress=lambda d, t: print(f"progress {d}/{t}", flush=True))
    except Exception:
        traceback.print_exc()
        return 1
    return 0
