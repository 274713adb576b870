"""A study's arms are records: a new arm needs no edit in the study's config, job, report or page."""
from __future__ import annotations

import pytest

from agentark.options import options
from agentark.studies import arms
from agentark.studies.study_config import StudyConfig
from agentark.training_sets import ExportConfig


@pytest.fixture()
def extra_arm():
    arm = arms.register_arm(arms.Arm("rsft-hard", "debate R-SFT, hard problems only",
                                     lambda c, run: ExportConfig(kind="rsft", run_ids=[run]), matchable=True))
    yield arm
    del arms.ARM_RECORDS[arm.name]


def test_a_registered_arm_is_offered_accepted_and_titled(extra_arm) -> None:
    offered = {o.name: o for o in options(StudyConfig)}
    assert extra_arm.name in offered["arms"].choices and extra_arm.name in offered["pad_on"].choices
    cfg = StudyConfig(arms=["rsft", extra_arm.name], pad_on=extra_arm.name)
    assert cfg.arms == ["rsft", extra_arm.name]
    assert arms.arm_title(extra_arm.name) == "debate R-SFT, hard problems only"
    assert extra_arm.name in arms.sft_arms() and extra_arm.name in arms.matchable_arms()
    export = extra_arm.teacher_export(cfg, "run-1")
    assert export.kind == "rsft" and export.run_ids == ["run-1"]


def test_arm_records_keep_the_table_order_and_refuse_a_taken_name() -> None:
    assert arms.arm_names() == ("rsft", "da", "single", "teacher_alone", "corrections", "pad")
    assert arms.sft_arms() == ("rsft", "da", "single", "teacher_alone", "corrections")
    assert arms.matchable_arms() == ("rsft", "da")
    with pytest.raises(ValueError):
        arms.register_arm(arms.Arm("base", "again"))
    with pytest.raises(ValueError):
        arms.register_arm(arms.Arm("da", "again"))
    with pytest.raises(Exception, match="Unknown arm"):
        StudyConfig(arms=["nope"])
