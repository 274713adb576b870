"""Debate methods and the round scheduler that runs them batch-first.

A method describes one problem's debate as a generator: it yields the list of turns it needs next (which
agent speaks, in which round and role, with which chat messages), receives the finished messages back,
and finally returns its decision. The scheduler steps every problem's generator in lockstep, so one round
of every agent on every problem of a chunk becomes one batched engine call per engine; methods never call
an engine themselves, which is what makes them batchable and testable with a scripted engine.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Generator, Iterable

from agentark.backends import ChatRequest, Completion, Engine, EngineSpec, create_engine
from agentark.config import DEFAULT_DATASET, EMBEDDED_MODEL
from agentark.errors import ConfigError
from agentark.grading import answers_equal, extract_answer, is_correct, majority_vote, normalize_answer
from agentark.tasks import Problem

SOLVE_PROMPT = (
    "Solve the following math problem. Reason step by step, then give the final answer on its own line "
    "as 'The answer is N.'\n\nProblem: {question}"
)
DEBATE_PROMPT = (
    "Other agents solved the same problem. Their latest solutions:\n\n{others}\n\n"
    "Use their reasoning as extra evidence: check each of their steps and yours, keep what is right and fix "
    "what is wrong. Then write your own updated solution, ending with 'The answer is N.'\n\nProblem: {question}"
)
AGGREGATOR_PROMPT = (
    "Several agents debated this problem and ended with these solutions:\n\n{others}\n\n"
    "Decide which final answer is correct. Explain briefly, then end with 'The answer is N.'\n\n"
    "Problem: {question}"
)


@dataclass
class DebateConfig:
    """Everything that defines a debate run; stored as the run's config and shared by CLI and page.

    ``agents`` and ``rounds`` default per method (cot: 1 and 1; debate: 3 and 2).
    """

    method: str = "debate"
    dataset: str = DEFAULT_DATASET
    limit: int | None = 8
    split: str = "test"
    agents: int | None = None
    rounds: int | None = None
    temperature: float = 0.7
    max_tokens: int = 256
    seed: int = 0
    aggregator: bool = False
    engine: str = "transformers"
    model: str = EMBEDDED_MODEL
    engine_options: dict = field(default_factory=dict)
    chunk_size: int = 16

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"Unknown method '{self.method}'. Choose one of: {', '.join(sorted(METHODS))}.")
        default_agents, default_rounds = METHODS[self.method].defaults
        self.agents = default_agents if self.agents is None else int(self.agents)
        self.rounds = default_rounds if self.rounds is None else int(self.rounds)
        if self.agents < 1:
            raise ConfigError(f"agents must be at least 1 (got {self.agents}); use --agents 1 or more.")
        if self.rounds < 1:
            raise ConfigError(f"rounds must be at least 1 (got {self.rounds}); use --rounds 1 or more.")
        if self.method == "cot" and (self.agents != 1 or self.rounds != 1):
            raise ConfigError(
                "Method 'cot' is one agent answering once; leave --agents/--rounds out, or use --method debate."
            )
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be at least 1 (got {self.limit}); leave it out to use the whole dataset.")
        if not 0 <= self.temperature <= 2:
            raise ConfigError(f"temperature must be between 0 and 2 (got {self.temperature}).")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1 (got {self.max_tokens}).")
        if self.chunk_size < 1:
            raise ConfigError(f"chunk_size must be at least 1 (got {self.chunk_size}).")

    def engine_spec(self) -> EngineSpec:
        return EngineSpec(self.engine, self.model, dict(self.engine_options))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "DebateConfig":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Turn:
    """One message a method needs: the scheduler turns it into an engine request."""

    agent: str
    round: int
    role: str
    messages: list[dict[str, str]]
    engine: str = "default"


@dataclass
class Decision:
    final_answer: str | None


Play = Generator[list[Turn], list[dict], Decision]


def agent_name(i: int) -> str:
    return f"agent_{i + 1}"


def format_others(records: Iterable[dict]) -> str:
    return "\n\n".join(f"{r['agent']}'s solution:\n```\n{r['content'].strip()}\n```" for r in records)


class ChainOfThought:
    """Single agent, single round: the baseline every debate is compared with."""

    defaults = (1, 1)

    def __init__(self, cfg: DebateConfig) -> None:
        self.cfg = cfg

    def play(self, problem: Problem) -> Play:
        turn = Turn(agent_name(0), 1, "solver", [{"role": "user", "content": SOLVE_PROMPT.format(question=problem.question)}])
        (record,) = yield [turn]
        return Decision(record["answer"])


class LLMDebate:
    """Du et al. (2023): N agents answer; for R-1 rounds each sees the others' last answers and revises.

    The final answer is the majority vote of the last round, or, with ``aggregator``, an extra call that
    reads every final solution and decides.
    """

    defaults = (3, 2)

    def __init__(self, cfg: DebateConfig) -> None:
        self.cfg = cfg

    def play(self, problem: Problem) -> Play:
        cfg = self.cfg
        names = [agent_name(i) for i in range(cfg.agents)]
        histories = {a: [{"role": "user", "content": SOLVE_PROMPT.format(question=problem.question)}] for a in names}
        latest: dict[str, dict] = {}
        for rnd in range(1, cfg.rounds + 1):
            if rnd > 1:
                for a in names:
                    others = format_others(latest[b] for b in names if b != a)
                    histories[a].append({"role": "user", "content": DEBATE_PROMPT.format(others=others, question=problem.question)})
            records = yield [Turn(a, rnd, "solver", list(histories[a])) for a in names]
            for a, rec in zip(names, records):
                latest[a] = rec
                histories[a].append({"role": "assistant", "content": rec["content"]})
        if cfg.aggregator:
            prompt = AGGREGATOR_PROMPT.format(others=format_others(latest.values()), question=problem.question)
            (verdict,) = yield [Turn("aggregator", cfg.rounds + 1, "aggregator", [{"role": "user", "content": prompt}])]
            if verdict["answer"] is not None:
                return Decision(verdict["answer"])
        answer, _ = majority_vote([latest[a]["answer"] for a in names])
        return Decision(answer)


METHODS: dict[str, type] = {"cot": ChainOfThought, "debate": LLMDebate}


@dataclass
class ChunkResult:
    messages: list[dict]
    outcomes: list[dict]


def _message_record(run_id: str, problem: Problem, turn: Turn, seq: int, completion: Completion) -> dict:
    answer = extract_answer(completion.text) if completion.ok else None
    return {
        "message_id": f"{run_id}:{problem.problem_id}:{seq:04d}",
        "run_id": run_id,
        "problem_id": problem.problem_id,
        "agent": turn.agent,
        "round": turn.round,
        "role": turn.role,
        "seq": seq,
        "model": completion.model,
        "content": completion.text,
        "answer": answer,
        "answer_norm": normalize_answer(answer),
        "is_correct": (is_correct(answer, problem.reference_answer) if answer is not None else False)
        if completion.ok else None,
        "prompt_tokens": int(completion.prompt_tokens),
        "completion_tokens": int(completion.completion_tokens),
        "latency_ms": float(completion.latency_ms),
        "error": completion.error,
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


def _outcome(run_id: str, problem: Problem, decision: Decision, records: list[dict], wall_ms: float) -> dict:
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
        "prompt_tokens": sum(r["prompt_tokens"] for r in records),
        "completion_tokens": sum(r["completion_tokens"] for r in records),
        "engine_calls": len(records),
        "wall_ms": wall_ms,
    }


def run_chunk(
    problems: list[Problem],
    cfg: DebateConfig,
    run_id: str,
    engines: dict[str, Engine] | None = None,
    on_round: Callable[[int], None] | None = None,
) -> ChunkResult:
    """Debate every problem of a chunk; each step of all problems is one ``generate`` call per engine."""
    engines = engines if engines is not None else {"default": create_engine(cfg.engine_spec())}
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
        for engine_key, items in per_engine.items():
            requests = [
                ChatRequest(t.messages, max_tokens=cfg.max_tokens, temperature=cfg.temperature, seed=cfg.seed + step)
                for _, t in items
            ]
            started = time.perf_counter()
            completions = engines[engine_key].generate(requests)
            elapsed = (time.perf_counter() - started) * 1000
            touched = set()
            for (pid, t), c in zip(items, completions):
                rec = _message_record(run_id, by_id[pid], t, len(records[pid]), c)
                records[pid].append(rec)
                finished[pid].append(rec)
                touched.add(pid)
            for pid in touched:
                wall[pid] += elapsed
        next_pending: dict[str, list[Turn]] = {}
        for pid, turns in pending.items():
            # Hand back this problem's records in the order its turns were asked for.
            order = {(t.agent, t.round, t.role): i for i, t in enumerate(turns)}
            done = sorted(finished[pid], key=lambda r: order[(r["agent"], r["round"], r["role"])])
            try:
                next_pending[pid] = plays[pid].send(done)
            except StopIteration as stop:
                outcomes.append(_outcome(run_id, by_id[pid], stop.value, records[pid], wall[pid]))
        pending = next_pending
        if on_round:
            on_round(step)
    messages = [m for p in problems for m in records[p.problem_id]]
    order = {p.problem_id: i for i, p in enumerate(problems)}
    outcomes.sort(key=lambda o: order[o["problem_id"]])
    return ChunkResult(messages, outcomes)
