"""The settings of evaluation, comparison, best-of-N and PRM evaluation: one dataclass each, shared by the
CLI, the Compare page's forms and what is stored or reported.

Design decision: this module imports nothing heavy (no scipy, no job runner), so the CLI can build its
parser from these defaults without paying for the statistics it may never run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from agentark.config import DEFAULT_DATASET, EMBEDDED_MODEL
from agentark.errors import ConfigError
from agentark.generation import GenerationConfig
from agentark.options import ConfigBase
from agentark.labels.segment import SEGMENTERS
from agentark.train.prm_scoring import AGGREGATIONS

CONFIDENCE = 0.95
GROUND_TRUTH_SOURCES = ["human", "import:prm800k", "import:math-shepherd"]


@dataclass
class Pricing(ConfigBase):
    """USD per million tokens, prompt and completion, for the cost per 1,000 problems; ``source`` says where the
    price came from (an engine's default, a price set for a model or engine, or one set for every run)."""

    prompt_usd_per_mtok: float = 0.0
    completion_usd_per_mtok: float = 0.0
    source: str = "set"

    def __post_init__(self) -> None:
        if self.prompt_usd_per_mtok < 0 or self.completion_usd_per_mtok < 0:
            raise ConfigError("Token prices ([[prompt_usd_per_mtok]], [[completion_usd_per_mtok]]) cannot be negative; "
                              "give USD per million tokens, e.g. 0.15 and 0.60.")

    def cost(self, prompt_tokens: float, completion_tokens: float) -> float:
        return (prompt_tokens * self.prompt_usd_per_mtok + completion_tokens * self.completion_usd_per_mtok) / 1e6


def parse_price(text: str) -> tuple[str, float, float]:
    """``KEY=PROMPT,COMPLETION`` (USD per million tokens; KEY is a model or an engine) as its three parts."""
    key, sep, value = str(text).partition("=")
    parts = value.replace("/", ",").split(",")
    try:
        prompt, completion = (float(v) for v in parts) if len(parts) == 2 else (float("nan"),) * 2
    except ValueError:
        prompt = completion = float("nan")
    if not sep or not key.strip() or prompt != prompt or completion != completion:
        raise ConfigError(f"Price '{text}' is not MODEL_OR_ENGINE=PROMPT,COMPLETION in USD per million tokens, "
                          "e.g. gpt-4o-mini=0.15,0.60 or openai=0,0; fix [[prices]].")
    Pricing(prompt, completion)
    return key.strip(), prompt, completion


def price_for(engine: str | None, model: str | None, prices: list[str] | None = None) -> Pricing | None:
    """The price of a run's tokens: one set for its model, else for its engine, else the engine's default
    (0 for a local engine); None when none is known (a run imported from another tool), so its cost shows "—"."""
    from agentark.backends import engine_price

    table = {key: (p, c) for key, p, c in map(parse_price, prices or [])}
    for key, what in ((model, "model"), (engine, "engine")):
        if key and key in table:
            return Pricing(*table[key], source=f"set for {what} {key}")
    default = engine_price(engine)
    if default is None:
        return None
    return Pricing(*default, source=f"{engine} default" + (" (local engine)" if default == (0.0, 0.0) else ""))


@dataclass
class CompareConfig(ConfigBase):
    """Gates of a rollout decision and the prices behind cost; shared by the page, the CLI and the report.

    Gates depend on the runs' roles (teacher, base, student). A student against a teacher passes when its
    accuracy is at least ``min_accuracy_ratio`` of the teacher's, its tokens per problem at most
    ``max_token_ratio`` of the teacher's, and its p95 latency per problem under ``max_p95_latency_s`` seconds.
    A run against a base passes when the paired interval of its accuracy lift lies above ``min_lift``.
    Every relating figure is computed on the problems all compared runs finished.
    """

    min_accuracy_ratio: float = field(default=0.95, metadata={
        "help": "gate vs a teacher: the candidate's accuracy is at least this share of the teacher's (0.95: 95%)"})
    max_token_ratio: float = field(default=0.5, metadata={
        "help": "gate vs a teacher: its tokens per problem are at most this share of the teacher's"})
    max_p95_latency_s: float = field(default=30.0, metadata={
        "help": "gate vs a teacher: its p95 latency per problem is under this many seconds",
        "flag": "--max-p95-latency"})
    min_lift: float = field(default=0.0, metadata={
        "help": "gate vs a base: the paired interval of the accuracy lift lies above this (0.05: 5 points)",
        "min": -1, "max": 1})
    prompt_usd_per_mtok: float | None = field(default=None, metadata={
        "help": "USD per million prompt tokens for every run (empty: each run's engine or model price; "
                "0 for local engines)", "flag": "--price-prompt"})
    completion_usd_per_mtok: float | None = field(default=None, metadata={
        "help": "USD per million completion tokens for every run (empty: each run's own price)",
        "flag": "--price-completion"})
    prices: list[str] = field(default_factory=list, metadata={
        "help": "price of a model or engine as MODEL_OR_ENGINE=PROMPT,COMPLETION in USD per million tokens "
                "(e.g. gpt-4o-mini=0.15,0.60 or openai=0,0)", "flag": "--price", "repeat": True,
        "metavar": "KEY=PROMPT,COMPLETION"})
    confidence: float = field(default=CONFIDENCE, metadata={"help": "confidence level of the accuracy intervals"})

    def __post_init__(self) -> None:
        if not 0 < self.min_accuracy_ratio <= 2:
            raise ConfigError(f"[[min_accuracy_ratio]] is a share of the reference's accuracy, e.g. 0.95 "
                              f"(got {self.min_accuracy_ratio}).")
        if not self.max_token_ratio > 0:
            raise ConfigError(f"[[max_token_ratio]] must be above 0, e.g. 0.5 for half the tokens "
                              f"(got {self.max_token_ratio}).")
        if not self.max_p95_latency_s > 0:
            raise ConfigError(f"[[max_p95_latency_s]] must be above 0 seconds (got {self.max_p95_latency_s}).")
        if not 0.5 <= self.confidence < 1:
            raise ConfigError(f"[[confidence]] must be in [0.5, 1), e.g. 0.95 (got {self.confidence}).")
        if (self.prompt_usd_per_mtok is None) != (self.completion_usd_per_mtok is None):
            raise ConfigError("Set both [[prompt_usd_per_mtok]] and [[completion_usd_per_mtok]] (a price for every "
                              "run), or neither (each run's own price).")
        self.pricing()
        for price in self.prices:
            parse_price(price)

    def pricing(self) -> Pricing | None:
        """The one price set for every run, or None when each run has its own."""
        if self.prompt_usd_per_mtok is None:
            return None
        return Pricing(self.prompt_usd_per_mtok, self.completion_usd_per_mtok, source="set for every run")

    def price_for(self, engine: str | None, model: str | None) -> Pricing | None:
        """The price of one run's tokens (see ``price_for``)."""
        return self.pricing() or price_for(engine, model, self.prices)


@dataclass
class BonConfig(ConfigBase):
    """How best-of-N is computed; shared by the CLI's ``compare --prm`` and the page's PRM picker."""

    aggregations: list[str] = field(default_factory=lambda: list(AGGREGATIONS), metadata={
        "help": "best-of-N step aggregations (default: all)", "choices": AGGREGATIONS,
        "flag": "--aggregation", "repeat": True})
    temperature: float = field(default=0.1, metadata={"help": "softmin temperature", "flag": "--softmin-temperature"})
    segmenter: str = field(default="auto", metadata={"help": "how a sample is cut into steps (the labels' segmenter)",
                                                     "choices": SEGMENTERS})

    def __post_init__(self) -> None:
        unknown = [a for a in self.aggregations if a not in AGGREGATIONS]
        if unknown or not self.aggregations:
            raise ConfigError(f"Unknown aggregation(s) {', '.join(unknown) or '(none given)'}; "
                              f"choose [[aggregations]] from {', '.join(AGGREGATIONS)}.")
        if self.temperature <= 0:
            raise ConfigError(f"softmin [[temperature]] must be above 0 (got {self.temperature}).")
        if self.segmenter not in SEGMENTERS:
            raise ConfigError(f"Unknown segmenter '{self.segmenter}'; set [[segmenter]] to one of: "
                              f"{', '.join(SEGMENTERS)}.")


@dataclass
class PRMEvalConfig(ConfigBase):
    """Which labels are ground truth and the threshold below which a step counts as wrong."""

    threshold: float = field(default=0.5, metadata={"help": "a step whose probability of being good is below "
                                                            "this counts as wrong"})
    sources: list[str] = field(default_factory=lambda: list(GROUND_TRUTH_SOURCES), metadata={
        "help": "label sources that count as ground truth"})
    neutral: str = field(default="positive", metadata={"help": "how a neutral (0) label counts",
                                                       "choices": ("positive", "negative")})

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise ConfigError(f"[[threshold]] is a step probability in (0, 1), e.g. 0.5 (got {self.threshold}).")
        if not self.sources:
            raise ConfigError("[[sources]] is empty; name the label sources that count, e.g. human import:prm800k.")
        if self.neutral not in ("positive", "negative"):
            raise ConfigError(f"[[neutral]] must be 'positive' or 'negative' (got '{self.neutral}').")


@dataclass
class EvalConfig(GenerationConfig):
    """What to evaluate on what; shared by ``python -m agentark eval``, the Evaluate panel and the run row.

    ``method`` is ``cot`` (the model as one agent with the solve prompt) or a debate method; ``engine`` and
    ``engine_options`` are the debate's (a served model: ``openai`` with ``base_urls``); ``samples`` is
    the number of agents (k samples per problem for ``self_consistency``). ``temperature`` defaults to 0
    for one agent (greedy) and 0.7 when several samples must differ.
    """

    model: str = field(default=EMBEDDED_MODEL, metadata={
        "help": "studio model id, checkpoint folder or embedded:smollm2-135m", "required": True, "widget": "model"})
    temperature: float | None = field(default=None, metadata={
        "help": "sampling temperature (empty: the method's own: 0 for one agent, 0.7 where answers must differ)",
        "min": 0, "max": 2})
    dataset: str = field(default=DEFAULT_DATASET, metadata={
        "help": "builtin:arithmetic, gsm8k, hf:NAME or a .jsonl/.parquet/.csv path", "widget": "dataset"})
    split: str = field(default="test", metadata={"help": "dataset split (held-out problems: test)"})
    problem_seed: int = field(default=0, metadata={
        "help": "seed that picks the built-in generator's problems, apart from the sampling seed"})
    limit: int | None = field(default=50, metadata={"help": "number of problems", "min": 1, "widget": "number"})
    method: str = field(default="cot", metadata={
        "help": "cot (one agent with its training solve prompt) or a debate method",
        "choices": lambda: tuple(debate_methods())})
    samples: int | None = field(default=None, metadata={
        "help": "agents; k samples per problem for self_consistency (empty: the method's default)", "min": 1})
    rounds: int | None = field(default=None, metadata={"help": "rounds (empty: the method's default)", "min": 1})
    chunk_size: int = field(default=16, metadata={"help": "problems per batch and per shard", "min": 1})
    allow_overlap: bool = field(default=False, metadata={
        "help": "evaluate even on problems the model trained on (reported as a warning)"})
    # Set by ``like_eval_config``: the rest of a run's debate config (speakers, method options, aggregator, ...),
    # so evaluating "like RUN" re-runs the whole debate, not just its method name.
    like: dict = field(default_factory=dict, metadata={"internal": True})

    def __post_init__(self) -> None:
        if not (self.model or "").strip():
            raise ConfigError("Name the model to evaluate in [[model]]: a studio model id, a checkpoint folder or "
                              "embedded:smollm2-135m.")
        if self.temperature is None:
            self.temperature = self.method_record().temperature
        super().__post_init__()
        self.debate_config()

    def method_record(self):
        """The method's record (``agentark.debate.methods.Method``), imported when asked: this module stays light."""
        from agentark.debate.methods import method_named

        return method_named(self.method)

    def debate_config(self):
        """The run's ``DebateConfig`` (which validates method and settings): the model as named (engines
        resolve studio ids) with the solve prompt its model card records, so a distilled student is asked
        exactly what it was trained on."""
        from agentark.debate import DebateConfig
        from agentark.checkpoints import prompt_for

        own = dict(**self.generation(), method=self.method, dataset=self.dataset, limit=self.limit, split=self.split,
                   problem_seed=self.problem_seed, agents=self.samples if self.method_record().team else None,
                   rounds=self.rounds, chunk_size=self.chunk_size)
        if self.like:
            return DebateConfig.from_dict({**self.like, **own})
        return DebateConfig(**own, solve_prompt=prompt_for(self.model))

    def models(self) -> list[str]:
        """Every model that answers in this evaluation: the run's, and each speaker's own (``like`` a debate with
        agent specs), for the held-out check."""
        return self.debate_config().models() if self.like else [self.model]


def debate_methods() -> list[str]:
    """The debate methods an evaluation may use (imported when asked: this module stays light)."""
    from agentark.debate.methods import METHODS

    return list(METHODS)
