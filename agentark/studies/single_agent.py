"""The single-agent arm's sampling: how the base model answers the training problems alone, round after round,
until its correct answers can match a debate arm's volume (``agentark.studies.matched_volume``).

Design decision: the arm has its own config, composed into ``StudyConfig`` as its ``[single]`` table, rather than
a ``DebateConfig``: most of a debate's fields are decided by the study (the method is ``self_consistency``, the
problems are the study's training split, the seed follows the teacher's), and an empty engine or model
means "the student's own", which a ``DebateConfig`` cannot say.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from agentark.errors import ConfigError
from agentark.options import ConfigBase, check_bounds
from agentark.studies.arms import matchable_arms


@dataclass
class SingleAgentConfig(ConfigBase):
    """Where the single-agent samples come from, how many per round, and which debate arm they match."""

    engine: str = field(default="", metadata={
        "help": "engine of the single-agent samples (empty: student_engine); e.g. openai for the same weights "
                "served by vLLM"})
    model: str = field(default="", metadata={"help": "model of the single-agent samples (empty: student_model; "
                                                     "give the same weights when served)"})
    base_urls: list[str] = field(default_factory=list, metadata={
        "help": "OpenAI-compatible URLs serving the base model (single engine openai)", "flag": "--base-url",
        "repeat": True})
    samples: int = field(default=4, metadata={"help": "single-agent samples per problem per round", "min": 1})
    max_rounds: int = field(default=4, metadata={
        "help": "sampling rounds at most while the correct answers are fewer than the debate arm's rows", "min": 1})
    max_tokens: int = field(default=256, metadata={
        "help": "tokens per single-agent sample (its own limit, not the teacher's: a sample cut off is never a "
                "training row)", "min": 1})
    temperature: float = field(default=0.7, metadata={"help": "single-agent sampling temperature", "min": 0,
                                                      "max": 2})
    match: str = field(default="rsft", metadata={
        "help": "the debate arm whose rows and tokens the single-agent arm matches", "choices": matchable_arms})

    def __post_init__(self) -> None:
        check_bounds(SingleAgentConfig, self)
        if self.match not in matchable_arms():
            raise ConfigError(f"The single-agent arm matches a debate arm: set [[match]] to one of "
                              f"{', '.join(matchable_arms())} (got '{self.match}').")
