"""A config made of other configs: a nested config field is offered as prefixed flags and widgets, built from its
default instance with what was given on top, and worded with its prefix in errors; the Studies page groups a
study's form by part."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agentark.debate.debate_config import AgentSpec, DebateConfig
from agentark.errors import ConfigError
from agentark.options import add_arguments, from_flat, from_namespace, from_values, option_names, options
from agentark.train.sft import SFTJobConfig

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Outer:
    """A config with a debate and an SFT job as parts."""

    name: str = field(default="x", metadata={"help": "a name"})
    teacher: DebateConfig = field(default_factory=lambda: DebateConfig(agents=3, rounds=2, max_tokens=64),
                                  metadata={"help": "the teacher", "config": DebateConfig, "prefix": "teacher",
                                            "skip": ("dataset", "split", "limit")})
    sft: SFTJobConfig = field(default_factory=lambda: SFTJobConfig(export="later", epochs=2.0),
                              metadata={"help": "the student", "config": SFTJobConfig, "skip": ("export",)})


def _parse(argv: list[str]) -> Outer:
    parser = argparse.ArgumentParser()
    add_arguments(parser, Outer)
    return from_namespace(Outer, parser.parse_args(argv))


def test_a_nested_config_becomes_prefixed_flags_that_build_it_over_its_default():
    names = option_names(Outer)
    assert {"teacher_agents", "teacher_base_urls", "teacher_agent_model", "sft_epochs", "sft_lora"} <= names
    assert not {"teacher_dataset", "sft_export", "teacher", "sft"} & names
    assert _parse([]) == Outer()
    cfg = _parse(["--teacher-rounds", "4", "--teacher-engine", "openai", "--teacher-base-url", "http://h/v1",
                  "--sft-lora", "--teacher-agent-model", "m1"])
    # Only what was given changes; the rest is the field's default instance (3 agents, 64 tokens, 2 epochs).
    assert cfg.teacher == DebateConfig(agents=3, rounds=4, max_tokens=64, engine="openai",
                                       engine_options={"base_urls": ["http://h/v1"]},
                                       agent_specs=[AgentSpec(model="m1")])
    assert cfg.sft == SFTJobConfig(export="later", epochs=2.0, lora=True)


def test_a_nested_config_error_names_the_prefixed_field():
    with pytest.raises(ConfigError) as caught:
        _parse(["--teacher-method", "cot"])
    assert "teacher_agents" in caught.value.fields and "--teacher-agents" in caught.value.worded(
        lambda f: "--" + f.replace("_", "-"))
    with pytest.raises(ConfigError, match=r"teacher_max_tokens"):
        from_flat(Outer, {"teacher_max_tokens": 0})


def test_form_values_and_flat_values_build_the_nested_config():
    form = {"name": "y", "teacher_agents": 5, "teacher_rounds": "", "teacher_base_urls": ["http://h/v1"],
            "teacher_engine": "transformers", "sft_max_steps": " 7 "}
    cfg = from_values(Outer, form)
    # A server option does not apply to the transformers engine (its rule reads the nested values unprefixed).
    assert cfg.teacher.agents == 5 and cfg.teacher.rounds == 2 and cfg.teacher.engine_options == {}
    assert cfg.sft.max_steps == 7 and cfg.sft.epochs == 2.0
    assert from_flat(Outer, {"teacher_agents": 5, "teacher_base_urls": []}).teacher.agents == 5
    with pytest.raises(TypeError, match="teacher_dataset"):
        from_flat(Outer, {"teacher_dataset": "gsm8k"})


def test_every_study_option_has_one_name():
    from agentark.studies.study_config import StudyConfig

    seen: list[str] = []

    def walk(opts) -> None:
        for opt in opts:
            if opt.kind != "config":
                seen.append(opt.name)
            walk(opt.members)

    walk(options(StudyConfig))
    assert len(seen) == len(set(seen))


def test_the_study_page_groups_its_form_by_part():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "10_studies.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    labels = [e.label for e in at.expander]
    assert ["Teacher", "Arms", "Students", "Training", "Evaluation"] == [
        label for label in labels if label in ("Teacher", "Arms", "Students", "Training", "Evaluation")]
    teacher = next(e for e in at.expander if e.label == "Teacher")
    keys = {w.key for w in [*teacher.number_input, *teacher.selectbox, *teacher.text_input]}
    assert {"study_teacher_agents", "study_teacher_method", "study_teacher_model"} <= keys
    assert "study_sft_epochs" not in keys
    # The page starts from the built-in study's own values, not the part classes' defaults.
    assert at.number_input(key="study_teacher_agents").value == 3
    assert at.text_input(key="study_pad_max_steps").value == "3"


def test_the_study_page_form_as_offered_starts_the_study_it_shows(monkeypatch):
    from types import SimpleNamespace

    from streamlit.testing.v1 import AppTest

    from agentark import jobs
    from agentark.studies.study_config import builtin_study

    started = []
    monkeypatch.setattr(jobs, "start", lambda kind, cfg, **kw: started.append(cfg) or SimpleNamespace(job_id="s-1"))
    at = AppTest.from_file(str(ROOT / "pages" / "10_studies.py"), default_timeout=60)
    at.run()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert started == [builtin_study()]


def test_study_run_flags_override_the_file_part_by_part():
    from agentark.cli import build_parser
    from agentark.cli.cmd_study import study_from_args
    from agentark.studies.study_config import builtin_study

    args = build_parser().parse_args(["study", "run", "builtin", "--teacher-agents", "2", "--seed", "0", "--seed",
                                      "1", "--sft-lora", "--eval-seed", "7", "--single-base-url", "http://h/v1"])
    cfg = study_from_args(args)
    builtin = builtin_study()
    # What the flags name changes; every other field keeps the file's value (the teacher's 2 rounds, 128 tokens).
    assert cfg.teacher.agents == 2 and cfg.teacher.rounds == builtin.teacher.rounds == 2
    assert cfg.teacher.max_tokens == 128 and cfg.seeds == [0, 1] and cfg.sft.lora and cfg.sft.epochs == 2.0
    assert cfg.evaluation.seed == 7 and cfg.evaluation.max_tokens == 128 and cfg.single.base_urls == ["http://h/v1"]
    assert cfg.single.max_rounds == builtin.single.max_rounds == 3
