"""Monte-Carlo labeling as a job (kind ``mc_label``): targets frozen in a folder, one label shard per chunk.

Like a debate, the job never opens the store: it reads the step prefixes frozen in its folder
(``$AGENTARK_HOME/labeling/JOB_ID/targets.parquet``), writes one ``NAME.labels.parquet`` shard per finished
chunk, and the kind's ingester takes each shard into ``step_labels`` once. Design decision: the targets
are frozen when the job is created, so resuming (after a stop or a crash) labels exactly the prefixes the
job started with, skipping those whose label shard exists, whatever was segmented since.
"""
from __future__ import annotations

import time

import pandas as pd

from agentark.backends import Engine, create_engine
from agentark.errors import ConfigError
from agentark.debate.debate_job import check_engine
from agentark.jobs.folder import LabelJobFolder
from agentark.jobs.registry import JobKind, Plan, Progress, register_kind
from agentark.jobs.runner import list_jobs, run_job
from agentark.labels.labelers import Labeler, register_labeler
from agentark.labels.montecarlo import SOURCE, MCConfig, label_rows, mc_targets, rollouts
from agentark.progress import BatchWatch, watching
from agentark.store import Store
from agentark.store import label_tables as q

KIND = "mc_label"


class MCFolder(LabelJobFolder):
    """A Monte-Carlo labeling job's folder: ``targets.parquet`` (the frozen step prefixes) and one
    ``NAME.labels.parquet`` shard per finished chunk."""

    def targets(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "targets.parquet")


def plan_mc(cfg: MCConfig, store: Store) -> Plan:
    """The Monte-Carlo kind's preflight: the engine can be built and some step still lacks a label; the targets
    are frozen in the job's folder."""
    # A model, server option or API key variable that would only fail in the worker fails here, before
    # a job folder exists.
    check_engine(cfg.engine_spec())
    targets = mc_targets(store, cfg)
    if targets.empty:
        raise ConfigError("Every step of these runs already has a Monte-Carlo label; unset [[skip_labeled]] to redo "
                          "them.")
    return Plan(cfg, total=len(targets), id_prefix="mc", tables={"targets": targets})


def run_mc(folder: MCFolder, on_progress: Progress | None = None, engine: Engine | None = None) -> dict:
    """The Monte-Carlo kind's run: every target without a label shard, chunk by chunk. A stop is honoured
    between chunks and, inside a chunk, between the engine's tokens or micro-batches (a chunk of 64 prefixes
    times k rollouts can take minutes); the chunk in flight is then dropped, the finished shards stay."""
    cfg = MCConfig.from_dict(folder.meta()["config"])
    targets = folder.targets().to_dict("records")
    done = folder.done_step_ids()
    todo = [t for t in targets if t["step_id"] not in done]
    folder.write_progress(done=len(done), total=len(targets), stage="loading the engine" if todo else "finished")
    if on_progress:
        on_progress(len(done), len(targets))
    if todo and engine is None:
        engine = create_engine(cfg.engine_spec())
    chunks = [todo[start : start + cfg.chunk_size] for start in range(0, len(todo), cfg.chunk_size)]
    for number, chunk in enumerate(chunks, 1):
        folder.check_cancel()
        state = {"round": 0, "written": 0.0, "last": 0.0}
        folder.write_progress(stage=f"chunk {number}/{len(chunks)}: rollout 1/{cfg.k}")

        def rollouts_done(requests: float, of: int, number: int = number) -> None:
            moment = time.time()
            ended = requests >= of and state["last"] < of  # one engine call (a rollout round) finished
            state["last"] = requests
            if ended:
                state["round"] += 1
            elif moment - state["written"] < 0.5:
                return
            state["written"] = moment
            folder.write_progress(stage=f"chunk {number}/{len(chunks)}: rollout {min(state['round'] + 1, cfg.k)}/"
                                        f"{cfg.k}, {int(requests) if requests < of else 0}/{of} prefixes")

        with watching(BatchWatch(rollouts_done, folder.cancel_requested, folder.check_cancel)):
            correct = rollouts(engine, chunk, cfg)
        folder.write_shard(label_rows(folder.job_id, chunk, correct, cfg.k))
        done.update(t["step_id"] for t in chunk)
        folder.write_progress(done=len(done), stage=f"chunk {number}/{len(chunks)} stored")
        if on_progress:
            on_progress(len(done), len(targets))
    return {"status": "done", "done": len(done), "stage": "finished"}


def run_mc_job(job_id: str, engine: Engine | None = None, on_progress: Progress | None = None, **kwargs) -> dict:
    """Run (or resume) a Monte-Carlo job in this process until every target has a label shard (``kwargs``: the
    runner's, such as ``on_wait``)."""
    return run_job(job_id, on_progress=on_progress, engine=engine, **kwargs)


def ingest_mc(store: Store, folder: MCFolder) -> int:
    """The Monte-Carlo kind's ingester: every finished label shard not yet in the store."""
    return sum(q.ingest_label_shard(store, folder.job_id, name, pd.read_parquet(folder.shard_path(name, "labels")))
               for name in folder.finished_shards("labels"))


def mc_jobs() -> pd.DataFrame:
    """Monte-Carlo jobs as their folders tell it: status and progress."""
    rows = list_jobs(KIND)
    return pd.DataFrame(rows, columns=["job_id", "status", "done", "total", "error"])


MC_LABEL = register_kind(JobKind(KIND, MCFolder, run_mc, ingest_mc, title="Monte-Carlo labels", config=MCConfig,
                                 preflight=plan_mc, reads=("runs",), registers="labels",
                                 resources={"cpus": 2, "time_limit": "12:00:00"}))

MC_LABELER = register_labeler(Labeler(
    SOURCE, "Monte-Carlo", "k rollouts from every step prefix; a prefix no rollout finishes right is -1 "
    "(Math-Shepherd)", config=MCConfig, kind=KIND, jobs=mc_jobs, unit="step prefixes", order=10, precedence=4,
    consensus=True, negatives="Monte-Carlo rollouts (`python -m agentark label-mc --run RUN_ID`, or Start on the "
    "Label steps page)"))
