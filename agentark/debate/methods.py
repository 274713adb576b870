"""Debate methods: each describes one problem's debate as a generator of turns.

A method yields the list of turns it needs next (which agent speaks, in which round and role, with which
chat messages), receives the finished messages back, and finally returns its decision. Methods never call
an engine themselves, which is what makes them batchable by the scheduler and testable with a scripted
engine. A new method is a ``Method`` subclass registered with ``register_method``: its record says what the
rest of the studio asks of a method (team or one agent, independent samples, how a caption names it, its
evaluation temperature, whether it takes the aggregator), so the CLI, the pages, compare and the one-agent-vs-team
result offer and read it with no other edit, and no module outside this one switches on a method's name.

Methods read the run's settings through the ``RunSettings`` protocol, not the ``DebateConfig`` class: the
config validates against ``METHODS``, so naming it here would make the two modules import each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generator, Iterable, Protocol

from agentark.debate.prompts import (
    AFFIRMATIVE_PROMPT,
    AGGREGATOR_PROMPT,
    CRITIC_PROMPT,
    DEBATE_PROMPT,
    JUDGE_CONTINUE,
    JUDGE_FINAL,
    JUDGE_PROMPT,
    NEGATIVE_PROMPT,
    REBUTTAL_PROMPT,
    REVISE_PROMPT,
    format_others,
    solve_messages,
)
from agentark.errors import ConfigError
from agentark.grading import answers_equal, vote
from agentark.options import check_bounds
from agentark.tasks import Problem


class RunSettings(Protocol):
    """What a method reads of the run's config (``DebateConfig`` is one)."""

    agents: int
    rounds: int
    aggregator: bool
    early_stop: bool
    solve_prompt: str | None
    method_options: dict

    def method_settings(self): ...

    def specs(self) -> list: ...

    def speaker_engine(self, index: int) -> tuple: ...


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
    """A problem's final answer; ``tie`` when it came from a majority vote whose largest groups were equal in
    size, so the run's figures can count ties instead of hiding them. A tie has no final answer unless the
    run asks for Du et al.'s first-agent tie-break (``first_agent_tie_break``: the first-seen group wins)."""

    final_answer: str | None
    tie: bool = False

    @classmethod
    def by_vote(cls, answers: list[str | None], first_agent_tie_break: bool = False) -> "Decision":
        result = vote(answers)
        return cls(result.answer if first_agent_tie_break or not result.tie else None, result.tie)


Play = Generator[list[Turn], list[dict], Decision]
# Roles whose answer, when they speak last, is the decision (MAD's judge, a debate's aggregator).
DECIDERS = ("judge", "aggregator")


def agent_name(i: int) -> str:
    return f"agent_{i + 1}"


def all_agree(records: Iterable[dict]) -> bool:
    """Every record has an answer and they are all equal: what ``early_stop`` waits for."""
    answers = [r["answer"] for r in records]
    return bool(answers) and all(a is not None for a in answers) and all(answers_equal(answers[0], a) for a in answers)


@dataclass
class NoOptions:
    """A method without settings of its own beyond DebateConfig's."""


