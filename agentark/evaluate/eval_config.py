"""The settings of evaluation, comparison, best-of-N and PRM evaluation: one dataclass each, shared by the
CLI, the Compare page's forms and what is stored or reported.

Design decision: this module imports nothing heavy (no scipy, no job runner), so the CLI can build its
parser from these defaults without paying for the statistics it may never run.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from agentark.config import DEFAULT_DATASET, EMBEDDED_MODEL
from agentark.errors import ConfigError
from agentark.labels.segment import SEGMENTERS

CONFIDENCE = 0.95
AGGREGATIONS = ("min", "mean", "last", "product", "softmin")
GROUND_TRUTH_SOURCES = ["human", "import:prm800k", "import:math-shepherd"]


@dataclass
class Pricing:
    """USD per million tokens, prompt and completion, for the cost per 1,000 problems.

    The defaults are list prices of a small hosted model; set your provider's (or your GPU-hour's
    equivalent) to make the cost column yours.
    """

    prompt_usd_per_mtok: float = 0.15
    completion_usd_per_mtok: float = 0.60

    def __post_init__(self) -> None:
        if self.prompt_usd_per_mtok < 0 or self.completion_usd_per_mtok < 0:
            raise ConfigError("Token prices cannot be negative; give USD per million tokens, e.g. 0.15 and 0.60.")

    def cost(self, prompt_tokens: float, completion_tokens: float) -> float:
        return (prompt_tokens * self.prompt_usd_per_mtok + completion_tokens * self.completion_usd_per_mtok) / 1e6


@dataclass
class CompareConfig:
    """Gates of a rollout decision and the prices behind cost; shared by the page, the CLI and the report.

    A candidate passes when its accuracy is at least ``min_accuracy_ratio`` of the reference's, its tokens
    per problem at most ``max_token_ratio`` of the reference's, and its p95 latency per problem under
    ``max_p95_latency_s`` seconds.
    """

    min_accuracy_ratio: float = 0.95
    max_token_ratio: float = 0.5
    max_p95_latency_s: float = 30.0
    prompt_usd_per_mtok: float = Pricing.prompt_usd_per_mtok
    completion_usd_per_mtok: float = Pricing.completion_usd_per_mtok
    confidence: float = CONFIDENCE

    def __post_init__(self) -> None:
        if not 0 < self.min_accuracy_ratio <= 2:
            raise ConfigError(f"min_accuracy_ratio is a share of the reference's accuracy, e.g. 0.95 "
                              f"(got {self.min_accuracy_ratio}).")
        if not self.max_token_ratio > 0:
            raise ConfigError(f"max_token_ratio must be above 0, e.g. 0.5 for half the tokens "
                              f"(got {self.max_token_ratio}).")
        if not self.max_p95_latency_s > 0:
            raise ConfigError(f"max_p95_latency_s must be above 0 seconds (got {self.max_p95_latency_s}).")
        if not 0.5 <= self.confidence < 1:
            raise ConfigError(f"confidence must be in [0.5, 1), e.g. 0.95 (got {self.confidence}).")
        self.pricing()

    def pricing(self) -> Pricing:
        return Pricing(self.prompt_usd_per_mtok, self.completion_usd_per_mtok)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class BonConfig:
    """How best-of-N is computed; shared by the CLI's ``compare --prm`` and the page's PRM picker."""

    aggregations: list[str] = field(default_factory=lambda: list(AGGREGATIONS))
    temperature: float = 0.1
    segmenter: str = "paragraphs"

    def __post_init__(self) -> None:
        unknown = [a for a in self.aggregations if a not in AGGREGATIONS]
        if unknown or not self.aggregations:
            raise ConfigError(f"Unknown aggregation(s) {', '.join(unknown) or '(none given)'}; "
                              f"choose from {', '.join(AGGREGATIONS)}.")
        if self.temperature <= 0:
            raise ConfigError(f"softmin temperature must be above 0 (got {self.temperature}).")
        if self.segmenter not in SEGMENTERS:
            raise ConfigError(f"Unknown segmenter '{self.segmenter}'; choose one of: {', '.join(SEGMENTERS)}.")


@dataclass
class PRMEvalConfig:
    """Which labels are ground truth and the threshold below which a step counts as wrong."""

    threshold: float = 0.5
    sources: list[str] = field(default_factory=lambda: list(GROUND_TRUTH_SOURCES))
    neutral: str = "positive"

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise ConfigError(f"threshold is a step probability in (0, 1), e.g. 0.5 (got {self.threshold}).")
        if not self.sources:
            raise ConfigError("sources is empty; name the label sources that count, e.g. human import:prm800k.")
        if self.neutral not in ("positive", "negative"):
            raise ConfigError(f"neutral must be 'positive' or 'negative' (got '{self.neutral}').")


@dataclass
class EvalConfig:
    """What to evaluate on what; shared by ``python -m agentark eval``, the Evaluate panel and the run row.

    ``method`` is ``cot`` (the model as one agent with the solve prompt) or a debate method; ``engine`` and
    ``engine_options`` are the debate's (a served model: ``openai`` with ``base_urls``); ``samples`` is
    the number of agents (k samples per problem for ``self_consistency``). ``temperature`` defaults to 0
    for one agent (greedy) and 0.7 when several samples must differ.
    """

    model: str = EMBEDDED_MODEL
    dataset: str = DEFAULT_DATASET
    split: str = "test"
    limit: int | None = 50
    method: str = "cot"
    samples: int | None = None
    rounds: int | None = None
    engine: str = "transformers"
    engine_options: dict = field(default_factory=dict)
    temperature: float | None = None
    max_tokens: int = 256
    seed: int = 0
    chunk_size: int = 16
    allow_overlap: bool = False

    def __post_init__(self) -> None:
        if not (self.model or "").strip():
            raise ConfigError("Name the model to evaluate: a studio model id, a checkpoint folder or "
                              "embedded:smollm2-135m.")
        if self.temperature is None:
            self.temperature = 0.0 if self.method == "cot" else 0.7
        self.debate_config()

    def debate_config(self):
        """The run's ``DebateConfig`` (which validates method and settings): the model as named (engines
        resolve studio ids) with the solve prompt its model card records, so a distilled student is asked
        exactly what it was trained on."""
        from agentark.debate import DebateConfig
        from agentark.checkpoints import prompt_for

        return DebateConfig(
            method=self.method, dataset=self.dataset, limit=self.limit, split=self.split,
            agents=None if self.method == "cot" else self.samples, rounds=self.rounds,
            temperature=float(self.temperature), max_tokens=self.max_tokens, seed=self.seed, engine=self.engine,
            engine_options=dict(self.engine_options),
            model=self.model, chunk_size=self.chunk_size, solve_prompt=prompt_for(self.model),
        )

    def to_dict(self) -> dict:
        return asdict(self)
