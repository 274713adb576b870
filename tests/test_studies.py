"""Studies: the study file, the matched-volume choice, and a whole study on the tiny model with a scripted teacher,
rerun after an edit (only the edited arm reruns) and killed then resumed (every step keeps its one job)."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from agentark import jobs
from agentark.cli import main
from agentark.errors import ConfigError
from agentark.training_sets import list_exports
from agentark.jobs import find
from agentark.store import Store, model_tables
from agentark.studies.matched_volume import enough, match_volume, volume_matched
from agentark.studies.arms import arm_names
from agentark.studies.study_config import StudyConfig, builtin_study, load_study_file, parse_study
from agentark.studies.study_job import StudyFolder, steps_dir
from agentark.studies.study_report import html_report, study_result, table_rows
from tests.tinylm import tiny_llama  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


# -- the study file ---------------------------------------------------------------------------------------------
def test_study_files_read_their_tables_as_fields():
    builtin = builtin_study()
    assert builtin.arms == list(arm_names()) and builtin.teacher.agents == 3 and builtin.pad_on == "rsft"
    served = load_study_file(ROOT / "docs" / "studies" / "served-teacher-gpu.toml")
    assert served.teacher.engine == "openai"
    assert served.teacher.engine_options["base_urls"] == ["http://localhost:8000/v1"]
    assert served.sampler_engine == "openai" and served.student_engine == "vllm" and served.seeds == [0, 1, 2]
    assert parse_study('name = "x"\n[teacher]\nagents = 5\n').teacher.agents == 5


@pytest.mark.parametrize("text, words", [
    ('[teacher]\nagent = 3\n', "teacher_agent"),
    ('[trainer]\nepochs = 3\n', "unknown table .trainer."),
    ('test_split = "train"\n', "would not be held out"),
    ('arms = ["pad"]\n', "pad_on"),
    ('arms = ["rlhf"]\n', "Unknown arm"),
    ('name = \n', "not valid TOML"),
])
def test_a_bad_study_file_is_refused_with_the_fix(text, words):
    with pytest.raises(ConfigError, match=words):
        parse_study(text)


# -- matched volume ---------------------------------------------------------------------------------------------
def test_matched_volume_picks_the_target_rows_and_closes_the_token_gap():
    problems = [f"p{i % 10}" for i in range(40)]
    tokens = [20 + (7 * i) % 31 for i in range(40)]
    matched = match_volume(problems, tokens, target_rows=12, target_tokens=400)
    assert matched.rows == 12 and len(set(matched.picked)) == 12
    assert matched.tokens == sum(tokens[i] for i in matched.picked) and abs(matched.tokens - 400) <= 2
    # Every problem is covered once before any gets a second row.
    assert len({problems[i] for i in matched.picked}) == 10


def test_matched_volume_with_a_short_pool_takes_all_of_it():
    matched = match_volume(["a", "a", "b"], [10, 12, 9], target_rows=5, target_tokens=60)
    assert matched.picked == [0, 1, 2] and matched.rows == 3 and matched.row_ratio == pytest.approx(0.6)
    assert not enough(["a", "a", "b"], [10, 12, 9], 5, 60)
    assert enough(["a", "b"], [30, 29], 2, 60) and not enough(["a", "b"], [20, 20], 2, 60)
    # Rows enough but every one longer than the debate arm's: 4 rows can only make 377 tokens of a target of 204.
    assert not enough(list("abcd"), [90, 95, 92, 100], 4, 204)
    assert enough(list("abcdef"), [90, 95, 92, 100, 20, 10], 4, 204)
    assert not volume_matched(match_volume(list("abcd"), [90, 95, 92, 100], 4, 204).to_dict())
    assert volume_matched(match_volume(list("abcdef"), [90, 95, 92, 100, 20, 10], 4, 204).to_dict())


# -- a whole study on the tiny model ----------------------------------------------------------------------------
def tiny_study(tiny: Path, **changes) -> StudyConfig:
    values = dict(name="tiny", train_problems=6, test_problems=6, teacher_engine="scripted",
                  teacher_model="tests.study_script:teacher", teacher_agents=2, teacher_rounds=2,
                  teacher_max_tokens=64, student_model=str(tiny), single_engine="scripted",
                  single_model="tests.study_script:single", single_samples=2, single_max_rounds=4,
                  sft_max_steps=1, sft_batch_size=2, sft_max_length=128, prm_max_steps=1, prm_max_length=128,
                  pad_steps=1, pad_generations=2, pad_max_completion_length=8, eval_max_tokens=8, device="cpu")
    return StudyConfig.from_dict({**values, **changes})


def run_study(cfg: StudyConfig) -> str:
    started = jobs.start("study", cfg, background=False)
    assert started.progress["status"] == "done", started.progress
    return started.job_id


def steps_of(study_id: str) -> dict[str, dict]:
    return {s["label"]: s for s in StudyFolder(study_id).record()["steps"]}


@pytest.mark.slow
def test_a_study_runs_end_to_end_and_a_rerun_after_an_edit_reruns_only_that_arm(tiny_llama, capsys):
    first = run_study(tiny_study(tiny_llama))
    with Store() as store:
        result = study_result(store, first)
        exports = set(list_exports(store)["export_id"])
        models = model_tables.model_ids(store)
    arms = {a.arm: a for a in result.arms}
    assert list(arms) == ["base", *arm_names()] and not result.errors
    # The scripted teacher is always right by its last round; the random tiny students never are.
    assert result.teacher["accuracy"] == 1.0 and result.teacher["problems"] == 6
    for name, arm in arms.items():
        assert arm.problems == 6 and arm.accuracy == 0.0 and arm.teacher_ratio == 0.0
        assert arm.held_out == {"checked": True, "overlapping": 0, "same_question_in_train": 0}
        assert arm.links["runs"] and arm.links["jobs"]
        if name != "base":
            assert arm.lift.reference == "base" and arm.lift.problems == 6 and arm.lift.p_value == 1.0
            assert arm.train_rows > 0 and arm.train_tokens > 0 and arm.links["models"]
            assert set(arm.links["exports"]) <= exports and set(arm.links["models"]) <= models
            for job_id in arm.links["jobs"]:
                assert find(job_id)[1].status() == "done"
    assert arms["rsft"].vs_single.reference == "single" and arms["single"].vs_single is None
    # Corrections only: the problems whose first round was wrong (odd first number), fewer than R-SFT's.
    assert 0 < arms["corrections"].train_rows < arms["rsft"].train_rows
    # Matched volume: the single-agent arm has the R-SFT arm's rows (within 5%), from the base model's own samples.
    assert abs(arms["single"].train_rows - arms["rsft"].train_rows) <= 0.05 * arms["rsft"].train_rows
    assert any(r.startswith("self_consistency-") for r in arms["single"].links["runs"])
    assert arms["pad"].links["models"][-1].startswith("prm-")

    main(["study", "show", first, "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert [a["arm"] for a in shown["arms"]] == ["base", *arm_names()] and shown["teacher"]["accuracy"] == 1.0
    assert "<table>" in html_report(result) and len(table_rows(result)) == 6

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "10_studies.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["arm"]) == ["base", *arm_names()]

    # Edit one arm (DA keeps one trajectory per problem instead of four) and run the study again.
    before = {s["label"]: s["job_id"] for s in steps_of(first).values()}
    second = run_study(tiny_study(tiny_llama, da_max_per_problem=1))
    after = steps_of(second)
    rerun = sorted(label for label, s in after.items() if not s["reused"])
    assert rerun == ["evaluate da (seed 0)", "train da (seed 0)"]
    assert all(after[label]["job_id"] == before[label] for label in after if label not in rerun)
    with Store() as store:
        edited = {a.arm: a for a in study_result(store, second).arms}
    assert edited["da"].train_rows < arms["da"].train_rows
    assert edited["rsft"].links == arms["rsft"].links


@pytest.mark.slow
def test_a_killed_study_resumes_with_one_job_per_step(tiny_llama, monkeypatch):
    monkeypatch.setenv("STUDY_DELAY_S", "0.3")
    cfg = tiny_study(tiny_llama, arms=["rsft"], teacher_model="tests.study_script:slow_teacher")
    started = jobs.start("study", cfg)
    folder = StudyFolder(started.job_id)
    # Wait for the first finished step (the teacher's train debate): an event, not a deadline; a worker that
    # died reads as interrupted and ends the wait.
    while not folder.record().get("steps"):
        assert folder.status() in ("queued", "running"), folder.progress()
        time.sleep(0.05)
    first_steps = {s["label"]: s["job_id"] for s in folder.record()["steps"]}
    os.kill(started.pid, signal.SIGKILL)
    while folder.status() != "interrupted":
        time.sleep(0.05)
    made_before = {p.name: json.loads(p.read_text())["job_id"] for p in steps_dir().glob("*.json")}

    progress = jobs.run_job(started.job_id)
    assert progress["status"] == "done"
    final = steps_of(started.job_id)
    assert all(final[label]["job_id"] == job for label, job in first_steps.items())
    assert all(final[label]["reused"] for label in first_steps)
    # Every step has exactly one job: the one in flight when the study was killed was resumed, not made again.
    made_after = {p.name: json.loads(p.read_text())["job_id"] for p in steps_dir().glob("*.json")}
    assert {k: made_after[k] for k in made_before} == made_before
    assert sorted(made_after.values()) == sorted(s["job_id"] for s in final.values())
    teacher_runs = [r for r in jobs.list_jobs("debate") if r["job_id"].startswith("debate-")]
    assert len(teacher_runs) == 2  # the teacher on the train split and on the test problems, once each


def test_the_study_page_offers_the_generated_form_and_refuses_a_bad_study():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "10_studies.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    keys = {w.key for w in [*at.text_input, *at.number_input, *at.checkbox, *at.selectbox, *at.multiselect]}
    assert {"study_teacher_agents", "study_sft_epochs", "study_single_match", "study_arms"} <= keys
    assert any("No study yet" in i.value for i in at.info)
    at.text_input(key="study_test_split").set_value("train")
    at.button[0].click().run()
    assert at.error and "held out" in at.error[0].value
    assert jobs.list_jobs("study") == []
