"""A minimal job kind for the framework's tests, shaped like the example in docs/architecture.md.

``count`` counts to ``n`` one step at a time: each step writes a checkpoint (``checkpoints/step-N``) and
two metrics, and polls for a stop request; resuming starts after the newest checkpoint. Importable by a
worker process, which finds this module through the ``module`` field of the job's manifest.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

from agentark import jobs
from agentark.errors import ConfigError
from agentark.jobs import JobFolder, JobKind, Plan, Progress, register_kind
from agentark.options import ConfigBase


@dataclass
class CountConfig(ConfigBase):
    n: int = 5
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ConfigError(f"n must be at least 1 (got {self.n}).")


class CountFolder(JobFolder):
    """Root ``jobs``, manifest ``job.json``: the framework's defaults."""


def plan_count(cfg: CountConfig) -> Plan:
    return Plan(cfg, total=cfg.n, id_prefix="count")


def create_count_job(cfg: CountConfig) -> str:
    return jobs.create("count", cfg).job_id


def run_count(folder: CountFolder, on_progress: Progress | None = None) -> dict:
    cfg = CountConfig.from_dict(folder.meta()["config"])
    latest = folder.latest_checkpoint()
    for step in range((latest[0] if latest else 0) + 1, cfg.n + 1):
        folder.check_cancel()
        time.sleep(cfg.delay_s)
        tmp = folder.checkpoints / f".step-{step}.tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "state.json").write_text(json.dumps({"step": step}))
        os.replace(tmp, folder.checkpoint_dir(step))
        folder.write_metrics([(step, "value", float(step)), (step, "loss", 1.0 / step)])
        folder.write_progress(done=step, stage=f"step {step}")
        if on_progress:
            on_progress(step, cfg.n)
    return {"status": "done", "done": cfg.n}


def ingest_count(store, folder: CountFolder) -> int:
    """Nothing of its own to ingest: its metrics shards are ingested by the framework for every kind."""
    return 0


COUNT = register_kind(JobKind("count", CountFolder, run_count, ingest_count, title="Count (test kind)",
                              config=CountConfig, preflight=plan_count))
