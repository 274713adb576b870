"""The debate run's configuration: one dataclass shared by the CLI, the Run page and the stored run row.

Design decision: ``DebateConfig`` extends ``GenerationConfig`` (engine, model, sampling) and validates against
the method registry (``METHODS``) in ``__post_init__``, so a config that exists is one the scheduler can run:
defaults per method are filled in, method options are checked by the method's own options dataclass, and every
error names the field that fixes it. Its fields' metadata make the ``debate`` command's flags and the Run page's
form, structured fields included (``agent_specs``, ``method_options``, ``columns``: see ``agentark.options``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from agentark.backends import Engine, EngineSpec, create_engine
from agentark.config import DEFAULT_DATASET
from agentark.debate.methods import METHODS, method_help, method_named
from agentark.errors import ConfigError
from agentark.generation import GenerationConfig


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
class AgentFlags:
    """How the CLI gives ``agent_specs``: models and system prompts, one flag per speaker, paired by position."""

    agent_model: list[str] = field(default_factory=list, metadata={
        "help": "one per speaker in order (e.g. agent_1, agent_2, ...; mad: affirmative, negative, judge)",
        "repeat": True, "metavar": "[ENGINE=]MODEL"})
    agent_system: list[str] = field(default_factory=list, metadata={
        "help": "system prompt (role) per speaker, in the same order as --agent-model", "repeat": True,
        "metavar": "TEXT"})


def paired_specs(given: dict) -> list[AgentSpec]:
    """Pair the speakers' models and system prompts by position; a speaker may have either or both."""
    models, systems = given.get("agent_model") or [], given.get("agent_system") or []
    specs = []
    for i in range(max(len(models), len(systems))):
        system = systems[i] if i < len(systems) else None
        specs.append(AgentSpec.parse(models[i], system) if i < len(models) else AgentSpec(system=system))
    return specs


@dataclass
class ColumnFlags:
    """The file columns ``columns`` maps, one option each."""

    question_col: str | None = field(default=None, metadata={
        "help": "column holding the question (files and hf: datasets; empty: detect)"})
    answer_col: str | None = field(default=None, metadata={"help": "column holding the answer"})
    id_col: str | None = field(default=None, metadata={"help": "column holding a stable problem id"})


def column_map(given: dict) -> dict:
    return {"question": (given.get("question_col") or "").strip(), "answer": (given.get("answer_col") or "").strip(),
            "id": (given.get("id_col") or "").strip() or None}


def _method_option(values: dict, name: str) -> bool:
    return name in {f.name for f in fields(METHODS[values.get("method", "debate")].options)}


def _free_agents(values: dict, name: str) -> bool:
    return METHODS[values.get("method", "debate")].fixed_agents is None


def _free_rounds(values: dict, name: str) -> bool:
    return not METHODS[values.get("method", "debate")].single_round


def aggregating_methods() -> str:
    """The methods that take the aggregator call, as a help text or an error names them."""
    return " or ".join(name for name, m in METHODS.items() if m.supports_aggregator)


