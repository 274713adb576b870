"""Where a job runs: ``local`` (this machine's slots, the default) or ``slurm`` (a batch job on a cluster that
shares ``$AGENTARK_HOME`` with this machine).

A Slurm job runs the same worker entry point (``python -m agentark worker JOB_ID``) on a node: it writes the same
shards, checkpoints and progress into the job's folder, and the studio ingests them as it does a local worker's.
``ExecutorConfig`` is the one definition of the choice and of the resources asked for (GPUs, CPUs, memory, time
limit, partition, account, QOS, extra ``#SBATCH`` lines); every command that starts a job offers its fields as
flags. A field left empty takes the studio's setting (``AGENTARK_EXECUTOR``, ``AGENTARK_SLURM_PARTITION``,
``AGENTARK_SLURM_ACCOUNT``, ``AGENTARK_SLURM_QOS``, ``AGENTARK_SLURM_SBATCH`` with lines separated by ``;``), then
the job kind's default (``JobKind.resources``); GPUs default to the CUDA devices the job needs.

Design decision: Slurm does the scheduling, so a worker under Slurm takes no slot (``in_slurm``); its state comes
from ``squeue`` (read once per listing, ``queue``), stop is ``scancel``, and the time limit or a preemption reaches
the worker as ``SIGUSR1`` some seconds ahead (``--signal=B:USR1@N``), which it turns into a stop request: it
checkpoints, writes "stopped" and exits, and ``resume`` submits it again from its folder. No ``sacct``: a cluster
without accounting (slurmdbd) still answers ``squeue`` and ``scontrol show job``.
"""
from __future__ import annotations

import dataclasses
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentark import config
from agentark.errors import ConfigError, JobError
from agentark.options import check_types

EXECUTORS = ("local", "slurm")
SIGNAL = "USR1"
# How long a squeue answer is reused: one listing of the Jobs page asks once, not once per job.
QUEUE_TTL_S = 1.0
# Slurm states in which the job still holds or waits for its allocation.
ACTIVE = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "RESIZING", "SUSPENDED", "STOPPED",
          "SIGNALING", "STAGE_OUT", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD")


@dataclass
class ExecutorConfig:
    """Where a job runs and, on Slurm, what it asks for. Empty fields take the setting, then the kind's default."""

    executor: str = field(default="", metadata={
        "help": "Where the job runs: local (this machine's slots) or slurm (a batch job on the cluster; the "
                "nodes share AGENTARK_HOME). Empty: the AGENTARK_EXECUTOR setting, else local.",
        "choices": EXECUTORS})
    partition: str = field(default="", metadata={"help": "Slurm partition (empty: the setting, else the cluster's "
                                                         "default)."})
    account: str = field(default="", metadata={"help": "Slurm account to charge (empty: the setting or none)."})
    qos: str = field(default="", metadata={"help": "Slurm QOS (empty: the setting or none)."})
    gpus: int | None = field(default=None, metadata={
        "help": "GPUs on the node (--gres=gpu:N); empty: as many as the job's devices need.", "min": 0})
    cpus: int | None = field(default=None, metadata={
        "help": "CPUs for the job (--cpus-per-task); empty: the kind's default.", "min": 1})
    mem: str = field(default="", metadata={"help": "Memory for the job (--mem, e.g. 32G); empty: the kind's "
                                                   "default."})
    time_limit: str = field(default="", metadata={
        "help": "Time limit (--time, e.g. 04:00:00 or minutes); the job checkpoints and stops before it. Empty: "
                "the kind's default."})
    signal_s: int = field(default=60, metadata={
        "help": "Seconds before the time limit that Slurm signals the worker to checkpoint and stop.", "min": 1})
    sbatch: list[str] = field(default_factory=list, metadata={
        "help": "Extra #SBATCH lines (e.g. --constraint=a100), one per flag.", "repeat": True})
    chunks: int = field(default=1, metadata={
        "help": "On Slurm, split the job into a job array of this many tasks, each running its share of the "
                "problems (its own shards) on its own node; for the kinds that work on problems (debate, "
                "evaluation).", "min": 1})

    def __post_init__(self) -> None:
        if self.executor and self.executor not in EXECUTORS:
            raise ConfigError(f"[[executor]] '{self.executor}' is not one of: {', '.join(EXECUTORS)}.")
        if self.chunks < 1:
            raise ConfigError(f"[[chunks]] must be 1 or more (got {self.chunks}).")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "ExecutorConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in (data or {}).items() if k in known}
        check_types(cls, values)  # a stored manifest or a study file: a wrong type is refused, never coerced
        return cls(**values)

    def chosen(self) -> str:
        """The executor in force: this config's, else the studio's setting, else local."""
        chosen = self.executor or os.environ.get("AGENTARK_EXECUTOR", "") or "local"
        if chosen not in EXECUTORS:
            raise ConfigError(f"AGENTARK_EXECUTOR '{chosen}' is not one of: {', '.join(EXECUTORS)}; set "
                              "[[executor]] or fix the setting.")
        return chosen

    def resolved(self, defaults: dict[str, Any], needs: tuple[str, ...]) -> "ExecutorConfig":
        """Every field filled: this config's values, then the settings, then the kind's ``defaults``."""
        setting = {name: os.environ.get(f"AGENTARK_SLURM_{name.upper()}", "") for name in ("partition", "account",
                                                                                          "qos")}
        extra = [line for line in os.environ.get("AGENTARK_SLURM_SBATCH", "").split(";") if line.strip()]
        gpus = sum(1 for device in needs if device.startswith("cuda"))
        return ExecutorConfig(
            executor=self.chosen(),
            partition=self.partition or setting["partition"] or defaults.get("partition", ""),
            account=self.account or setting["account"] or defaults.get("account", ""),
            qos=self.qos or setting["qos"] or defaults.get("qos", ""),
            gpus=self.gpus if self.gpus is not None else defaults.get("gpus", gpus),
            cpus=self.cpus if self.cpus is not None else defaults.get("cpus", 1),
            mem=self.mem or defaults.get("mem", ""),
            time_limit=self.time_limit or defaults.get("time_limit", ""),
            signal_s=self.signal_s, sbatch=[*extra, *defaults.get("sbatch", ()), *self.sbatch], chunks=self.chunks)


