"""The ``auto:prm`` label source: a trained studio PRM labels stored steps, with a confidence.

Each message's steps are scored in one forward pass (:class:`agentark.train.prm_scoring.PRMScorer`); a step
whose probability of being good reaches the threshold gets +1, otherwise -1. The probability itself is kept
as the label's ``soft_value`` (so a soft PRM export can use it) and ``max(p, 1 - p)`` as its confidence, so
the labeling page's "lowest automatic confidence first" queue puts the PRM's doubtful steps in front of a
person. Design decision: like the other automatic labelers, :func:`prm_label_rows` is a pure function from
steps and scores to label rows, and a rerun appends only labels that change what is in force (a new value,
or a probability that moved), so labelling twice with the same PRM adds nothing.

Two ways to run it: :func:`run_prm_labeler` in this process for a small selection, or the ``prm_label``
job kind on the job framework (folder ``$AGENTARK_HOME/labeling/JOB_ID/``): the steps are frozen in the
folder, the worker scores them a chunk of trajectories at a time and writes one shard of label rows per
chunk (stopping between chunks when asked, skipping finished trajectories on resume), and the kind's
ingester appends each shard once.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import pandas as pd

from agentark.clock import now
from agentark.errors import ConfigError
from agentark.jobs.folder import LabelJobFolder
from agentark.jobs.machine import DEVICE_CHOICES
from agentark.jobs.registry import JobKind, Plan, Progress, register_kind
from agentark.labels.labelers import Labeler, register_labeler
from agentark.options import ConfigBase, run_ids_field
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.store import ledger_tables

SOURCE = "auto:prm"
KIND = "prm_label"
SOFT_CHANGE = 1e-3


@dataclass
class PRMLabelConfig(ConfigBase):
    """Which PRM labels which runs' steps, and where it calls a step wrong."""

    model: str = field(default="", metadata={"help": "The PRM: a studio model id, or the model or checkpoint folder "
                                                     "a PRM training job wrote.", "suggest": lambda: trained_prms()})
    run_ids: list[str] = run_ids_field("Runs whose steps to label; every run when empty.")
    threshold: float = field(default=0.5, metadata={
        "help": "A step whose probability of being good is below this gets -1, otherwise +1."})
    batch_size: int = field(default=16, metadata={"help": "Trajectories per forward pass."})
    device: str = field(default="auto", metadata={"help": "auto (CUDA when visible), cpu or cuda.",
                                                  "choices": DEVICE_CHOICES})
    chunk_size: int = field(default=256, metadata={
        "help": "Trajectories per shard in a background job (a stop or crash loses at most one chunk)."})

    def __post_init__(self) -> None:
        if not str(self.model).strip():
            raise ConfigError("No PRM given: set [[model]] to a studio PRM id or folder (train one with "
                              "`python -m agentark train prm`).")
        if not 0 < self.threshold < 1:
            raise ConfigError(f"[[threshold]] must be between 0 and 1 (got {self.threshold}).")
        if self.batch_size < 1 or self.chunk_size < 1:
            raise ConfigError(f"[[batch_size]] and [[chunk_size]] must be at least 1 (got {self.batch_size}, "
                              f"{self.chunk_size}).")
        if self.device not in DEVICE_CHOICES:
            raise ConfigError(f"[[device]] must be one of {', '.join(DEVICE_CHOICES)} (got '{self.device}').")


def trajectories(steps: pd.DataFrame) -> list[tuple[str, str, list[str], list[str]]]:
    """(message_id, question, step ids, step texts) per message, steps in order."""
    out = []
    for message_id, g in steps.groupby("message_id", sort=False):
        g = g.sort_values("idx")
        out.append((message_id, str(g["question"].iloc[0]), list(g["step_id"]), [str(t) for t in g["text"]]))
    return out


def prm_label_rows(step_ids: list[list[str]], scores: list[list[float]], threshold: float) -> pd.DataFrame:
    """Label rows (step_id, value, confidence, soft_value) from each trajectory's step probabilities."""
    rows = [(sid, 1.0 if p >= threshold else -1.0, max(p, 1.0 - p), float(p))
            for ids, ps in zip(step_ids, scores) for sid, p in zip(ids, ps)]
    return pd.DataFrame(rows, columns=["step_id", "value", "confidence", "soft_value"])


