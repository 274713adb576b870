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
class AgentSpec:
    """Who one speaker is: its engine and model (None: the run's own) and its system prompt (its role)."""

    engine: str | None = None
    model: str | None = None
    system: str | None = None
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.engine is not None and self.model is None:
            raise ConfigError(f"An agent on engine '{self.engine}' needs a model too: write ENGINE=MODEL.")

    @classmethod
    def parse(cls, text: str, system: str | None = None) -> "AgentSpec":
        """``MODEL`` or ``ENGINE=MODEL`` (the CLI's --agent-model)."""
        engine, sep, model = text.partition("=")
        if not sep:
            engine, model = "", text
        if not model.strip():
            raise ConfigError(f"Agent model '{text}' is empty; write MODEL or ENGINE=MODEL.")
        return cls(engine=engine.strip() or None, model=model.strip(), system=system or None)

    @classmethod
    def parse_lines(cls, text: str) -> list["AgentSpec"]:
        """One speaker per line, ``[ENGINE=]MODEL | system prompt`` (either part may be empty); the Run page's
        per-speaker box. A line ``-`` keeps a speaker on the run's model."""
        specs = []
        for line in (text or "").strip().splitlines():
            model, _, system = line.partition("|")
            model, system = model.strip(), system.strip() or None
            specs.append(cls.parse(model, system) if model and model != "-" else cls(system=system))
        return specs


@dataclass
class DebateConfig:
    """Everything that defines a debate run; stored as the run's config and shared by CLI and page.

    ``agents`` and ``rounds`` default per method (see ``METHODS[name].defaults``). ``agent_specs`` gives
    speakers, in the order of the method's ``speakers()``, their own model and system prompt; speakers
    without one use ``engine``/``model``. ``method_options`` holds the method's own settings, validated by
    its options dataclass. ``early_stop`` ends a round-based debate once every solver gives the same answer.
    ``columns`` maps a file's question/answer/id columns.
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
    agent_specs: list = field(default_factory=list)
    method_options: dict = field(default_factory=dict)
    early_stop: bool = False
    columns: dict | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"Unknown method '{self.method}'. Choose one of: {', '.join(sorted(METHODS))}.")
        method = METHODS[self.method]
        default_agents, default_rounds = method.defaults
        self.agents = default_agents if self.agents is None else int(self.agents)
        self.rounds = default_rounds if self.rounds is None else int(self.rounds)
        if self.agents < 1:
            raise ConfigError(f"agents must be at least 1 (got {self.agents}); use --agents 1 or more.")
        if self.rounds < 1:
            raise ConfigError(f"rounds must be at least 1 (got {self.rounds}); use --rounds 1 or more.")
        if method.fixed_agents is not None and self.agents != method.fixed_agents:
            count = "one agent" if method.fixed_agents == 1 else f"{method.fixed_agents} agents"
            raise ConfigError(f"Method '{self.method}' always has {count}; leave --agents out.")
        if method.single_round and self.rounds != 1:
            raise ConfigError(f"Method '{self.method}' answers once; leave --rounds out, or use --method debate.")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be at least 1 (got {self.limit}); leave it out to use the whole dataset.")
        if not 0 <= self.temperature <= 2:
            raise ConfigError(f"temperature must be between 0 and 2 (got {self.temperature}).")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1 (got {self.max_tokens}).")
        if self.chunk_size < 1:
            raise ConfigError(f"chunk_size must be at least 1 (got {self.chunk_size}).")
        if self.aggregator and self.method != "debate":
            raise ConfigError("The aggregator call belongs to --method debate; drop --aggregator for other methods.")
        self.method_settings()
        self.agent_specs = [asdict(a) if isinstance(a, AgentSpec) else dict(a) for a in self.agent_specs]
        specs = self.specs()
        speakers = method.speakers(self)
        if len(specs) > len(speakers):
            raise ConfigError(
                f"{len(specs)} agent models given but method '{self.method}' has {len(speakers)} speakers "
                f"({', '.join(speakers)}); give at most one per speaker, in that order."
            )
        if self.columns is not None:
            unknown = set(self.columns) - {"question", "answer", "id"}
            if unknown or not self.columns.get("question") or not self.columns.get("answer"):
                raise ConfigError(
                    "columns maps 'question' and 'answer' (and optionally 'id') to column names; "
                    "pass both --question-col and --answer-col."
                )

    def method_settings(self):
        """The method's own options dataclass, built (and validated) from ``method_options``."""
        options_cls = METHODS[self.method].options
        known = set(options_cls.__dataclass_fields__)
        unknown = set(self.method_options) - known
        if unknown:
            raise ConfigError(
                f"Method '{self.method}' has no option(s) {', '.join(sorted(unknown))}; "
                f"its options are: {', '.join(sorted(known)) or 'none'}."
            )
        return options_cls(**self.method_options)

    def specs(self) -> list[AgentSpec]:
        try:
            return [AgentSpec(**spec) for spec in self.agent_specs]
        except TypeError as exc:
            raise ConfigError(f"An agent spec has an unknown field ({exc}); use engine, model, system, options.") from exc

    def engine_spec(self) -> EngineSpec:
        return EngineSpec(self.engine, self.model, dict(self.engine_options))

    def speaker_engine(self, index: int) -> tuple[str, EngineSpec]:
        """(engine key, spec) of the ``index``-th speaker; ``"default"`` is the run's own engine."""
        specs = self.specs()
        if index >= len(specs) or specs[index].model is None:
            return "default", self.engine_spec()
        spec = specs[index]
        engine = spec.engine or self.engine
        options = dict(spec.options) if spec.options else (dict(self.engine_options) if engine == self.engine else {})
        engine_spec = EngineSpec(engine, spec.model, options)
        if engine_spec == self.engine_spec():
            return "default", engine_spec
        return engine_spec.key(), engine_spec

    def engine_specs(self) -> dict[str, EngineSpec]:
        """Every distinct engine the run needs, by key: one engine is built per key."""
        speakers = METHODS[self.method].speakers(self)
        return {"default": self.engine_spec()} | dict(self.speaker_engine(i) for i in range(len(speakers)))

    def models(self) -> list[str]:
        """Every model the run's speakers use, the run's own first."""
        return list(dict.fromkeys(spec.model for spec in self.engine_specs().values()))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "DebateConfig":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def build_engines(cfg: DebateConfig) -> dict[str, Engine]:
    """One engine per distinct (engine, model, options) among the run's speakers."""
    return {key: create_engine(spec) for key, spec in cfg.engine_specs().items()}


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


