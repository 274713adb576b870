"""The ``auto:judge`` label source: an LLM judge names the earliest wrong step of each trajectory (ProcessBench).

The judge gets the problem and the message's steps as indexed paragraphs and answers with ``\\boxed{k}``, the
index of the earliest wrong paragraph, or ``\\boxed{-1}`` when there is none (ProcessBench's critique prompt,
Zheng et al. 2024). Its verdict becomes labels: -1 on step k, +1 on the claim steps before it, nothing after (the
first-error convention); +1 on every claim step for -1. With ``samples`` above 1 the judge answers several
times and the majority index wins; the label's confidence is the share of replies that agree with it.
"The Lessons of Developing Process Reward Models" (Qwen, 2025) found such labels better than Monte-Carlo ones,
and best where both agree (the export's ``consensus`` policy).

Any OpenAI-compatible server serves as the judge, with the same engine options as a debate
(``GenerationConfig``). A reply that names no index, an index outside the trajectory, or a step that makes no
claim is refused for that trajectory, counted and kept in a ``NAME.refusals.parquet`` shard, never a crash; a
failed request counts the same, unless every request of a batch failed (the server is down): then the batch
fails the job, which resumes from its finished shards.

Design decision: like the Monte-Carlo kind, the trajectories are frozen in the job folder when it is created
(``steps.parquet``), a batch of trajectories is one engine call and one pair of shards (refusals, then labels:
a chunk is finished when its labels shard exists), and resuming skips every finished trajectory.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from agentark.backends import ChatRequest, Engine, create_engine
from agentark.clock import now
from agentark.errors import ConfigError, EngineError
from agentark.generation import GenerationConfig
from agentark.jobs.folder import LabelJobFolder, atomic_write_table, shard_name
from agentark.jobs.registry import JobKind, Plan, Progress, register_kind
from agentark.labels.labelers import Labeler, register_labeler
from agentark.labels.segment import steps_to_label
from agentark.options import run_ids_field
from agentark.store import Store
from agentark.store import label_tables as q

SOURCE = "auto:judge"
KIND = "judge_label"
PROMPT = """The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed \
from 0):

[Math Problem]

{problem}

[Solution]

{paragraphs}

Your task is to review and critique the solution paragraph by paragraph. Once you identify an error in a \
paragraph, return the index of the paragraph where the earliest error occurs. Otherwise, return the index of -1 \
(which typically denotes "not found").

Please put your final answer (i.e., the index) in \\boxed{{}}."""
_BOXED = re.compile(r"\\boxed\s*\{\s*([^{}]*?)\s*\}")
REFUSAL_COLUMNS = ["message_id", "reason", "reply"]


@dataclass
class JudgeConfig(GenerationConfig):
    """An LLM-judge labeling job: which runs' steps, which server and model judge, how many replies each."""

    run_ids: list[str] = run_ids_field("Runs whose steps to label; every run when empty.")
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature (0: the judge's single best "
                                                              "verdict; raise it with samples > 1)",
                                                      "min": 0, "max": 2, "step": 0.05})
    max_tokens: int = field(default=1024, metadata={"help": "new tokens per critique at most", "min": 1})
    samples: int = field(default=1, metadata={
        "help": "judge replies per trajectory; the majority index wins and its share is the label's confidence",
        "min": 1, "max": 32})
    chunk_size: int = field(default=32, metadata={"help": "trajectories per batch and per shard", "min": 1})
    skip_labeled: bool = field(default=True, metadata={"help": "leave out trajectories that already have judge "
                                                               "labels"})


def judge_prompt(question: str, steps: list[str]) -> str:
    paragraphs = "\n\n".join(f"<paragraph_{i}>\n{text}\n</paragraph_{i}>" for i, text in enumerate(steps))
    return PROMPT.format(problem=question, paragraphs=paragraphs)


def parse_verdict(reply: str, n_steps: int) -> tuple[int | None, str | None]:
    """(index, None) for a reply whose last ``\\boxed{}`` holds -1 or a step index, else (None, why it is refused)."""
    found = _BOXED.findall(reply or "")
    if not found:
        return None, "no \\boxed{index} in the reply"
    raw = found[-1].strip()
    if not re.fullmatch(r"[-+]?\d+", raw):
        return None, f"\\boxed{{{raw[:40]}}} is not a step index"
    k = int(raw)
    if not -1 <= k < n_steps:
        return None, f"index {k} is outside -1..{n_steps - 1}"
    return k, None


