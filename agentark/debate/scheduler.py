"""The round scheduler: runs a chunk of problems through a method batch-first.

Design decision: ``run_chunk`` steps every problem's method generator in lockstep, so one round of every
agent on every problem of a chunk is one ``generate`` call per engine; the scheduler never loops one
request at a time. ``message_record`` and ``outcome_record`` are the row shapes every importer reuses, and
``grade_message`` / ``decide`` are the one grading rule that live runs, imports and ``regrade`` share.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from agentark.backends import ChatRequest, Completion, Engine
from agentark.debate.debate_config import DebateConfig, build_engines
from agentark.debate.methods import DECIDERS, METHODS, Decision, Play, Turn
from agentark.grading import answer_choices, answers_equal, is_correct, normalize_answer, read_answer
from agentark.progress import share_of
from agentark.tasks import Problem


@dataclass
class ChunkResult:
    messages: list[dict]
    outcomes: list[dict]


def message_id(run_id: str, problem_id: str, seq: int, attempt: int = 0) -> str:
    """A message's id; a retried problem's messages (``attempt`` 1, 2, ...) get new ids, so steps and labels
    of an earlier attempt never attach to the new text."""
    return f"{run_id}:{problem_id}:{seq:04d}" if not attempt else f"{run_id}:{problem_id}:a{attempt}:{seq:04d}"


def grade_message(content: str | None, finish_reason: str | None, failed: bool, reference: str,
                  question: str) -> dict:
    """The graded fields of a message (answer, answer_norm, answer_kind, is_correct) by the one rule every
    run, import and regrade uses: ``grading.read_answer`` (a message cut off at the token limit has an answer
    only if it states one; a choice reference reads choices). A failed message has no answer and is
    ungraded (``is_correct`` NULL); one without an answer is wrong."""
    if failed:
        return {"answer": None, "answer_norm": None, "answer_kind": None, "is_correct": None}
    reading = read_answer(content or "", finish_reason, answer_choices(reference, question))
    return {"answer": reading.answer, "answer_norm": normalize_answer(reading.answer),
            "answer_kind": reading.kind,
            "is_correct": bool(reading.answer is not None and is_correct(reading.answer, reference))}


def message_record(run_id: str, problem: Problem, turn: Turn, seq: int, completion: Completion,
                   attempt: int = 0, finish_reason: str | None = "") -> dict:
    """The ``messages`` row of one finished turn, graded against the problem's reference answer.

    ``finish_reason`` overrides the completion's (None for an imported file that does not say why a message
    ended: its answers may then be implicit, the last number, and are marked so)."""
    reason = completion.finish_reason if finish_reason == "" else finish_reason
    return {
        "message_id": message_id(run_id, problem.problem_id, seq, attempt),
        "run_id": run_id,
        "problem_id": problem.problem_id,
        "agent": turn.agent,
        "round": turn.round,
        "role": turn.role,
        "seq": seq,
        "model": completion.model,
        "content": completion.text,
        **grade_message(completion.text, reason, not completion.ok, problem.reference_answer, problem.question),
        "prompt_tokens": int(completion.prompt_tokens),
        "completion_tokens": int(completion.completion_tokens),
        "latency_ms": float(completion.latency_ms),
        "error": completion.error,
        "finish_reason": reason,
    }


def answer_changes(records: list[dict]) -> int:
    """How many times a solver's answer differed from its own answer in the previous round."""
    by_agent: dict[str, list[dict]] = {}
    for r in records:
        if r["role"] == "solver":
            by_agent.setdefault(r["agent"], []).append(r)
    changes = 0
    for rows in by_agent.values():
        rows.sort(key=lambda r: r["round"])
        for prev, cur in zip(rows, rows[1:]):
            if not answers_equal(prev["answer"], cur["answer"]) and not (prev["answer"] is None and cur["answer"] is None):
                changes += 1
    return changes


def decide(records: list[dict], first_agent_tie_break: bool = False) -> Decision:
    """A problem's decision re-made from its stored messages, as the methods make it live: the answer of a
    judge or aggregator that spoke last, else the majority vote of each solver's latest answer (a tie has no
    answer unless ``first_agent_tie_break``, Du et al.'s rule)."""
    ordered = sorted(records, key=lambda r: r["seq"])
    if ordered and ordered[-1]["role"] in DECIDERS and ordered[-1]["answer"] is not None:
        return Decision(ordered[-1]["answer"])
    latest: dict[str, dict] = {}
    for r in ordered:
        if r["role"] == "solver":
            latest[r["agent"]] = r
    return Decision.by_vote([r["answer"] for r in latest.values()], first_agent_tie_break)


