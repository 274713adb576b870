"""The one job framework: every long job (debate run, Monte-Carlo labeling, training, evaluation) is a
folder with a manifest, shards, progress, log and status, started by one ``spawn``, run by one worker
entry point (``python -m agentark worker JOB_ID``) that dispatches on the manifest's kind, stopped and
resumed the same way, and ingested by the ingester its kind registered.

Design decision: jobs never open the store. They write Parquet shards under their folder; registering a
kind registers its ingester in the store's registry, so ``Store.refresh`` ingests every kind without the
store importing any job module. ``agentark.jobs.builtin`` imports every built-in kind (the app and the
CLI import it). A new kind is a module that builds a ``JobKind`` and calls ``register_kind`` (see
docs/architecture.md, "Adding a job kind").
"""
from agentark.ids import check_id
from agentark.jobs.folder import FINISHED, STATUSES, JobFolder, JobStopped, pid_alive
from agentark.jobs.registry import JobKind, Progress, find, folders, get_kind, kinds, register_kind
from agentark.jobs.runner import COLUMNS, list_jobs, resume, run_job, spawn, stop, worker_main
from agentark.jobs.debate import (  # noqa: I001  (after the framework: the kind registers itself on it)
    DEBATE,
    RunFolder,
    check_engine,
    create_debate_run,
    frame_problems,
    launch_debate,
    list_run_folders,
    new_run_id,
    problems_frame,
    run_debate_job,
)
from agentark.jobs.mc_label import MC_LABEL  # noqa: I001

__all__ = [
    "COLUMNS",
    "DEBATE",
    "FINISHED",
    "MC_LABEL",
    "STATUSES",
    "JobFolder",
    "JobKind",
    "JobStopped",
    "Progress",
    "RunFolder",
    "check_engine",
    "check_id",
    "create_debate_run",
    "find",
    "folders",
    "frame_problems",
    "get_kind",
    "kinds",
    "launch_debate",
    "list_jobs",
    "list_run_folders",
    "new_run_id",
    "pid_alive",
    "problems_frame",
    "register_kind",
    "resume",
    "run_debate_job",
    "run_job",
    "spawn",
    "stop",
    "worker_main",
]
