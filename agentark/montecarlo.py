"""Monte-Carlo step labels (Math-Shepherd): from each step prefix, sample k completions and count the right ones.

A step's soft label is the fraction of its k rollouts that reach the reference answer, its hard label +1
when any did and -1 otherwise. Design decision: rollouts are batch-first across every step prefix of
every problem: one round of rollouts (one sample per prefix) is one engine call for a whole chunk of
prefixes, k calls per chunk. Like a debate, the job never opens the store: it reads the targets frozen
in its folder (``$AGENTARK_HOME/labeling/JOB_ID/``, the job framework's layout), writes one Parquet shard
of labels per finished chunk, and the kind's ingester takes shards into the store once; resuming skips
the targets that have labels.
"""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import pandas as pd
import pyarrow as pa

from agentark.backends import ENGINES, ChatRequest, Engine, EngineSpec, create_engine
from agentark.config import EMBEDDED_MODEL
from agentark.debate import solve_messages
from agentark.errors import ConfigError, EngineError
from agentark.grading import extract_answer, is_correct
from agentark.jobs.folder import JobFolder, atomic_write_table, shard_name
from agentark.jobs.registry import JobKind, Progress, register_kind
from agentark.jobs.runner import list_jobs, run_job
from agentark.store import Store, now
from agentark.store import labels as q

SOURCE = "auto:mc"
SERVER_OPTIONS = {"base_urls", "concurrency", "api_key_env", "timeout_s", "max_retries", "backoff_s"}
KIND = "mc_label"


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
        if self.engine not in ENGINES:
            raise ConfigError(f"Unknown engine '{self.engine}'; choose one of: {', '.join(sorted(ENGINES))}.")
        if SERVER_OPTIONS & set(self.engine_options) and self.engine != "openai":
            raise ConfigError("Server options (--base-url, --concurrency, --api-key-env, --timeout, --max-retries) "
                              "belong to --engine openai; add it or drop them.")

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
    """How many of k rollouts from each target's prefix reach its reference answer; k engine calls in all.

    A failed rollout is no evidence about the step, so it fails the chunk (EngineError) instead of counting
    as a wrong answer: nothing of the chunk is stored and resuming the job redoes it.
    """
    correct = [0] * len(targets)
    for round_ in range(cfg.k):
        requests = [rollout_request(t["question"], t["prefix"], cfg, round_) for t in targets]
        completions = engine.generate(requests)
        failed = [c.error for c in completions if not c.ok]
        if failed:
            raise EngineError(
                f"{len(failed)} of {len(requests)} rollouts failed ({failed[0]}); this chunk was not stored. Fix the "
                "engine or server, then resume the job (`python -m agentark label-mc --job-id JOB_ID`, or Resume "
                "on the Label steps page) to redo it.")
        for i, (t, c) in enumerate(zip(targets, completions)):
            if is_correct(extract_answer(t["prefix"] + c.text), t["reference_answer"]):
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


class MCFolder(JobFolder):
    """A Monte-Carlo labeling job's folder: ``targets.parquet`` (the frozen step prefixes) and one
    ``NAME.labels.parquet`` shard per finished chunk."""

    root = "labeling"

    def targets(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "targets.parquet")

    def done_step_ids(self) -> set[str]:
        done: set[str] = set()
        for name in self.finished_shards("labels"):
            done.update(pd.read_parquet(self.shard_path(name, "labels"), columns=["step_id"])["step_id"])
        return done

    def write_shard(self, rows: pd.DataFrame) -> str:
        name = shard_name()
        atomic_write_table(self.shard_path(name, "labels"), pa.Table.from_pandas(rows, preserve_index=False))
        return name


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
    """Freeze the targets and the config in a new job folder; return its id (start it with ``jobs.spawn``)."""
    from agentark.jobs.debate import check_engine

    # A model, server option or API key variable that would only fail in the worker fails here, before
    # a job folder exists.
    check_engine(cfg.engine_spec())
    targets = mc_targets(store, cfg)
    if targets.empty:
        raise ConfigError("Every step of these runs already has a Monte-Carlo label; untick 'skip labeled' to redo them.")
    folder = MCFolder(f"mc-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}")
    folder.path.mkdir(parents=True, exist_ok=True)
    atomic_write_table(folder.path / "targets.parquet", pa.Table.from_pandas(targets, preserve_index=False))
    folder.create({"kind": KIND, "config": cfg.to_dict(),
                   "created_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat()})
    folder.write_progress(done=0, total=len(targets))
    return folder.job_id


def run_mc(folder: MCFolder, on_progress: Progress | None = None, engine: Engine | None = None) -> dict:
    """The Monte-Carlo kind's run: every target without a label shard, chunk by chunk, stopping between
    chunks when asked."""
    cfg = MCConfig.from_dict(folder.meta()["config"])
    targets = folder.targets().to_dict("records")
    done = folder.done_step_ids()
    todo = [t for t in targets if t["step_id"] not in done]
    folder.write_progress(done=len(done), total=len(targets))
    if on_progress:
        on_progress(len(done), len(targets))
    if todo and engine is None:
        engine = create_engine(cfg.engine_spec())
    for start in range(0, len(todo), cfg.chunk_size):
        folder.check_cancel()
        chunk = todo[start : start + cfg.chunk_size]
        folder.write_shard(label_rows(folder.job_id, chunk, rollouts(engine, chunk, cfg), cfg.k))
        done.update(t["step_id"] for t in chunk)
        folder.write_progress(done=len(done))
        if on_progress:
            on_progress(len(done), len(targets))
    return {"status": "done", "done": len(done)}


def run_mc_job(job_id: str, engine: Engine | None = None, on_progress: Progress | None = None) -> dict:
    """Run (or resume) a Monte-Carlo job in this process until every target has a label shard."""
    return run_job(job_id, on_progress=on_progress, engine=engine)


def ingest_mc(store: Store, folder: MCFolder) -> int:
    """The Monte-Carlo kind's ingester: every finished label shard not yet in the store."""
    return sum(q.ingest_label_shard(store, folder.job_id, name, pd.read_parquet(folder.shard_path(name, "labels")))
               for name in folder.finished_shards("labels"))


def mc_jobs() -> pd.DataFrame:
    """Monte-Carlo jobs as their folders tell it: status and progress."""
    rows = [r for r in list_jobs() if r["kind"] == KIND]
    return pd.DataFrame(rows, columns=["job_id", "status", "done", "total", "error"])


MC_LABEL = register_kind(JobKind(KIND, MCFolder, run_mc, ingest_mc, title="Monte-Carlo labels"))