@dataclass
class DebateConfig(GenerationConfig):
    """Everything that defines a debate run; stored as the run's config and shared by CLI and page.

    ``agents`` and ``rounds`` default per method (see ``METHODS[name].defaults``). ``agent_specs`` gives
    speakers, in the order of the method's ``speakers()``, their own model and system prompt; speakers
    without one use ``engine``/``model``. ``method_options`` holds the method's own settings, validated by
    its options dataclass. ``early_stop`` ends a round-based debate once every solver gives the same answer.
    ``seed`` seeds sampling; ``problem_seed`` picks the built-in generator's problems, so two runs with
    different sampling seeds debate the same problems. ``columns`` maps a file's question/answer/id columns.
    ``solve_prompt`` (None: ``SOLVE_PROMPT``) is the first-turn wording, for evaluating a model trained on
    another one.
    """

    method: str = field(default="debate", metadata={"help": method_help, "choices": lambda: tuple(METHODS)})
    dataset: str = field(default=DEFAULT_DATASET, metadata={
        "help": "builtin:arithmetic, gsm8k, hf:NAME or a .jsonl/.parquet/.csv path", "widget": "dataset"})
    limit: int | None = field(default=8, metadata={
        "help": "number of problems; unset: the whole dataset", "min": 1, "widget": "number",
        "hint": "Leave it out to use the whole dataset."})
    split: str = field(default="test", metadata={
        "help": "dataset split; the built-in generator draws its own problems for each split name: train to "
                "distill on, test held out"})
    agents: int | None = field(default=None, metadata={
        "help": "agents (solvers, samples); default per method", "min": 1, "widget": "number",
        "applies": _free_agents})
    rounds: int | None = field(default=None, metadata={
        "help": "rounds; default per method", "min": 1, "widget": "number", "applies": _free_rounds})
    problem_seed: int = field(default=0, metadata={
        "help": "seed that picks the built-in generator's problems, apart from the sampling seed"})
    aggregator: bool = field(default=False, metadata={
        "help": lambda: f"a final aggregator call decides the answer (method {aggregating_methods()})"})
    chunk_size: int = field(default=16, metadata={"help": "problems per batch and per shard", "min": 1})
    agent_specs: list = field(default_factory=list, metadata={
        "help": "one line per speaker in order (agent_1, agent_2, …; mad: affirmative, negative, judge; critique: "
                "solvers then critics): [ENGINE=]MODEL | system prompt. Use - to keep the run's model.",
        "group": AgentFlags, "build": paired_specs, "lines": AgentSpec.parse_lines})
    method_options: dict = field(default_factory=dict, metadata={
        "help": "the method's own settings", "group": lambda: [m.options for m in METHODS.values()],
        "applies": _method_option})
    early_stop: bool = field(default=False, metadata={"help": "stop once every agent gives the same answer"})
    first_agent_tie_break: bool = field(default=False, metadata={
        "help": "Du et al.'s first-agent tie-break: a vote whose largest groups are equal goes to the group the "
                "first agent's answer is in (default: a tie has no final answer; ties are counted either way)"})
    columns: dict | None = field(default=None, metadata={
        "help": "a file's question, answer and id columns", "group": ColumnFlags, "build": column_map})
    solve_prompt: str | None = field(default=None, metadata={"internal": True})

    def __post_init__(self) -> None:
        method = method_named(self.method)
        default_agents, default_rounds = method.defaults
        self.agents = default_agents if self.agents is None else int(self.agents)
        self.rounds = default_rounds if self.rounds is None else int(self.rounds)
        super().__post_init__()
        if method.fixed_agents is not None and self.agents != method.fixed_agents:
            count = "one agent" if method.fixed_agents == 1 else f"{method.fixed_agents} agents"
            raise ConfigError(f"Method '{self.method}' always has {count}; leave [[agents]] unset.")
        if method.single_round and self.rounds != 1:
            raise ConfigError(f"Method '{self.method}' answers once; leave [[rounds]] unset, or set [[method]] debate.")
        if self.aggregator and not method.supports_aggregator:
            raise ConfigError(f"The aggregator call belongs to [[method]] {aggregating_methods()}; turn "
                              "[[aggregator]] off for other methods.")
        self.method_settings()
        self.agent_specs = [asdict(a) if isinstance(a, AgentSpec) else dict(a) for a in self.agent_specs]
        specs = self.specs()
        speakers = method.speakers(self)
        if len(specs) > len(speakers):
            raise ConfigError(
                f"{len(specs)} agent models given but method '{self.method}' has {len(speakers)} speakers "
                f"({', '.join(speakers)}); give at most one per speaker in [[agent_specs]], in that order."
            )
        if self.solve_prompt is not None and "{question}" not in self.solve_prompt:
            raise ConfigError("[[solve_prompt]] must contain {question} where the problem goes.")
        if self.columns is not None:
            unknown = set(self.columns) - {"question", "answer", "id"}
            if unknown or not self.columns.get("question") or not self.columns.get("answer"):
                raise ConfigError(
                    "columns maps 'question' and 'answer' (and optionally 'id') to column names; "
                    "set both [[question_col]] and [[answer_col]]."
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
            raise ConfigError(f"An agent spec has an unknown field ({exc}); use engine, model, system, "
                              "options.") from exc

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


# The Run page's first offer: a debate that finishes within a minute on 2 CPU cores with the embedded model
# (bench/first_run.py times it from the click) and still shows the studio's question on real answers: one
# agent vs the team. One-digit additions are the level the 135M model sometimes gets right; its replies there
# run 80-128 tokens, so fewer tokens would cut most answers off. The time grows with problems x max_tokens,
# and round 2 (every agent reads the others' answers) costs most of it.
FIRST_RUN_DATASET = "builtin:arithmetic-onestep"


def first_run_config() -> DebateConfig:
    """The Run page's defaults: a first debate that finishes within a minute and compares one agent with the team."""
    return DebateConfig(dataset=FIRST_RUN_DATASET, limit=4, agents=3, rounds=2, max_tokens=128)


def build_engines(cfg: DebateConfig) -> dict[str, Engine]:
    """One engine per distinct (engine, model, options) among the run's speakers."""
    return {key: create_engine(spec) for key, spec in cfg.engine_specs().items()}
