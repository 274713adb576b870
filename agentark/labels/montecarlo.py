"""Monte-Carlo step labels (Math-Shepherd): from each step prefix, sample k completions and count the right ones.

A step's soft label is the fraction of its k rollouts that reach the reference answer, its hard label +1
when any did and -1 otherwise. Design decision: rollouts are batch-first across every step prefix of
every problem: one round of rollouts (one sample per prefix) is one engine call for a whole chunk of
prefixes, k calls per chunk. This module is the labeler itself; running it as a resumable job (folder,
shards, ingestion) is the ``mc_label`` job kind in ``agentark.labels.montecarlo_job``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from agentark.backends import ChatRequest, Engine
from agentark.clock import now
from agentark.debate import solve_messages
from agentark.errors import EngineError
from agentark.generation import GenerationConfig
from agentark.grading import extract_answer, is_correct
from agentark.labels.segment import steps_to_label
from agentark.options import run_ids_field
from agentark.store import Store
from agentark.store import label_tables as q

SOURCE = "auto:mc"


@dataclass
class MCConfig(GenerationConfig):
    """A Monte-Carlo labeling job: which runs' steps, which engine, how many rollouts per step prefix."""

    run_ids: list[str] = run_ids_field("Runs whose steps to label; every run when empty.")
    k: int = field(default=4, metadata={"help": "rollouts per step prefix", "min": 1, "hint": "Math-Shepherd used 8."})
    chunk_size: int = field(default=64, metadata={"help": "step prefixes per batch and per shard", "min": 1})
    skip_labeled: bool = field(default=True, metadata={"help": "leave out steps that already have a Monte-Carlo "
                                                               "label"})


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


def mc_targets(store: Store, cfg: MCConfig) -> pd.DataFrame:
    """Every stored step of the chosen runs as a rollout target: its prefix, question and reference."""
    steps, done = steps_to_label(store, cfg.run_ids, SOURCE, cfg.skip_labeled)
    if cfg.skip_labeled:
        steps = steps[~steps["step_id"].isin(set(done["step_id"]))]
    content = q.transcript_messages(store, cfg.run_ids or None).set_index("message_id")["content"]
    prefixes = [content.get(r.message_id, "")[: r.char_end] for r in steps.itertuples()]
    return pd.DataFrame({"step_id": steps["step_id"].tolist(), "question": steps["question"].tolist(),
                         "reference_answer": steps["reference_answer"].astype(str).tolist(), "prefix": prefixes})
