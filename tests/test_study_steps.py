"""A study is made of the configs it runs: every study file that loaded before the study's parts became whole
configs (the built-in study, every file in docs/studies/, an old file with flat prefixed keys) builds the same
steps as it did, and every step records the problem seed and the sampling seed it used.

``tests/study_steps_before.json`` holds every step config those files built with the code before this change
(commit cf83769, captured by ``tests.study_steps.capture_steps``); the evaluations then recorded the problem seed
as their sampling seed (``"seed": 3`` and no problem seed for a study with problem seed 3), the one difference
expected.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentark.labels.labelers import default_precedence
from agentark.studies.study_config import StudyConfig, builtin_study, load_study_file, parse_study
from agentark.studies.study_job import StudyRunner
from tests.study_steps import OLD_STYLE_STUDY, capture_steps

ROOT = Path(__file__).resolve().parent.parent
BEFORE = json.loads((ROOT / "tests" / "study_steps_before.json").read_text())


def studies() -> dict[str, StudyConfig]:
    found = {"builtin": builtin_study(), "old-style": parse_study(OLD_STYLE_STUDY)}
    for path in sorted((ROOT / "docs" / "studies").glob("*.toml")):
        found[str(path.relative_to(ROOT))] = load_study_file(path)
    return found


def test_every_study_file_is_in_the_fixture():
    assert set(studies()) == set(BEFORE)


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_a_study_file_builds_the_steps_it_built_before(name, monkeypatch):
    cfg = studies()[name]
    now = json.loads(json.dumps(capture_steps(StudyRunner, cfg, monkeypatch), default=str))
    before = BEFORE[name]
    assert sorted(now) == sorted(before)
    for label, step in before.items():
        if label.startswith("evaluate"):
            # The seed bug: the problem seed went into the sampling seed. Now each is in its own field.
            step = {**step, "seed": cfg.evaluation.seed, "problem_seed": cfg.problem_seed}
        assert now[label] == changed_on_purpose(step), label


OLD_PRECEDENCE = ["human", "import:prm800k", "import:math-shepherd", "auto:judge", "auto:mc", "auto:outcome",
                  "auto:debate"]


def changed_on_purpose(step: dict) -> dict:
    """A captured step as later issues changed it on purpose, and nothing else: the arithmetic labeler joined the
    default PRM precedence (issue 31), and a debate names its tie rule (issue 30: no first-agent tie-break unless
    asked)."""
    def fixed(config: dict) -> dict:
        config = dict(config)
        if config.get("precedence") == OLD_PRECEDENCE:
            config["precedence"] = default_precedence()
        if "agents" in config and "rounds" in config and "first_agent_tie_break" not in config:
            config["first_agent_tie_break"] = False
        return config

    return {**step, "config": fixed(step["config"])} if isinstance(step.get("config"), dict) else fixed(step)


def test_every_step_records_the_problem_seed_and_the_sampling_seed(monkeypatch):
    cfg = parse_study(OLD_STYLE_STUDY)
    assert cfg.problem_seed == 3 and cfg.evaluation.seed == 0 and cfg.teacher.seed == 4
    steps = capture_steps(StudyRunner, cfg, monkeypatch)
    runner = object.__new__(StudyRunner)
    runner.cfg = cfg
    evaluation = runner.eval_config("a-student")
    # What the evaluation run stores is its debate config: the problems it was given and how it sampled.
    assert evaluation.debate_config().problem_seed == 3 and evaluation.debate_config().seed == 0
    for label, step in steps.items():
        config = step.get("config", step)
        if "problem_seed" in config:  # every step that picks problems
            assert config["problem_seed"] == 3, label
    assert steps["evaluate a student"]["problem_seed"] == 3 and steps["evaluate a student"]["seed"] == 0
    assert steps["teacher debate on the train split"]["seed"] == 4
    assert steps["single-agent samples, round 2"]["seed"] == 4001


def test_the_evaluation_picks_its_problems_by_its_problem_seed():
    from agentark.evaluate.eval_config import EvalConfig
    from agentark.evaluate.run import load_eval_problems
    from agentark.tasks import load_problems

    cfg = EvalConfig(dataset="builtin:arithmetic", limit=5, problem_seed=3, seed=0)
    picked = [p.problem_id for p in load_eval_problems(cfg).problems]
    assert picked == [p.problem_id for p in load_problems("builtin:arithmetic", limit=5, split="test",
                                                          seed=3).problems]
    assert picked != [p.problem_id for p in load_problems("builtin:arithmetic", limit=5, split="test",
                                                          seed=0).problems]


# -- stored study configs ----------------------------------------------------------------------------------------
# ``study_configs_stored_before.json``: what a study job stored as its config before (flat prefixed keys), for the
# built-in study and the old-style file, from the same commit.
STORED = json.loads((ROOT / "tests" / "study_configs_stored_before.json").read_text())


@pytest.mark.parametrize("name", sorted(STORED))
def test_a_study_config_stored_by_an_older_version_reads_back_as_the_same_study(name):
    cfg = {"builtin": builtin_study, "old-style": lambda: parse_study(OLD_STYLE_STUDY)}[name]()
    assert StudyConfig.from_dict(STORED[name]).to_dict() == cfg.to_dict()
    # And what this version stores (each part a dict) reads back as itself.
    assert StudyConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_the_study_report_words_the_teacher_of_an_old_and_a_new_stored_study():
    from agentark.studies.study_report import StudyResult, teacher_line

    teacher = {"accuracy": 0.5, "ci_low": 0.25, "ci_high": 0.75, "problems": 4, "tokens_per_problem": 10.0,
               "test_run": "debate-x"}
    for stored in (STORED["old-style"], parse_study(OLD_STYLE_STUDY).to_dict()):
        result = StudyResult("s", "old-style", "done", "", stored, teacher, [], {}, {}, {}, [])
        assert teacher_line(result).startswith("teacher (debate, 4 agents x 3 rounds)")


def test_a_study_file_that_sets_what_the_study_decides_is_refused_with_the_fix():
    from agentark.errors import ConfigError

    with pytest.raises(ConfigError, match="study sets teacher_dataset itself.*top level"):
        parse_study('[teacher]\ndataset = "gsm8k"\n')
    with pytest.raises(ConfigError, match=r"teacher_agent \(did you mean teacher_agents\?\)"):
        parse_study('[teacher]\nagent = 3\n')