def verdict_labels(step_ids: list[str], claims: list[bool], k: int) -> list[tuple[str, float]]:
    """Labels for a verdict: +1 on claim steps before step ``k`` and -1 on it; +1 on every claim step for -1."""
    if k == -1:
        return [(s, 1.0) for s, c in zip(step_ids, claims) if c]
    return [(s, 1.0) for s, c in zip(step_ids[:k], claims[:k]) if c] + [(step_ids[k], -1.0)]


def trajectories(steps: pd.DataFrame) -> list[dict]:
    """One trajectory per message: question, step ids, texts and claims, in step order."""
    out = []
    for message_id, g in steps.groupby("message_id", sort=False):
        g = g.sort_values("idx")
        claims = [True if c is None or pd.isna(c) else bool(c) for c in g["claim"]] if "claim" in g else [True] * len(g)
        out.append({"message_id": message_id, "question": str(g["question"].iloc[0]), "step_ids": list(g["step_id"]),
                    "texts": [str(t) for t in g["text"]], "claims": claims})
    return out


def judge_chunk(engine: Engine, chunk: list[dict], cfg: JudgeConfig, job_id: str,
                model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Label rows and refusals for a batch of trajectories: ``samples`` engine calls, each over the whole batch."""
    replies: list[list[tuple[int | None, str | None, str]]] = [[] for _ in chunk]
    failed = 0
    for i in range(cfg.samples):
        requests = [ChatRequest([{"role": "user", "content": judge_prompt(t["question"], t["texts"])}],
                                max_tokens=cfg.max_tokens, temperature=cfg.temperature, seed=cfg.seed + i)
                    for t in chunk]
        for j, (t, c) in enumerate(zip(chunk, engine.generate(requests))):
            if not c.ok:
                failed += 1
                replies[j].append((None, f"the request failed: {c.error}", ""))
                continue
            k, why = parse_verdict(c.text, len(t["texts"]))
            if k is not None and k >= 0 and not t["claims"][k]:
                k, why = None, f"index {k} points at a step that makes no claim"
            replies[j].append((k, why, c.text))
    if failed == len(chunk) * cfg.samples:
        raise EngineError(f"Every judge request of this batch failed ({replies[0][0][1]}); nothing of it was stored. "
                          "Fix the server, then resume the job (`python -m agentark label-judge --job-id JOB_ID`).")
    labels, refusals = [], []
    for t, mine in zip(chunk, replies):
        votes = Counter(k for k, _, _ in mine if k is not None)
        if not votes:
            _, why, text = mine[-1]
            refusals.append((t["message_id"], why, (text or "")[-300:]))
            continue
        k, n = votes.most_common(1)[0]
        note = f"judge {model}: " + ("no wrong step" if k == -1 else f"earliest error at step {k}") + \
            (f" ({n} of {cfg.samples} replies)" if cfg.samples > 1 else "")
        for step_id, value in verdict_labels(t["step_ids"], t["claims"], k):
            labels.append({"label_id": f"judge:{job_id}:{step_id}", "step_id": step_id, "value": value,
                           "confidence": n / cfg.samples, "note": note})
    frame = pd.DataFrame(labels, columns=["label_id", "step_id", "value", "confidence", "note"])
    frame["source"], frame["annotator"], frame["flag"], frame["soft_value"] = SOURCE, job_id, False, None
    frame["created_at"] = now()
    return frame.reindex(columns=q.LABEL_COLUMNS), pd.DataFrame(refusals, columns=REFUSAL_COLUMNS)


class JudgeFolder(LabelJobFolder):
    """A judge labeling job's folder: ``steps.parquet`` (the frozen trajectories), and per finished batch a
    ``NAME.refusals.parquet`` (written first) and a ``NAME.labels.parquet`` (whose existence finishes it)."""

    def steps(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "steps.parquet")

    def refusals(self) -> pd.DataFrame:
        """Every refused trajectory of the finished batches, with why."""
        frames = [pd.read_parquet(self.shard_path(n, "refusals")) for n in self.finished_shards("labels")
                  if self.shard_path(n, "refusals").exists()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REFUSAL_COLUMNS)

    def write_batch(self, labels: pd.DataFrame, refusals: pd.DataFrame) -> str:
        name = shard_name()
        atomic_write_table(self.shard_path(name, "refusals"), pa.Table.from_pandas(refusals, preserve_index=False))
        schema = pa.schema([("label_id", pa.string()), ("step_id", pa.string()), ("value", pa.float64()),
                            ("source", pa.string()), ("annotator", pa.string()), ("confidence", pa.float64()),
                            ("flag", pa.bool_()), ("note", pa.string()), ("created_at", pa.timestamp("us")),
                            ("soft_value", pa.float64())])
        atomic_write_table(self.shard_path(name, "labels"),
                           pa.Table.from_pandas(labels, schema=schema, preserve_index=False))
        return name


def _frozen_steps(store: Store, cfg: JudgeConfig) -> pd.DataFrame:
    steps, done = steps_to_label(store, cfg.run_ids, SOURCE, cfg.skip_labeled)
    if cfg.skip_labeled:
        judged = set(steps.loc[steps["step_id"].isin(set(done["step_id"])), "message_id"])
        steps = steps[~steps["message_id"].isin(judged)]
    return steps[["message_id", "step_id", "idx", "question", "text", "claim"]].reset_index(drop=True)


def plan_judge(cfg: JudgeConfig, store: Store) -> Plan:
    """The kind's preflight: the engine can be built and some trajectory still lacks judge labels; the
    trajectories are frozen in the job's folder."""
    from agentark.debate.debate_job import check_engine

    check_engine(cfg.engine_spec())
    steps = _frozen_steps(store, cfg)
    if steps.empty:
        raise ConfigError("Every trajectory of these runs already has judge labels; unset [[skip_labeled]] to judge "
                          "them again.")
    return Plan(cfg, total=int(steps["message_id"].nunique()), id_prefix="judge", tables={"steps": steps})


def run_judge(folder: JudgeFolder, on_progress: Progress | None = None, engine: Engine | None = None) -> dict:
    """The kind's run: every trajectory without a finished batch, a chunk at a time, stopping between chunks."""
    cfg = JudgeConfig.from_dict(folder.meta()["config"])
    items = trajectories(folder.steps())
    done_steps = folder.done_step_ids()
    refused = folder.refusals()
    finished = set(refused["message_id"]) | {t["message_id"] for t in items if set(t["step_ids"]) & done_steps}
    todo = [t for t in items if t["message_id"] not in finished]
    done = len(items) - len(todo)
    folder.write_progress(done=done, total=len(items), refused=len(refused))
    if on_progress:
        on_progress(done, len(items))
    if todo and engine is None:
        engine = create_engine(cfg.engine_spec())
    n_refused = len(refused)
    for start in range(0, len(todo), cfg.chunk_size):
        folder.check_cancel()
        chunk = todo[start:start + cfg.chunk_size]
        labels, refusals = judge_chunk(engine, chunk, cfg, folder.job_id, cfg.model)
        folder.write_batch(labels, refusals)
        done, n_refused = done + len(chunk), n_refused + len(refusals)
        folder.write_progress(done=done, refused=n_refused)
        if on_progress:
            on_progress(done, len(items))
    return {"status": "done", "done": done, "refused": n_refused}


def ingest_judge(store: Store, folder: JudgeFolder) -> int:
    """The kind's ingester: each finished labels shard once."""
    return sum(q.ingest_label_shard(store, folder.job_id, name, pd.read_parquet(folder.shard_path(name, "labels")))
               for name in folder.finished_shards("labels"))


def judge_jobs() -> pd.DataFrame:
    """Judge labeling jobs as their folders tell it: status, progress and refused trajectories."""
    from agentark.jobs.runner import list_jobs

    rows = list_jobs(KIND)
    for row in rows:
        row["refused"] = JudgeFolder(row["job_id"]).progress().get("refused", 0)
    return pd.DataFrame(rows, columns=["job_id", "status", "done", "total", "refused", "error"])


JUDGE_LABEL = register_kind(JobKind(KIND, JudgeFolder, run_judge, ingest_judge, title="Judge labels",
                                    config=JudgeConfig, preflight=plan_judge, reads=("runs",), registers="labels"))


def judge_notes(job_id: str, final: dict) -> list[str]:
    """What the CLI adds after a judge job's label count: the trajectories refused, and the first few reasons."""
    lines = [f"{final.get('refused', 0)} trajectories refused (a reply with no valid index)"]
    return lines + [f"refused {r.message_id}: {r.reason}" for r in JudgeFolder(job_id).refusals().head(5).itertuples()]


JUDGE_LABELER = register_labeler(Labeler(
    SOURCE, "LLM judge", "a served model names each trajectory's earliest wrong step (ProcessBench prompt)",
    config=JudgeConfig, kind=KIND, jobs=judge_jobs, notes=judge_notes, order=30, precedence=3, consensus=True,
    negatives="an LLM judge (`python -m agentark label-judge --engine openai --base-url URL --model MODEL`)"))