def available() -> bool:
    """Whether this machine can submit to a Slurm cluster (``sbatch`` and ``squeue`` on the PATH)."""
    return bool(shutil.which("sbatch") and shutil.which("squeue"))


CHUNK_ENV = "AGENTARK_CHUNK"


def chunk() -> tuple[int, int] | None:
    """(index, count) of the array task this worker is (``AGENTARK_CHUNK=INDEX/COUNT``, set by the batch script
    from ``SLURM_ARRAY_TASK_ID``), or None for a whole job."""
    text = os.environ.get(CHUNK_ENV, "")
    index, _, count = text.partition("/")
    return (int(index), int(count)) if index.isdigit() and count.isdigit() else None


def in_slurm() -> bool:
    """Whether this process is a Slurm job's worker: Slurm allocated its resources, so it takes no slot."""
    return bool(os.environ.get("SLURM_JOB_ID"))


def _run(argv: list[str], what: str) -> str:
    if not available():
        raise JobError(f"{what} needs Slurm, and sbatch/squeue are not on this machine's PATH; run the studio on a "
                       "login node of the cluster, or set [[executor]] to local.")
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise JobError(f"{what} failed: `{shlex.join(argv)}` said: {(done.stderr or done.stdout).strip()}")
    return done.stdout.strip()


def directives(res: ExecutorConfig, *, name: str, log: Path, dependency: str = "") -> list[str]:
    """The ``#SBATCH`` lines of a job with these resources."""
    lines = [f"--job-name={name}", f"--output={log}", "--open-mode=append", f"--signal=B:{SIGNAL}@{res.signal_s}",
             f"--cpus-per-task={res.cpus}", "--ntasks=1", "--nodes=1"]
    if res.gpus:
        lines.append(f"--gres=gpu:{res.gpus}")
    lines += [f"--{flag}={value}" for flag, value in (("partition", res.partition), ("account", res.account),
                                                      ("qos", res.qos), ("mem", res.mem), ("time", res.time_limit))
              if value]
    if dependency:
        # A dependency that can never be met (a step failed) cancels the job instead of leaving it pending.
        lines += [f"--dependency={dependency}", "--kill-on-invalid-dep=yes"]
    if res.chunks > 1:
        lines.append(f"--array=0-{res.chunks - 1}")
    return [*lines, *(line.strip() for line in res.sbatch if line.strip())]