class Method:
    """Base of every method: speaker names, turns that carry each speaker's engine and system prompt, and the
    method's record, which callers read instead of comparing its name.

    ``name`` is its key in ``METHODS``; ``summary`` the words its choice is offered with (flag help, Run page).
    ``defaults`` is (agents, rounds); ``fixed_agents`` pins the agent count; ``single_round`` pins rounds to 1.
    ``team``: several agents decide together (False: one agent answers alone); compare counts a team's run as a
    teacher, and an evaluation passes its ``samples`` on as the team's agents. ``solo_first_round``: every
    solver's round-1 turn is the plain solve prompt, answered before it sees anyone else, so a team's run holds
    its own one-agent side (``agentark.evaluate.team_vs_single``). ``independent_samples``: the answers are k
    independent samples of one prompt, what best-of-N reranks with a PRM. ``team_words``: how a caption names
    the team's way of deciding (empty: its name). ``temperature``: an evaluation's sampling temperature when none
    is given (0, greedy, for one agent; 0.7 where answers must differ). ``supports_aggregator``: a final
    aggregator call (``DebateConfig.aggregator``) may decide.
    """

    name = ""
    summary = ""
    defaults = (1, 1)
    fixed_agents: int | None = None
    single_round = False
    options: type = NoOptions
    team = True
    solo_first_round = False
    independent_samples = False
    team_words = ""
    temperature = 0.7
    supports_aggregator = False

    def __init__(self, cfg: RunSettings) -> None:
        self.cfg = cfg
        self.opts = cfg.method_settings()
        names = self.speakers(cfg)
        specs = cfg.specs()
        self._engine = {name: cfg.speaker_engine(i)[0] for i, name in enumerate(names)}
        self._system = {name: specs[i].system for i, name in enumerate(names) if i < len(specs) and specs[i].system}

    @classmethod
    def max_steps(cls, cfg: RunSettings) -> int:
        """Batched steps a problem takes at most (early stopping can end it sooner): progress within a chunk."""
        return cfg.rounds

    @classmethod
    def speakers(cls, cfg: RunSettings) -> list[str]:
        return [agent_name(i) for i in range(cfg.agents)]

    def turn(self, agent: str, rnd: int, role: str, messages: list[dict[str, str]]) -> Turn:
        system = self._system.get(agent)
        prefix = [{"role": "system", "content": system}] if system else []
        return Turn(agent, rnd, role, prefix + list(messages), self._engine.get(agent, "default"))


METHODS: dict[str, type[Method]] = {}


def register_method(method: type[Method]) -> type[Method]:
    """Add a method to ``METHODS`` under its ``name`` (usable as a class decorator); registering the same class
    again changes nothing, another class under a taken name is refused (mistakes of the method's author, raised
    when its module is imported)."""
    if not method.name:
        raise TypeError(f"{method.__name__} has no name: set the class attribute name (its --method value).")
    if METHODS.get(method.name, method) is not method:
        raise ValueError(f"Method '{method.name}' is already {METHODS[method.name].__name__}; give "
                         f"{method.__name__} another name.")
    METHODS[method.name] = method
    return method


@register_method
class ChainOfThought(Method):
    """Single agent, single round: the baseline every debate is compared with."""

    name = "cot"
    summary = "one agent"
    fixed_agents = 1
    single_round = True
    team = False
    solo_first_round = True
    team_words = "one agent"
    temperature = 0.0

    def play(self, problem: Problem) -> Play:
        (record,) = yield [self.turn(agent_name(0), 1, "solver", solve_messages(problem.question, self.cfg.solve_prompt))]
        return Decision(record["answer"])


@register_method
class SelfConsistency(Method):
    """Wang et al. (2023): k independent samples of one prompt (k = agents), then a majority vote."""

    name = "self_consistency"
    summary = "k samples + vote"
    defaults = (5, 1)
    single_round = True
    solo_first_round = True
    independent_samples = True
    team_words = "majority vote"

    def play(self, problem: Problem) -> Play:
        names = self.speakers(self.cfg)
        records = yield [self.turn(a, 1, "solver", solve_messages(problem.question, self.cfg.solve_prompt)) for a in names]
        return Decision.by_vote([r["answer"] for r in records], self.cfg.first_agent_tie_break)


@register_method
class LLMDebate(Method):
    """Du et al. (2023): N agents answer; for R-1 rounds each sees the others' last answers and revises.

    The final answer is the majority vote of the last round, or, with ``aggregator``, an extra call that
    reads every final solution and decides.
    """

    name = "debate"
    summary = "Du et al."
    defaults = (3, 2)
    solo_first_round = True
    team_words = "debate"
    supports_aggregator = True

    @classmethod
    def max_steps(cls, cfg: RunSettings) -> int:
        return cfg.rounds + (1 if cfg.aggregator else 0)

    @classmethod
    def speakers(cls, cfg: RunSettings) -> list[str]:
        return super().speakers(cfg) + (["aggregator"] if cfg.aggregator else [])

    def play(self, problem: Problem) -> Play:
        cfg = self.cfg
        names = [agent_name(i) for i in range(cfg.agents)]
        histories = {a: solve_messages(problem.question, self.cfg.solve_prompt) for a in names}
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
        return Decision.by_vote([latest[a]["answer"] for a in names], cfg.first_agent_tie_break)


