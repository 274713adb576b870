"""What to export and how: :class:`ExportConfig`, stored with every export as its ``filters_json``.

Design decision: every rule that decides what a row holds is a field here, stored with the export together
with the figures it produced (``filters_json``: the config plus ``summary``). The kinds are the registry's
(``agentark.training_sets.kind_registry``); a kind's own checks run from ``__post_init__``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from agentark.errors import ConfigError
from agentark.labels.label_policy import DEFAULT_BALANCE_THRESHOLD, POLICIES, POLICY_NAMES
from agentark.labels.labelers import default_precedence
from agentark.options import ConfigBase, check_bounds, run_ids_field
from agentark.training_sets.kind_registry import KIND_TITLES, export_kind_names, export_kinds, get_export_kind

CORRECTION_FILTERS = ("any", "only", "none", "human")
FORMATS = ("parquet", "jsonl")
CORRECTION_NAMES = {"any": "all problems", "only": "only problems with a correction",
                    "none": "only problems without a correction",
                    "human": "people's corrected trajectories instead of the messages (R-SFT/DA)"}


@dataclass
class ExportConfig(ConfigBase):
    """What to export and how; stored as the export's ``filters_json``."""

    kind: str = field(default="prm", metadata={"help": "the training set to write", "choices": export_kind_names,
                                               "labels": KIND_TITLES, "positional": True})
    run_ids: list[str] = run_ids_field("Runs to export; every run when empty.")
    format: str | None = field(default=None, metadata={
        "help": "file format (default: parquet, or jsonl for transcripts, whose records nest)", "choices": FORMATS})
    max_per_problem: int = field(default=4, metadata={"help": "DA: distinct trajectories per problem", "min": 1})
    precedence: list[str] = field(default_factory=default_precedence, metadata={
        "help": "PRM: label sources, winner first", "suggest": default_precedence})
    policy: str = field(default="precedence", metadata={
        "help": "PRM: precedence alone, or consensus (a Monte-Carlo or judge label counts only where the other agrees)",
        "choices": POLICIES, "labels": POLICY_NAMES})
    neutral: str = field(default="positive", metadata={"help": "PRM: how a neutral (0) label counts",
                                                       "choices": ("positive", "negative")})
    label_type: str = field(default="hard", metadata={
        "help": "PRM: hard labels, or soft ones (the Monte-Carlo fraction)", "choices": ("hard", "soft"),
        "flag": "--soft", "flag_value": "soft"})
    first_error: bool = field(default=True, metadata={
        "help": "PRM: PRM800K's first-error convention (steps before a known first error good, it bad, the rest "
                "dropped; right answers all good); off: only messages with every step labelled"})
    balance_threshold: float = field(default=DEFAULT_BALANCE_THRESHOLD, metadata={
        "help": "PRM: warn when negatives are under this share of steps"})
    require_finished: bool = field(default=True, metadata={
        "help": "R-SFT/DA: leave out messages cut off at the token limit", "flag": "--keep-truncated",
        "flag_value": False})
    require_explicit_answer: bool = field(default=True, metadata={
        "help": "R-SFT/DA: leave out messages without an explicit final answer (boxed, 'The answer is', ####)",
        "flag": "--keep-implicit", "flag_value": False})
    drop_degenerate: bool = field(default=True, metadata={
        "help": "R-SFT/DA/PRM: leave out degenerate messages (repetition loops, token salad, copies of another "
                "agent's message)", "flag": "--keep-degenerate", "flag_value": False})
    corrections: str = field(default="any", metadata={
        "help": "ablations: only problems whose debate has a correction (an agent went wrong -> right), or none "
                "of them; human: R-SFT/DA from the trajectories people corrected on the Label steps page (the "
                "message up to the wrong step, the person's step and rest), kept when they reach the reference "
                "answer", "choices": CORRECTION_FILTERS, "labels": CORRECTION_NAMES})

    def __post_init__(self) -> None:
        kind = get_export_kind(self.kind)
        if self.format is None:
            self.format = kind.default_format
        if self.format not in FORMATS:
            raise ConfigError(f"Unknown format '{self.format}'; set [[format]] to parquet or jsonl.")
        check_bounds(ExportConfig, self)
        if self.neutral not in ("positive", "negative"):
            raise ConfigError(f"[[neutral]] must be 'positive' or 'negative' (got '{self.neutral}').")
        if self.label_type not in ("hard", "soft"):
            raise ConfigError(f"[[label_type]] must be 'hard' or 'soft' (got '{self.label_type}').")
        if not self.precedence:
            raise ConfigError("[[precedence]] is empty; list label sources, e.g. human auto:mc auto:outcome.")
        if self.policy not in POLICIES:
            raise ConfigError(f"[[policy]] must be one of {', '.join(POLICIES)} (got '{self.policy}').")
        if self.corrections not in CORRECTION_FILTERS:
            raise ConfigError(f"[[corrections]] must be one of {', '.join(CORRECTION_FILTERS)} "
                              f"(got '{self.corrections}').")
        if self.corrections == "human" and not kind.human_corrections:
            takers = [k.name for k in export_kinds().values() if k.human_corrections]
            raise ConfigError(f"[[corrections]] human makes corrected trajectories for {', '.join(takers)} "
                              f"exports; not for {self.kind}.")
        if not 0 <= self.balance_threshold < 1:
            raise ConfigError(f"[[balance_threshold]] is a share of steps in [0, 1), e.g. 0.1 "
                              f"(got {self.balance_threshold}).")
        if kind.check is not None:
            kind.check(self)