def all_agree(records: Iterable[dict]) -> bool:
    """Every record has an answer and they are all equal: what ``early_stop`` waits for."""
    answers = [r["answer"] for r in records]
    return bool(answers) and all(a is not None for a in answers) and all(answers_equal(answers[0], a) for a in answers)


@dataclass
class NoOptions:
    """A method without settings of its own beyond DebateConfig's."""


class Method:
    """Base of every method: speaker names, and turns that carry each speaker's engine and system prompt.

    ``defaults`` is (agents, rounds); ``fixed_agents`` pins the agent count; ``single_round`` pins rounds to 1.
    """

    defaults = (1, 1)
    fixed_agents: int | None = None
    single_round = False
    options: type = NoOptions

    def __init__(self, cfg: DebateConfig) -> None:
        self.cfg = cfg
        self.opts = cfg.method_settings()
        names = self.speakers(cfg)
        specs = cfg.specs()
        self._engine = {name: cfg.speaker_engine(i)[0] for i, name in enumerate(names)}
        self._system = {name: specs[i].system for i, name in enumerate(names) if i < len(specs) and specs[i].system}

    @classmethod
    def speakers(cls, cfg: DebateConfig) -> list[str]:
        return [agent_name(i) for i in range(cfg.agents)]

    def turn(self, agent: str, rnd: int, role: str, messages: list[dict[str, str]]) -> Turn:
        system = self._system.get(agent)
        prefix = [{"role": "system", "content": system}] if system else []
        return Turn(agent, rnd, role, prefix + list(messages), self._engine.get(agent, "default"))


def _solve(problem: Problem) -> list[dict[str, str]]:
    return [{"role": "user", "content": SOLVE_PROMPT.format(question=problem.question)}]


class ChainOfThought(Method):
    """Single agent, single round: the baseline every debate is compared with."""

    fixed_agents = 1
    single_round = True

    def play(self, problem: Problem) -> Play:
        (record,) = yield [self.turn(agent_name(0), 1, "solver", _solve(problem))]
        return Decision(record["answer"])


class SelfConsistency(Method):
    """Wang et al. (2023): k independent samples of one prompt (k = agents), then a majority vote."""

    defaults = (5, 1)
    single_round = True

    def play(self, problem: Problem) -> Play:
        names = self.speakers(self.cfg)
        records = yield [self.turn(a, 1, "solver", _solve(problem)) for a in names]
        return Decision(majority_vote([r["answer"] for r in records])[0])


