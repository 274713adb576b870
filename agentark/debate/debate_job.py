"""Debate runs as jobs: the run folder, creating a run, running it chunk by chunk, ingesting its shards.

A run's folder is ``$AGENTARK_HOME/runs/RUN_ID/`` (the job framework's layout, with ``run.json`` as the
manifest): ``problems.parquet`` holds the run's problems in order, and each finished chunk is one
``NAME.messages.parquet`` plus one ``NAME.outcomes.parquet`` in ``shards/``. Design decision: the outcomes
file is renamed last, so a shard counts as finished only once it exists, and resuming skips every problem
whose latest shard finished it without a failed message: each problem is done exactly once, and a problem
with failed requests is retried into a later shard that supersedes the earlier rows.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from agentark.backends import EngineSpec
from agentark.debate import METHODS, DebateConfig, build_engines, run_chunk
from agentark.errors import DatasetError
from agentark.jobs import slurm
from agentark.jobs.folder import JobFolder, atomic_write_table, shard_name
from agentark.jobs.registry import JobKind, Plan, Progress, folders, register_kind
from agentark.jobs.runner import create, run_job
from agentark.progress import BatchWatch, run_eta, watching, work_fraction
from agentark.provenance import git_commit, package_versions
from agentark.store import ledger_tables, run_tables
from agentark.store.shards import MESSAGE_SCHEMA, OUTCOME_SCHEMA
from agentark.tasks import ColumnMap, LoadReport, Problem, load_problems

if TYPE_CHECKING:
    from agentark.store import Store

class RunFolder(JobFolder):
    """A debate run's folder."""

    root = "runs"
    manifest = "run.json"
    noun = "run folder for"
    listed_by = "python -m agentark runs"

    @property
    def run_id(self) -> str:
        return self.job_id

    # -- writing (the job side) ---------------------------------------------------------------------------
    def create(self, meta: dict) -> None:
        """Write the manifest (after ``problems.parquet``: a folder without ``run.json`` is not a run yet), with
        the run's id, which the store's runs table is keyed by."""
        super().create({**meta, "run_id": self.run_id})

    def write_shard(self, messages: list[dict], outcomes: list[dict]) -> str:
        name = shard_name()
        atomic_write_table(self.shard_path(name, "messages"), pa.Table.from_pylist(messages, schema=MESSAGE_SCHEMA))
        atomic_write_table(self.shard_path(name, "outcomes"), pa.Table.from_pylist(outcomes, schema=OUTCOME_SCHEMA))
        return name

    # -- reading (either side) ----------------------------------------------------------------------------
    def problems(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "problems.parquet")

    def finished_shards(self, suffix: str = "outcomes") -> list[str]:
        """Finished chunks: those whose outcomes file (written last) exists."""
        return super().finished_shards(suffix)

    def shard_paths(self, name: str) -> tuple[Path, Path]:
        """(messages file, outcomes file) of one shard."""
        return self.shard_path(name, "messages"), self.shard_path(name, "outcomes")

    def problem_states(self) -> dict[str, bool]:
        """problem id -> whether its latest shard finished it without a failed message."""
        states: dict[str, bool] = {}
        for name in self.finished_shards():
            messages_path, outcomes_path = self.shard_paths(name)
            ids = pq.read_table(outcomes_path, columns=["problem_id"]).column(0).to_pylist()
            table = pq.read_table(messages_path, columns=["problem_id", "error"]).to_pydict()
            failed = {pid for pid, err in zip(table["problem_id"], table["error"]) if err is not None}
            states.update({pid: pid not in failed for pid in ids})
        return states

    def attempts(self) -> dict[str, int]:
        """problem id -> how many finished shards hold it: a retry is that problem's attempt number."""
        counts: dict[str, int] = {}
        for name in self.finished_shards():
            for pid in pq.read_table(self.shard_paths(name)[1], columns=["problem_id"]).column(0).to_pylist():
                counts[pid] = counts.get(pid, 0) + 1
        return counts

    def done_problem_ids(self) -> set[str]:
        """Problems finished without failed messages: resuming skips these and retries the rest."""
        return {pid for pid, ok in self.problem_states().items() if ok}

    def failed_problem_ids(self) -> set[str]:
        return {pid for pid, ok in self.problem_states().items() if not ok}