@dataclass
class MADOptions:
    """``judge_every_round``: the judge may end the debate after any round; otherwise only after the last."""

    judge_every_round: bool = field(default=True, metadata={
        "help": "MAD: the judge may end the debate after any round; off, it decides only after the last round",
        "flag": "--judge-last-round-only",
        "flag_value": False})


@register_method
class MultiAgentDebate(Method):
    """MAD (Liang et al. 2023): an affirmative and a negative debater argue for up to R rounds; a judge
    reads the debate after each round and either decides or lets it continue (and must decide after R)."""

    name = "mad"
    summary = "affirmative/negative + judge"
    defaults = (2, 3)
    fixed_agents = 2
    options = MADOptions
    team_words = "affirmative/negative debate with a judge"

    @classmethod
    def max_steps(cls, cfg: RunSettings) -> int:
        return 3 * cfg.rounds  # affirmative, negative, judge

    @classmethod
    def speakers(cls, cfg: RunSettings) -> list[str]:
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
        return Decision.by_vote([latest["affirmative"]["answer"], latest["negative"]["answer"]],
                               self.cfg.first_agent_tie_break)


@dataclass
class CritiqueOptions:
    """``critics``: how many critic agents review the solvers' solutions each round."""

    critics: int = field(default=1, metadata={"help": "critic agents (method critique)", "min": 1})

    def __post_init__(self) -> None:
        self.critics = int(self.critics)
        check_bounds(CritiqueOptions, self)


def accepted(critique: dict) -> bool:
    """A critic accepts when its last non-empty line says ACCEPT (and not REVISE)."""
    lines = [line.strip().upper() for line in (critique["content"] or "").splitlines() if line.strip()]
    return bool(lines) and "ACCEPT" in lines[-1] and "REVISE" not in lines[-1]


@register_method
class CritiqueRevise(Method):
    """AgentVerse-style: solvers answer, critics point out errors, solvers revise until every critic
    accepts or R rounds pass; the final answer is the majority vote of the solvers' last answers."""

    name = "critique"
    summary = "solvers + critics"
    defaults = (2, 3)
    options = CritiqueOptions
    solo_first_round = True
    team_words = "critique-and-revise"

    @classmethod
    def max_steps(cls, cfg: RunSettings) -> int:
        return 2 * cfg.rounds - 1  # solvers each round, critics between rounds

    @classmethod
    def speakers(cls, cfg: RunSettings) -> list[str]:
        critics = int(cfg.method_options.get("critics", CritiqueOptions.critics))
        return [f"solver_{i + 1}" for i in range(cfg.agents)] + [f"critic_{i + 1}" for i in range(critics)]

    def play(self, problem: Problem) -> Play:
        cfg = self.cfg
        solvers = [f"solver_{i + 1}" for i in range(cfg.agents)]
        critics = [f"critic_{i + 1}" for i in range(self.opts.critics)]
        histories = {a: solve_messages(problem.question, self.cfg.solve_prompt) for a in solvers}
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
        return Decision.by_vote([latest[a]["answer"] for a in solvers], self.cfg.first_agent_tie_break)


def method_named(name: str) -> type[Method]:
    """The registered method ``name``; an unknown name is refused naming the field that fixes it."""
    if name not in METHODS:
        raise ConfigError(f"Unknown method '{name}'. Choose one of: {', '.join(sorted(METHODS))} for [[method]].")
    return METHODS[name]


def method_of(name: str | None) -> type[Method] | None:
    """The record of a stored run's method; None for no method or one the studio does not run (an import's
    ``import:FORMAT``), which callers treat as they always have."""
    return METHODS.get(name) if name else None


def method_help() -> str:
    """Every method with its summary: the ``method`` field's help, read when a flag or a form is built."""
    return " · ".join(f"{name}: {m.summary}" if m.summary else name for name, m in METHODS.items())