def _known_sum(values: list) -> int | None:
    """The sum of recorded counts; None (unknown) when any is unknown, so an unrecorded cost is never 0."""
    return None if any(v is None for v in values) else sum(values)


def outcome_record(run_id: str, problem: Problem, decision: Decision, records: list[dict],
                   wall_ms: float | None) -> dict:
    """The ``outcomes`` row of one problem: the decision, consensus, answer changes, whether the vote tied,
    and cost (None where a message's tokens or the problem's time were not recorded)."""
    solvers = [r for r in records if r["role"] == "solver"]
    last_round = max((r["round"] for r in solvers), default=0)
    finals = [r["answer"] for r in solvers if r["round"] == last_round]
    agree = sum(1 for a in finals if decision.final_answer is not None and answers_equal(a, decision.final_answer))
    return {
        "run_id": run_id,
        "problem_id": problem.problem_id,
        "final_answer": decision.final_answer,
        "is_correct": bool(decision.final_answer is not None and is_correct(decision.final_answer, problem.reference_answer)),
        "consensus": agree / len(finals) if finals else 0.0,
        "answer_changes": answer_changes(records),
        "prompt_tokens": _known_sum([r["prompt_tokens"] for r in records]),
        "completion_tokens": _known_sum([r["completion_tokens"] for r in records]),
        "engine_calls": len(records),
        "wall_ms": wall_ms,
        "vote_tie": bool(decision.tie),
    }


def run_chunk(
    problems: list[Problem],
    cfg: DebateConfig,
    run_id: str,
    engines: dict[str, Engine] | None = None,
    on_round: Callable[[int], None] | None = None,
    attempts: dict[str, int] | None = None,
) -> ChunkResult:
    """Debate every problem of a chunk; each step of all problems is one ``generate`` call per engine.

    ``attempts`` says how many times a problem was tried before (a resume retrying failed requests), which
    gives its messages new ids. A problem's ``wall_ms`` is its share of the engine calls it took part in:
    each call's wall time split equally over the requests it served, so the problems of a run add up to the
    run's engine time whatever the chunk size.
    """
    attempts = attempts or {}
    engines = engines if engines is not None else build_engines(cfg)
    method = METHODS[cfg.method](cfg)
    plays: dict[str, Play] = {}
    pending: dict[str, list[Turn]] = {}
    records: dict[str, list[dict]] = {p.problem_id: [] for p in problems}
    wall: dict[str, float] = {p.problem_id: 0.0 for p in problems}
    by_id = {p.problem_id: p for p in problems}
    outcomes: list[dict] = []
    for p in problems:
        plays[p.problem_id] = method.play(p)
        pending[p.problem_id] = next(plays[p.problem_id])
    step = 0
    while pending:
        step += 1
        finished: dict[str, list[dict]] = {pid: [] for pid in pending}
        per_engine: dict[str, list[tuple[str, Turn]]] = {}
        for pid, turns in pending.items():
            for t in turns:
                per_engine.setdefault(t.engine, []).append((pid, t))
        offset, step_requests = 0, sum(len(items) for items in per_engine.values())
        for engine_key, items in per_engine.items():
            requests = [
                ChatRequest(t.messages, max_tokens=cfg.max_tokens, temperature=cfg.temperature, seed=cfg.seed + step)
                for _, t in items
            ]
            started = time.perf_counter()
            with share_of(offset, step_requests):  # the step's requests done, across its engine calls
                completions = engines[engine_key].generate(requests)
            offset += len(items)
            elapsed = (time.perf_counter() - started) * 1000
            for (pid, t), c in zip(items, completions):
                rec = message_record(run_id, by_id[pid], t, len(records[pid]), c, attempts.get(pid, 0))
                records[pid].append(rec)
                finished[pid].append(rec)
                wall[pid] += elapsed / len(items)
        next_pending: dict[str, list[Turn]] = {}
        for pid, turns in pending.items():
            # Hand back this problem's records in the order its turns were asked for.
            order = {(t.agent, t.round, t.role): i for i, t in enumerate(turns)}
            done = sorted(finished[pid], key=lambda r: order[(r["agent"], r["round"], r["role"])])
            try:
                next_pending[pid] = plays[pid].send(done)
            except StopIteration as stop:
                outcomes.append(outcome_record(run_id, by_id[pid], stop.value, records[pid], wall[pid]))
        pending = next_pending
        if on_round:
            on_round(step)
    messages = [m for p in problems for m in records[p.problem_id]]
    order = {p.problem_id: i for i, p in enumerate(problems)}
    outcomes.sort(key=lambda o: order[o["problem_id"]])
    return ChunkResult(messages, outcomes)