def list_run_folders() -> list[RunFolder]:
    """Every debate run folder, in id order."""
    return folders(DEBATE)


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


def check_engine(spec: EngineSpec) -> None:
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


def plan_debate(cfg: DebateConfig, problems: list[Problem] | None = None) -> Plan:
    """The debate kind's preflight: the engines can be built, the dataset loads and yields problems (or the
    ``problems`` given are used); nothing is written here."""
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
    meta = {"method": cfg.method, "dataset": cfg.dataset, "model": ", ".join(cfg.models()),
            "git_commit": git_commit(), "versions": package_versions(), "status": "queued"}
    return Plan(cfg, total=len(report.problems), id_prefix=cfg.method, meta=meta,
                tables={"problems": problems_frame(report.problems)}, info=report)


def create_debate_run(cfg: DebateConfig, problems: list[Problem] | None = None,
                      run_id: str | None = None) -> tuple[str, LoadReport]:
    """``jobs.create`` for a debate: write a new run folder (config, problems, provenance) and return its id
    with the load report. Nothing is written when the dataset cannot be loaded or yields no problems."""
    created = create("debate", cfg, job_id=run_id, problems=problems)
    return created.job_id, created.info


def run_debate(folder: RunFolder, on_progress: Progress | None = None, engines: dict | None = None) -> dict:
    """The debate kind's run: every problem without a clean shard, chunk by chunk, stopping between steps
    when asked; as a task of a Slurm job array, only its share of the problems."""
    cfg = DebateConfig.from_dict(folder.meta()["config"])
    problems = frame_problems(folder.problems())
    # A task of a Slurm job array does its share: every count-th problem from its index (its own shards), and
    # counts that share alone, so the array's progress is the sum of its tasks'.
    share = slurm.chunk()
    mine = problems[share[0]::share[1]] if share else problems
    done = folder.done_problem_ids() & {p.problem_id for p in mine}
    todo = [p for p in mine if p.problem_id not in done]
    failed: set[str] = set()
    total = len(mine)
    folder.write_progress(done=len(done), total=total, failed=0, stage="loading the engine")
    if on_progress:
        on_progress(len(done), total)
    if todo and engines is None:
        engines = build_engines(cfg)
    # The time left is measured from here, once the engine is ready (see agentark.progress).
    started = time.time()
    folder.write_progress(work_started_at=started, work_at_start=work_fraction(len(done), total),
                          fraction=work_fraction(len(done), total), measured_at=started)
    steps = METHODS[cfg.method].max_steps(cfg)
    chunks = [todo[i : i + cfg.chunk_size] for i in range(0, len(todo), cfg.chunk_size)]
    attempts = folder.attempts()
    for number, chunk in enumerate(chunks, 1):
        folder.check_cancel()
        at = {"step": 1, "written": 0.0}
        folder.write_progress(stage=f"chunk {number}/{len(chunks)}: step 1 running")

        def step_done(step: int, number: int = number, size: int = len(chunk)) -> None:
            # Finer than problems: a chunk's problems finish together, after its last step.
            at["step"] = step + 1
            folder.write_progress(stage=f"chunk {number}/{len(chunks)}: step {step} done",
                                  fraction=work_fraction(len(done), total, size, step, steps), measured_at=time.time())
            if on_progress:
                on_progress(len(done), total)
            folder.check_cancel()

        def requests_done(requests: float, of: int, number: int = number, size: int = len(chunk)) -> None:
            # Finer than steps: the engine's requests (and tokens) done of this step's batch, at most twice a
            # second, so a long first round shows its pace and the time left is measured from its first batch.
            moment = time.time()
            if moment - at["written"] < 0.5 and requests < of:
                return
            at["written"] = moment
            share = min(requests / of, 1.0) if of else 0.0
            folder.write_progress(stage=f"chunk {number}/{len(chunks)}: step {at['step']}, {int(requests)}/{of} "
                                        "requests done",
                                  fraction=work_fraction(len(done), total, size, at["step"] - 1 + share, steps),
                                  measured_at=moment)

        # Stop between tokens or micro-batches of a long step, not only between steps (BatchWatch).
        with watching(BatchWatch(requests_done, folder.cancel_requested, folder.check_cancel)):
            result = run_chunk(chunk, cfg, folder.run_id, engines=engines, on_round=step_done, attempts=attempts)
        folder.write_shard(result.messages, result.outcomes)
        chunk_failed = {m["problem_id"] for m in result.messages if m["error"] is not None}
        failed.update(chunk_failed)
        done.update(p.problem_id for p in chunk if p.problem_id not in chunk_failed)
        folder.write_progress(done=len(done), failed=len(failed), stage=f"chunk {number}/{len(chunks)} stored",
                              fraction=work_fraction(len(done) + len(chunk_failed), total), measured_at=time.time())
        if on_progress:
            on_progress(len(done), total)
    if failed:
        first = next(m["error"] for m in _failed_messages(folder, failed))
        return {
            "status": "failed", "done": len(done), "stage": "finished with failed requests",
            "error": f"{len(failed)} problem(s) have failed requests (first error: {first}); resume the run to retry them",
        }
    return {"status": "done", "done": len(done), "stage": "finished"}


