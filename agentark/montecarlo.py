"""Monte-Carlo step labels (Math-Shepherd): from each step prefix, sample k completions and count the right ones.

A step's soft label is the fraction of its k rollouts that reach the reference answer, its hard label +1
when any did and -1 otherwise. Design decision: rollouts are batch-first across every step prefix of
every problem: one round of rollouts (one sample per prefix) is one engine call for a whole chunk of
prefixes, k calls per chunk. Like a debate, the job never opens the store: it reads the targets frozen
in its folder (``$AGENTARK_HOME/labeling/JOB_ID/``), writes one Parquet shard of labels per finished
chunk (temp name, then rename), and ``sync_mc_jobs`` ingests shards idempotently; re-running resumes.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from agentark import config
from agentark.backends import ChatRequest, Engine, EngineSpec, create_engine
from agentark.config import EMBEDDED_MODEL
from agentark.debate import solve_messages
from agentark.errors import ConfigError, JobError
from agentark.grading import extract_answer, is_correct
from agentark.runfolder import JobFiles, _atomic_write_bytes
from agentark.store import Store, now
from agentark.store import labels as q

SOURCE = "auto:mc"
Progress = Callable[[int, int], None]


@dataclass
class MCConfig:
    """A Monte-Carlo labeling job: which runs' steps, which engine, how many rollouts per step prefix."""

    run_ids: list[str] = field(default_factory=list)
    k: int = 4
    max_tokens: int = 256
    temperature: float = 0.7
    seed: int = 0
    engine: str = "transformers"
    model: str = EMBEDDED_MODEL
    engine_options: dict = field(default_factory=dict)
    chunk_size: int = 64
    skip_labeled: bool = True

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ConfigError(f"k (rollouts per step) must be at least 1 (got {self.k}); Math-Shepherd used 8.")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1 (got {self.max_tokens}).")
        if not 0 <= self.temperature <= 2:
            raise ConfigError(f"temperature must be between 0 and 2 (got {self.temperature}); rollouts need > 0 to differ.")
        if self.chunk_size < 1:
            raise ConfigError(f"chunk_size must be at least 1 (got {self.chunk_size}).")

    def engine_spec(self) -> EngineSpec:
        return EngineSpec(self.engine, self.model, dict(self.engine_options))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "MCConfig":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def rollout_request(question: str, prefix: str, cfg: MCConfig, round_: int) -> ChatRequest:
    """The problem as the user turn and the step prefix as the start of the assistant's reply."""
    return ChatRequest(solve_messages(question),
                       max_tokens=cfg.max_tokens, temperature=cfg.temperature, seed=cfg.seed + round_,
                       assistant_prefix=prefix)


def rollouts(engine: Engine, targets: list[dict], cfg: MCConfig) -> list[int]:
    """How many of k rollouts from each target's prefix reach its reference answer; k engine calls in all."""
    correct = [0] * len(targets)
    for round_ in range(cfg.k):
        requests = [rollout_request(t["question"], t["prefix"], cfg, round_) for t in targets]
        for i, (t, c) in enumerate(zip(targets, engine.generate(requests))):
            if c.ok and is_correct(extract_answer(t["prefix"] + c.text), t["reference_answer"]):
                correct[i] += 1
    return correct


def label_rows(job_id: str, targets: list[dict], correct: list[int], k: int) -> pd.DataFrame:
    """Label rows for ``step_labels``; ids are per job and step, so ingesting a shard twice adds nothing."""
    soft = [c / k for c in correct]
    return pd.DataFrame({
        "label_id": [f"mc:{job_id}:{t['step_id']}" for t in targets],
        "step_id": [t["step_id"] for t in targets],
        "value": [1.0 if c > 0 else -1.0 for c in correct],
        "soft_value": soft,
        # How one-sided the rollouts were: 1.0 when all agree, 0.5 at an even split.
        "confidence": [max(s, 1 - s) for s in soft],
        "source": SOURCE,
        "annotator": job_id,
        "flag": False,
        "note": [f"{c}/{k} rollouts correct" for c in correct],
        "created_at": now(),
    })


@dataclass
class MCFolder(JobFiles):
    job_id: str
    manifest = "job.json"

    @property
    def path(self) -> Path:
        return config.home() / "labeling" / self.job_id

    def require(self) -> "MCFolder":
        if not self.exists():
            raise JobError(f"No Monte-Carlo job '{self.job_id}' under {self.path.parent}; list jobs on the labeling page.")
        return self

    def meta(self) -> dict:
        return json.loads((self.require().path / "job.json").read_text())

    def targets(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "targets.parquet")

    def finished_shards(self) -> list[str]:
        return sorted(p.name[: -len(".labels.parquet")] for p in self.shards.glob("*.labels.parquet")) if self.shards.exists() else []

    def shard_path(self, name: str) -> Path:
        return self.shards / f"{name}.labels.parquet"

    def done_step_ids(self) -> set[str]:
        done: set[str] = set()
        for name in self.finished_shards():
            done.update(pd.read_parquet(self.shard_path(name), columns=["step_id"])["step_id"])
        return done

    def write_shard(self, rows: pd.DataFrame) -> str:
        import time

        name = f"{time.time_ns():020d}"
        final = self.shard_path(name)
        tmp = final.with_name(final.name + ".tmp")
        rows.to_parquet(tmp, index=False)
        os.replace(tmp, final)
        return name



def list_mc_folders() -> list[MCFolder]:
    root = config.home() / "labeling"
    return [MCFolder(p.name) for p in sorted(root.iterdir()) if (p / "job.json").exists()] if root.exists() else []