class LLMDebate(Method):
    """Du et al. (2023): N agents answer; for R-1 rounds each sees the others' last answers and revises.

    The final answer is the majority vote of the last round, or, with ``aggregator``, an extra call that
    reads every final solution and decides.
    """

    defaults = (3, 2)

    @classmethod
    def speakers(cls, cfg: DebateConfig) -> list[str]:
        return super().speakers(cfg) + (["aggregator"] if cfg.aggregator else [])

    def play(self, problem: Problem) -> Play:
        cfg = self.cfg
        names = [agent_name(i) for i in range(cfg.agents)]
        histories = {a: _solve(problem) for a in names}
        latest: dict[str, dict] = {}
        for rnd in range(1, cfg.rounds + 1):
            if rnd > 1:
                if cfg.early_stop and all_agree(latest.values()):
                    break
                for a in names:
                    others = format_others(latest[b] for b in names if b != a)
                    histories[a].append({"role": "user", "content": DEBATE_PROMPT.format(others=others, question=problem.question)})
            records = yield [self.turn(a, rnd, "solver", histories[a]) for a in names]
            for a, rec in zip(names, records):
                latest[a] = rec
                histories[a].append({"role": "assistant", "content": rec["content"]})
        if cfg.aggregator:
            last_round = max(r["round"] for r in latest.values())
            prompt = AGGREGATOR_PROMPT.format(others=format_others(latest.values()), question=problem.question)
            (verdict,) = yield [self.turn("aggregator", last_round + 1, "aggregator", [{"role": "user", "content": prompt}])]
            if verdict["answer"] is not None:
                return Decision(verdict["answer"])
        answer, _ = majority_vote([latest[a]["answer"] for a in names])
        return Decision(answer)


AFFIRMATIVE_PROMPT = (
    "You are the affirmative side of a debate about the answer to a math problem. Solve it step by step and "
    "defend your answer, ending with 'The answer is N.'\n\nProblem: {question}"
)
NEGATIVE_PROMPT = (
    "You are the negative side of a debate about the answer to a math problem. The affirmative side "
    "argued:\n\n```\n{argument}\n```\n\nLook hard for mistakes in that argument and give your own solution. "
    "Agree only if every step holds. End with 'The answer is N.'\n\nProblem: {question}"
)
REBUTTAL_PROMPT = (
    "The other side replied:\n\n```\n{argument}\n```\n\nAnswer their points: keep what is right, concede "
    "what is wrong, and end with your current 'The answer is N.'"
)
JUDGE_PROMPT = (
    "You moderate a debate about this math problem.\n\nProblem: {question}\n\n{transcript}\n\n{instruction}"
)
JUDGE_CONTINUE = (
    "If one side is clearly right, reply with a short reason and 'The answer is N.' If the debate should "
    "go on, reply with exactly one word: CONTINUE."
)
JUDGE_FINAL = "The debate is over. Decide which answer is correct, give a short reason and end with 'The answer is N.'"


@dataclass
class MADOptions:
    """``judge_every_round``: the judge may end the debate after any round; otherwise only after the last."""

    judge_every_round: bool = True


class MultiAgentDebate(Method):
    """MAD (Liang et al. 2023): an affirmative and a negative debater argue for up to R rounds; a judge
    reads the debate after each round and either decides or lets it continue (and must decide after R)."""

    defaults = (2, 3)
    fixed_agents = 2
    options = MADOptions

    @classmethod
    def speakers(cls, cfg: DebateConfig) -> list[str]:
        return ["affirmative", "negative", "judge"]

    def play(self, problem: Problem) -> Play:
        cfg, q = self.cfg, problem.question
        aff = [{"role": "user", "content": AFFIRMATIVE_PROMPT.format(question=q)}]
        neg: list[dict[str, str]] = []
        transcript: list[str] = []
        latest: dict[str, dict] = {}
        for rnd in range(1, cfg.rounds + 1):
            if rnd > 1:
                aff.append({"role": "user", "content": REBUTTAL_PROMPT.format(argument=latest["negative"]["content"])})
            (a,) = yield [self.turn("affirmative", rnd, "solver", aff)]
            aff.append({"role": "assistant", "content": a["content"]})
            if rnd == 1:
                neg.append({"role": "user", "content": NEGATIVE_PROMPT.format(argument=a["content"], question=q)})
            else:
                neg.append({"role": "user", "content": REBUTTAL_PROMPT.format(argument=a["content"])})
            (n,) = yield [self.turn("negative", rnd, "solver", neg)]
            neg.append({"role": "assistant", "content": n["content"]})
            latest = {"affirmative": a, "negative": n}
            transcript.append(f"Round {rnd}, affirmative:\n{a['content']}\n\nRound {rnd}, negative:\n{n['content']}")
            last = rnd == cfg.rounds or (cfg.early_stop and all_agree(latest.values()))
            if not (last or self.opts.judge_every_round):
                continue
            prompt = JUDGE_PROMPT.format(question=q, transcript="\n\n".join(transcript),
                                         instruction=JUDGE_FINAL if last else JUDGE_CONTINUE)
            (verdict,) = yield [self.turn("judge", rnd, "judge", [{"role": "user", "content": prompt}])]
            if verdict["answer"] is not None and (last or "CONTINUE" not in verdict["content"].upper()):
                return Decision(verdict["answer"])
            if last:
                break
        return Decision(majority_vote([latest["affirmative"]["answer"], latest["negative"]["answer"]])[0])