def _failed_messages(folder: RunFolder, problem_ids: set[str]) -> list[dict]:
    rows: list[dict] = []
    for name in folder.finished_shards():
        frame = pd.read_parquet(folder.shard_paths(name)[0], columns=["problem_id", "error"])
        rows += frame[frame["problem_id"].isin(problem_ids) & frame["error"].notna()].to_dict("records")
    return rows


def run_debate_job(run_id: str, on_progress: Progress | None = None, engines: dict | None = None, **kwargs) -> dict:
    """Run (or resume) a debate run in this process until every problem has a shard (or it is stopped);
    ``kwargs`` are the runner's (``on_wait``)."""
    return run_job(run_id, on_progress=on_progress, engines=engines, **kwargs)


def ingest_run(store: Store, folder: RunFolder) -> int:
    """The debate kind's ingester: register the run if new, ingest its new shards, keep its status fresh."""
    meta = folder.meta()
    known_status = run_tables.run_status(store, folder.run_id)
    if known_status is None:
        run_tables.register_run(store, meta, folder.problems())
    seen = ledger_tables.ingested_shards(store, folder.run_id)
    ingested = 0
    for name in folder.finished_shards():
        if name not in seen:
            ingested += run_tables.ingest_shard(store, folder.run_id, name, *folder.shard_paths(name))
    status = folder.status()
    if status != known_status:
        run_tables.set_run_status(store, folder.run_id, status)
    return ingested


DEBATE = register_kind(JobKind("debate", RunFolder, run_debate, ingest_run, title="Debate run", config=DebateConfig,
                               preflight=plan_debate, reads=("problems",), registers="run",
                               resources={"cpus": 2, "time_limit": "12:00:00"}, chunked=True))


@dataclass(frozen=True)
class RunProgress:
    """What the Run page shows of one run while it is in flight, read from its folder alone."""

    run_id: str
    status: str
    done: int
    total: int
    fraction: float
    stage: str
    eta_s: float | None


def runs_in_flight(now: float | None = None) -> tuple[list[RunProgress], tuple]:
    """Runs queued or running, from their folders (no store), and a signature of every run folder's state.

    The signature changes only when a run appears, stores a shard or changes status: the moments the store
    has something new to ingest. Reading it costs a directory listing and one small JSON file per run.
    """
    now = time.time() if now is None else now
    active, signature = [], []
    for folder in list_run_folders():
        progress = folder.progress()
        status = folder.status()
        done, total = int(progress.get("done", 0)), int(progress.get("total", 0) or 0)
        signature.append((folder.run_id, status, done, int(progress.get("failed", 0))))
        if status in ("queued", "running"):
            fraction = float(progress.get("fraction", done / total if total else 0.0))
            active.append(RunProgress(folder.run_id, status, done, total, fraction,
                                      progress.get("stage", "starting"), run_eta(progress, now)))
    return active, tuple(signature)
