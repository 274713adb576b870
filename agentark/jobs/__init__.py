"""The one job framework: every long job (debate run, evaluation, Monte-Carlo and PRM labeling, training) is
a folder with a manifest, shards, progress, log and status, begun by one verb (``start(kind, cfg)``), run by
one worker entry point (``python -m agentark worker JOB_ID``) that dispatches on the manifest's kind, stopped
and resumed the same way, and ingested by the ingester its kind registered.

Design decision: jobs never open the store. They write Parquet shards under their folder; registering a
kind registers its ingester in the store's registry, so ``Store.refresh`` ingests every kind without the
store importing any job module. This package is the framework alone: ``agentark.jobs.builtin`` names every
built-in kind's module (the app and the CLI import it). A new kind is a module that builds a ``JobKind`` and
calls ``register_kind`` (see docs/architecture.md, "Adding a job kind").
"""
from agentark.ids import check_id
from agentark.jobs.folder import FINISHED, STATUSES, JobFolder, JobStopped, pid_alive
from agentark.jobs.registry import JobKind, Plan, Progress, find, folders, get_kind, kinds, register_kind
from agentark.jobs.runner import (
    COLUMNS,
    Started,
    create,
    is_slurm,
    list_jobs,
    resume,
    run_job,
    spawn,
    start,
    stop,
    submit,
    worker_main,
)
from agentark.jobs.slurm import ExecutorConfig

__all__ = [
    "COLUMNS",
    "ExecutorConfig",
    "FINISHED",
    "STATUSES",
    "JobFolder",
    "JobKind",
    "JobStopped",
    "Plan",
    "Progress",
    "Started",
    "check_id",
    "create",
    "find",
    "is_slurm",
    "folders",
    "get_kind",
    "kinds",
    "list_jobs",
    "pid_alive",
    "register_kind",
    "resume",
    "run_job",
    "spawn",
    "start",
    "stop",
    "submit",
    "worker_main",
]
