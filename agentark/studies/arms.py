"""The arms of a study: what each trains on and how it is called in the study's table.

Design decision: an arm is a record, like a job kind or an export kind, and the study reads the record rather than
its name. A debate arm says which export of the teacher's run it trains on (``teacher_export``); the single-agent
arm has no teacher export (the study samples it and matches it to a ``matchable`` arm); the teacher-alone arm
draws the teacher's own round-1 answers (every agent answering alone, before any debate) and is matched like the
single-agent arm; PAD trains on top of a ``matchable`` arm with GRPO rather than SFT. The table lists the arms in registration order, after the base model.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentark.training_sets import ExportConfig

# The row of the table every study has: the untrained student.
BASE = "base"
BASE_TITLE = "base model (no training)"


@dataclass(frozen=True)
class Arm:
    """One data arm: ``teacher_export(study_config, teacher_run)`` builds the export it trains on from the
    teacher's debate (None: the arm's data comes from elsewhere); ``sft`` whether it is an SFT arm; ``matchable``
    whether the single-agent arm may match its volume and PAD may start from it."""

    name: str
    title: str
    teacher_export: Callable[[Any, str], ExportConfig] | None = None
    sft: bool = True
    matchable: bool = False


ARM_RECORDS: dict[str, Arm] = {}


def register_arm(arm: Arm) -> Arm:
    """Add ``arm`` to the study's arms (in table order)."""
    if arm.name in ARM_RECORDS or arm.name == BASE:
        raise ValueError(f"a study arm named {arm.name!r} exists already")
    ARM_RECORDS[arm.name] = arm
    return arm


for _arm in (
    Arm("rsft", "debate R-SFT", lambda c, run: ExportConfig(kind="rsft", run_ids=[run]), matchable=True),
    Arm("da", "debate DA", lambda c, run: ExportConfig(kind="da", run_ids=[run], max_per_problem=c.da_max_per_problem),
        matchable=True),
    Arm("single", "single-agent self-distillation, matched volume"),
    Arm("teacher_alone", "teacher alone (its round-1 answers), matched volume"),
    Arm("corrections", "corrections only (R-SFT)",
        lambda c, run: ExportConfig(kind="rsft", run_ids=[run], corrections="only")),
    Arm("pad", "PAD (GRPO with the study's PRM)", sft=False),
):
    register_arm(_arm)


def arm_names() -> tuple[str, ...]:
    """Every arm a study can train, in table order."""
    return tuple(ARM_RECORDS)


def arm_title(name: str) -> str:
    """How the study's table calls an arm (the base model included); an unknown name is shown as it is."""
    return BASE_TITLE if name == BASE else (ARM_RECORDS[name].title if name in ARM_RECORDS else name)


def sft_arms() -> tuple[str, ...]:
    """The arms trained with SFT on an export."""
    return tuple(a.name for a in ARM_RECORDS.values() if a.sft)


def matchable_arms() -> tuple[str, ...]:
    """The debate arms the single-agent arm may match and PAD may start from."""
    return tuple(a.name for a in ARM_RECORDS.values() if a.matchable)