def batch_script(res: ExecutorConfig, job_id: str, folder_path: Path, *, dependency: str = "",
                 args: tuple[str, ...] = ()) -> str:
    """The batch script: the resources, the environment the worker needs on a node that shares this machine's
    filesystem (this interpreter, this checkout, this AGENTARK_HOME), and the worker entry point. ``exec`` makes
    the worker the batch shell, so ``--signal=B:`` and ``scancel`` reach it."""
    root = str(Path(__file__).resolve().parents[2])
    pythonpath = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    lines = ["#!/bin/bash", *(f"#SBATCH {d}" for d in directives(
        res, name=f"agentark-{job_id}", log=folder_path / "worker.log", dependency=dependency))]
    env = {"AGENTARK_HOME": str(config.home()), "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}
    lines += [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    if res.chunks > 1:
        lines.append(f"export {CHUNK_ENV}=$SLURM_ARRAY_TASK_ID/{res.chunks}")
    lines.append(f"cd {shlex.quote(os.getcwd())}")
    lines.append("exec " + shlex.join([sys.executable, "-m", "agentark", "worker", job_id, *args]))
    return "\n".join(lines) + "\n"


def submit(res: ExecutorConfig, job_id: str, folder_path: Path, *, dependency: str = "",
           args: tuple[str, ...] = ()) -> str:
    """``sbatch`` the job's worker; return the Slurm job id. The script is kept in the folder (``slurm.sbatch``)."""
    script = folder_path / "slurm.sbatch"
    script.write_text(batch_script(res, job_id, folder_path, dependency=dependency, args=args))
    _CACHE.clear()
    return _run(["sbatch", "--parsable", str(script)], f"Submitting job {job_id} to Slurm").split(";")[0]


def cancel(slurm_id: str) -> None:
    """``scancel``: a pending job never starts; a running one gets SIGTERM, which its worker turns into a stop."""
    _run(["scancel", str(slurm_id)], f"Cancelling Slurm job {slurm_id}")
    _CACHE.clear()


_CACHE: dict[str, Any] = {}
FIELDS = ("slurm_job_id", "state", "node", "elapsed", "reason")


def queue(fresh: bool = False) -> dict[str, dict]:
    """Slurm job id -> {state, node, elapsed, reason} of every job ``squeue`` knows (a finished job for a few
    minutes after it ends); empty where Slurm is not installed. Array tasks are keyed ``ID_N``; the array's
    ``ID`` takes an active task's row while there is one."""
    if not available():
        return {}
    if not fresh and _CACHE.get("at", 0) > time.monotonic() - QUEUE_TTL_S:
        return _CACHE["jobs"]
    done = subprocess.run(["squeue", "-h", "-a", "-t", "all", "-o", "%i|%A|%T|%N|%M|%r"], capture_output=True,
                          text=True)
    found: dict[str, dict] = {}
    for line in done.stdout.splitlines() if done.returncode == 0 else ():
        parts = line.split("|")
        if len(parts) != 6:
            continue
        shown, own, state, node, elapsed, reason = parts
        row = {"state": state, "node": node, "elapsed": elapsed, "reason": "" if reason == "None" else reason}
        found[shown] = row
        for key in (own, shown.split("_")[0]):
            # An array's id stands for its tasks: active while any task is.
            if key not in found or (found[key]["state"] not in ACTIVE and state in ACTIVE):
                found[key] = row
    _CACHE.update(at=time.monotonic(), jobs=found)
    return found


def state(slurm_id: str | None) -> dict | None:
    """What squeue says of this Slurm job, or None when it does not know it (ended long ago, or no Slurm)."""
    return queue().get(str(slurm_id)) if slurm_id else None


def active(slurm_id: str | None) -> bool | None:
    """Whether the Slurm job still runs or waits; None when this machine cannot tell (no Slurm here)."""
    if not available():
        return None
    found = state(slurm_id)
    if found is None and slurm_id:
        # Submitted since the cached answer (by another process): ask again before calling it gone.
        found = queue(fresh=True).get(str(slurm_id))
    return bool(found and found["state"] in ACTIVE)


def show_job(slurm_id: str) -> dict[str, str]:
    """``scontrol show job ID`` as a dict (JobState, Dependency, NodeList, TimeLimit, Reason...)."""
    text = _run(["scontrol", "show", "job", "-o", str(slurm_id)], f"Reading Slurm job {slurm_id}")
    fields: dict[str, str] = {}
    for token in text.split():
        key, sep, value = token.partition("=")
        if sep:
            fields[key] = value
    return fields


def hostname() -> str:
    return socket.gethostname()