def mc_targets(store: Store, cfg: MCConfig) -> pd.DataFrame:
    """Every stored step of the chosen runs as a rollout target: its prefix, question and reference."""
    steps = q.steps_in_context(store, cfg.run_ids or None)
    if steps.empty:
        raise ConfigError("No steps to label: segment the runs first (labeling page, or `python -m agentark segment`).")
    if cfg.skip_labeled:
        done = q.labels_in_force(store, cfg.run_ids or None, [SOURCE])
        steps = steps[~steps["step_id"].isin(set(done["step_id"]))]
    content = q.transcript_messages(store, cfg.run_ids or None).set_index("message_id")["content"]
    prefixes = [content.get(r.message_id, "")[: r.char_end] for r in steps.itertuples()]
    return pd.DataFrame({"step_id": steps["step_id"].tolist(), "question": steps["question"].tolist(),
                         "reference_answer": steps["reference_answer"].astype(str).tolist(), "prefix": prefixes})


def create_mc_job(store: Store, cfg: MCConfig) -> str:
    """Freeze the targets and the config in a new job folder and record the job; return its id."""
    targets = mc_targets(store, cfg)
    if targets.empty:
        raise ConfigError("Every step of these runs already has a Monte-Carlo label; untick 'skip labeled' to redo them.")
    if cfg.engine == "transformers":
        from agentark.backends.transformers_engine import check_model

        check_model(cfg.model)
    job_id = f"mc-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    folder = MCFolder(job_id)
    folder.shards.mkdir(parents=True, exist_ok=True)
    targets.to_parquet(folder.path / "targets.parquet", index=False)
    meta = {"job_id": job_id, "kind": "mc_label", "config": cfg.to_dict(),
            "created_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat()}
    _atomic_write_bytes(folder.path / "job.json", json.dumps(meta, indent=2, sort_keys=True).encode())
    folder.write_progress(status="queued", done=0, total=len(targets))
    store.upsert_job({"job_id": job_id, "kind": "mc_label", "config": cfg.to_dict(), "status": "queued",
                      "log_path": str(folder.log_path)})
    return job_id


def run_mc_job(job_id: str, engine: Engine | None = None, on_progress: Progress | None = None) -> dict:
    """Run (or resume) a Monte-Carlo job in this process until every target has a label shard."""
    folder = MCFolder(job_id).require()
    cfg = MCConfig.from_dict(folder.meta()["config"])
    targets = folder.targets().to_dict("records")
    done = folder.done_step_ids()
    todo = [t for t in targets if t["step_id"] not in done]
    folder.write_progress(status="running", done=len(done), total=len(targets), pid=os.getpid(), error=None)
    if on_progress:
        on_progress(len(done), len(targets))
    try:
        if todo and engine is None:
            engine = create_engine(cfg.engine_spec())
        for start in range(0, len(todo), cfg.chunk_size):
            chunk = todo[start : start + cfg.chunk_size]
            folder.write_shard(label_rows(job_id, chunk, rollouts(engine, chunk, cfg), cfg.k))
            done.update(t["step_id"] for t in chunk)
            folder.write_progress(done=len(done))
            if on_progress:
                on_progress(len(done), len(targets))
    except BaseException as exc:
        folder.write_progress(status="failed" if isinstance(exc, Exception) else "interrupted",
                              error=f"{type(exc).__name__}: {exc}")
        raise
    return folder.write_progress(status="done", done=len(done))


def sync_mc_jobs(store: Store) -> int:
    """Ingest every finished label shard not yet in the store and refresh job statuses; return shards ingested."""
    ingested = 0
    for folder in list_mc_folders():
        for name in folder.finished_shards():
            ingested += q.ingest_label_shard(store, folder.job_id, name, pd.read_parquet(folder.shard_path(name)))
        status = folder.status()
        known = q.job_row(store, folder.job_id)
        if known is None:
            store.upsert_job({"job_id": folder.job_id, "kind": "mc_label", "config": folder.meta()["config"],
                              "status": status, "log_path": str(folder.log_path)})
        elif known["status"] != status:
            store.set_job_status(folder.job_id, status, ended=status in ("done", "failed", "interrupted"))
    return ingested


def start_mc_background(store: Store, job_id: str) -> int:
    """Start ``python -m agentark mc-worker JOB_ID`` in its own session and record it; return its pid."""
    folder = MCFolder(job_id).require()
    if folder.status() == "running":
        raise JobError(f"Monte-Carlo job '{job_id}' is already running (pid {folder.progress().get('pid')}).")
    root = str(Path(__file__).resolve().parent.parent)
    pythonpath = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, AGENTARK_HOME=str(config.home()), PYTHONUNBUFFERED="1", PYTHONPATH=pythonpath)
    with open(folder.log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "agentark", "mc-worker", job_id], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=os.getcwd(),
                                start_new_session=True)
    folder.write_progress(status="running", pid=proc.pid, error=None)
    store.upsert_job({"job_id": job_id, "kind": "mc_label", "config": folder.meta()["config"], "pid": proc.pid,
                      "status": "running", "log_path": str(folder.log_path),
                      "started_at": datetime.now(timezone.utc).replace(tzinfo=None)})
    return proc.pid


def mc_jobs() -> pd.DataFrame:
    """Monte-Carlo jobs as their folders tell it: status and progress."""
    rows = [{"job_id": f.job_id, "status": f.status(), "done": f.progress().get("done", 0),
             "total": f.progress().get("total", 0), "error": f.progress().get("error")} for f in list_mc_folders()]
    return pd.DataFrame(rows, columns=["job_id", "status", "done", "total", "error"])


def worker_main(job_id: str) -> int:
    try:
        run_mc_job(job_id, on_progress=lambda d, t: print(f"progress {d}/{t}", flush=True))
    except Exception:
        traceback.print_exc()
        return 1
    return 0