CRITIC_PROMPT = (
    "You review solutions to a math problem.\n\nProblem: {question}\n\n{solutions}\n\nCheck every step. "
    "Point out each error you find and how to fix it. End with one line: ACCEPT if all solutions are "
    "correct, or REVISE if any is wrong."
)
REVISE_PROMPT = (
    "Reviewers commented on the solutions:\n\n{critiques}\n\nRevise your solution: fix what they showed to "
    "be wrong, keep what is right, and end with 'The answer is N.'"
)


@dataclass
class CritiqueOptions:
    """``critics``: how many critic agents review the solvers' solutions each round."""

    critics: int = 1

    def __post_init__(self) -> None:
        if int(self.critics) < 1:
            raise ConfigError(f"critics must be at least 1 (got {self.critics}); set method option critics=1 or more.")
        self.critics = int(self.critics)


def accepted(critique: dict) -> bool:
    """A critic accepts when its last non-empty line says ACCEPT (and not REVISE)."""
    lines = [line.strip().upper() for line in (critique["content"] or "").splitlines() if line.strip()]
    return bool(lines) and "ACCEPT" in lines[-1] and "REVISE" not in lines[-1]


class CritiqueRevise(Method):
    """AgentVerse-style: solvers answer, critics point out errors, solvers revise until every critic
    accepts or R rounds pass; the final answer is the majority vote of the solvers' last answers."""

    defaults = (2, 3)
    options = CritiqueOptions

    @classmethod
    def speakers(cls, cfg: DebateConfig) -> list[str]:
        critics = int(cfg.method_options.get("critics", CritiqueOptions.critics))
        return [f"solver_{i + 1}" for i in range(cfg.agents)] + [f"critic_{i + 1}" for i in range(critics)]

    def play(self, problem: Problem) -> Play:
        cfg = self.cfg
        solvers = [f"solver_{i + 1}" for i in range(cfg.agents)]
        critics = [f"critic_{i + 1}" for i in range(self.opts.critics)]
        histories = {a: _solve(problem) for a in solvers}
        latest: dict[str, dict] = {}
        for rnd in range(1, cfg.rounds + 1):
            records = yield [self.turn(a, rnd, "solver", histories[a]) for a in solvers]
            for a, rec in zip(solvers, records):
                latest[a] = rec
                histories[a].append({"role": "assistant", "content": rec["content"]})
            if rnd == cfg.rounds or (cfg.early_stop and all_agree(latest.values())):
                break
            prompt = CRITIC_PROMPT.format(question=problem.question, solutions=format_others(latest.values()))
            reviews = yield [self.turn(c, rnd, "critic", [{"role": "user", "content": prompt}]) for c in critics]
            if all(accepted(r) for r in reviews):
                break
            critiques = "\n\n".join(f"{r['agent']}:\n{r['content'].strip()}" for r in reviews)
            for a in solvers:
                histories[a].append({"role": "user", "content": REVISE_PROMPT.format(critiques=critiques)})
        return Decision(majority_vote([latest[a]["answer"] for a in solvers])[0])


METHODS: dict[str, type] = {
    "cot": ChainOfThought,
    "self_consistency": SelfConsistency,
    "debate": LLMDebate,
    "mad": MultiAgentDebate,
    "critique": CritiqueRevise,
}


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
        "finish_reason": completion.finish_reason,
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