def changed_only(fresh: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """The fresh labels that differ from those in force: another value, or a probability that moved."""
    if fresh.empty or current.empty:
        return fresh
    merged = fresh.merge(current[["step_id", "value", "soft_value"]], on="step_id", how="left", suffixes=("", "_old"))
    moved = (merged["soft_value"] - merged["soft_value_old"].astype(float)).abs() > SOFT_CHANGE
    keep = merged["value_old"].isna() | (merged["value"] != merged["value_old"]) | moved.fillna(True)
    return merged.loc[keep, fresh.columns].reset_index(drop=True)


def stamp(rows: pd.DataFrame, model: str) -> pd.DataFrame:
    """Turn label rows into ``step_labels`` rows of source auto:prm, noting which PRM gave them."""
    rows = rows.copy()
    rows["label_id"] = [f"{SOURCE}:{secrets.token_hex(10)}" for _ in range(len(rows))]
    rows["source"] = SOURCE
    rows["annotator"] = None
    rows["flag"] = False
    rows["note"] = f"prm {model}"
    rows["created_at"] = now()
    return rows


def _steps(store: Store, cfg: PRMLabelConfig) -> pd.DataFrame:
    """The runs' stored steps with their question; refused when the runs have none."""
    steps = q.steps_in_context(store, cfg.run_ids or None)
    if steps.empty:
        raise ConfigError("No steps to label: segment the runs first (labeling page, or `python -m agentark segment`).")
    return steps


def run_prm_labeler(store: Store, cfg: PRMLabelConfig, scorer=None) -> int:
    """Label the runs' stored steps with the PRM (loaded from ``cfg.model`` unless given); return labels written."""
    steps = _steps(store, cfg)
    if scorer is None:
        from agentark.train.prm_scoring import load_prm

        scorer = load_prm(cfg.model, device=cfg.device, batch_size=cfg.batch_size)
    items = trajectories(steps)
    scores = scorer.score([(question, texts) for _, question, _, texts in items])
    fresh = prm_label_rows([ids for _, _, ids, _ in items], scores, cfg.threshold)
    fresh = changed_only(fresh, q.labels_in_force(store, cfg.run_ids or None, [SOURCE]))
    return q.append_labels(store, stamp(fresh, cfg.model)) if not fresh.empty else 0


# -- the prm_label job kind -------------------------------------------------------------------------------
class PRMLabelFolder(LabelJobFolder):
    """A PRM labeling job's folder: ``steps.parquet`` (the frozen steps with their question) and one
    ``NAME.labels.parquet`` shard of label rows per finished chunk of trajectories."""

    def steps(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "steps.parquet")


def plan_prm_label(cfg: PRMLabelConfig, store: Store) -> Plan:
    """The kind's preflight: the PRM is a studio PRM and the runs have steps; the steps (with their question)
    are frozen in the job's folder. A folder that is not a studio PRM is refused before any job exists."""
    from agentark.train.prm_scoring import prm_folder, read_meta

    read_meta(prm_folder(cfg.model))
    frozen = _steps(store, cfg)[["message_id", "step_id", "idx", "question", "text"]].reset_index(drop=True)
    return Plan(cfg, total=int(frozen["message_id"].nunique()), id_prefix="prm-label", tables={"steps": frozen})


def run_prm_label(folder: PRMLabelFolder, on_progress: Progress | None = None, scorer=None) -> dict:
    """The kind's run: score every trajectory without a shard, a chunk at a time, one forward batch
    (``batch_size`` trajectories) after another. A stop is honoured after the batch in flight: the chunk's
    scored trajectories are stored as a shard first, so no finished work is lost."""
    cfg = PRMLabelConfig.from_dict(folder.meta()["config"])
    items = trajectories(folder.steps())
    done_steps = folder.done_step_ids()
    todo = [t for t in items if not set(t[2]) <= done_steps]
    done = len(items) - len(todo)
    folder.write_progress(done=done, total=len(items), stage="loading the PRM" if todo else "finished")
    if on_progress:
        on_progress(done, len(items))
    if todo and scorer is None:
        from agentark.train.prm_scoring import load_prm

        scorer = load_prm(cfg.model, device=cfg.device, batch_size=cfg.batch_size)
    chunks = [todo[start : start + cfg.chunk_size] for start in range(0, len(todo), cfg.chunk_size)]
    for number, chunk in enumerate(chunks, 1):
        folder.check_cancel()
        scored: list[list[float]] = []
        for start in range(0, len(chunk), cfg.batch_size):
            if folder.cancel_requested():
                break
            batch = chunk[start : start + cfg.batch_size]
            scored += scorer.score([(question, texts) for _, question, _, texts in batch])
            folder.write_progress(stage=f"chunk {number}/{len(chunks)}: {len(scored)}/{len(chunk)} trajectories "
                                        "scored")
        finished = chunk[: len(scored)]
        if finished:
            folder.write_shard(stamp(prm_label_rows([ids for _, _, ids, _ in finished], scored, cfg.threshold),
                                     cfg.model))
        done += len(finished)
        folder.write_progress(done=done, stage=f"chunk {number}/{len(chunks)} stored")
        if on_progress:
            on_progress(done, len(items))
        folder.check_cancel()
    return {"status": "done", "done": done, "stage": "finished"}


def ingest_prm_label(store: Store, folder: PRMLabelFolder) -> int:
    """The kind's ingester: each finished shard once, keeping only labels that change what is in force."""
    ingested = 0
    seen = ledger_tables.ingested_shards(store, folder.job_id)
    for name in folder.finished_shards("labels"):
        if name in seen:
            continue
        rows = pd.read_parquet(folder.shard_path(name, "labels"))
        current = q.labels_in_force(store, None, [SOURCE])
        current = current[current["step_id"].isin(set(rows["step_id"]))]
        fresh = changed_only(rows[["step_id", "value", "confidence", "soft_value"]], current)
        ingested += q.ingest_label_shard(store, folder.job_id, name, rows[rows["step_id"].isin(set(fresh["step_id"]))])
    return ingested


def prm_label_jobs() -> pd.DataFrame:
    """PRM labeling jobs as their folders tell it: status and progress."""
    from agentark.jobs.runner import list_jobs

    rows = list_jobs(KIND)
    return pd.DataFrame(rows, columns=["job_id", "status", "done", "total", "error"])


def trained_prms() -> list[str]:
    """Ids of the PRMs the studio trained, newest first, for the labeling and training pages' pickers."""
    from agentark.checkpoints import model_ids
    from agentark.train.prm import PRM

    return model_ids(PRM.name)


PRM_LABEL = register_kind(JobKind(KIND, PRMLabelFolder, run_prm_label, ingest_prm_label, title="PRM labels",
                                  config=PRMLabelConfig, preflight=plan_prm_label, reads=("runs", "model:prm"),
                                  registers="labels", resources={"cpus": 2, "time_limit": "06:00:00"}))

PRM_LABELER = register_labeler(Labeler(
    SOURCE, "PRM", "a trained PRM scores every step, with confidence", config=PRMLabelConfig, kind=KIND,
    jobs=prm_label_jobs, by_job=False, order=25))
