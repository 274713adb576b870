"""Studies over debates that exist already: a Du et al. file as the teacher (nothing re-run), the teacher-alone arm
matched to the debate arm, the split by problem identity across two files, the teacher from its logs, verdicts,
the Du export of a studio debate, and the Studies page (an uploaded file fills the form; a running study's
progress is followed by a fragment)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agentark import jobs
from agentark.debate.prompts import DEBATE_PROMPT, solve_messages
from agentark.jobs import find
from agentark.runs.formats import import_file
from agentark.runs.formats.du2023 import export_du2023
from agentark.store import Store
from agentark.studies.arms import arm_names
from agentark.studies.matched_volume import VOLUME_TOLERANCE
from agentark.studies.study_config import StudyConfig
from agentark.studies.study_job import StudyFolder, StudyRunner
from agentark.studies.study_report import (
    Paired,
    decide,
    html_report,
    paired,
    study_result,
    table_rows,
    text_report,
)
from agentark.tasks import load_problems
from agentark.training_sets import list_exports
from tests.tinylm import tiny_llama  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def answer_text(a: int, b: int, answer: int, agent: int) -> str:
    return f"Agent {agent} adds, take {agent}.\n\n{a} + {b} = {answer}\n\nThe answer is {answer}."


def du_debates(questions: list[tuple[str, str]], agents: int = 3) -> dict:
    """Du et al.-format debates of one-step sums: round 1 is wrong where the first number is a multiple of 3, the
    second round is right everywhere (so those problems hold a correction)."""
    out = {}
    for question, reference in questions:
        a, b = [int(n) for n in question.split("?")[0].split() if n.isdigit()][:2]
        contexts = []
        for agent in range(1, agents + 1):
            first = a + b + (1 if a % 3 == 0 else 0)
            chat = solve_messages(question) + [{"role": "assistant", "content": answer_text(a, b, first, agent)}]
            chat += [{"role": "user", "content": DEBATE_PROMPT.format(others="(the others)", question=question)},
                     {"role": "assistant", "content": answer_text(a, b, a + b, agent)}]
            contexts.append(chat)
        out[question] = [contexts, reference]
    return out


def sums(limit: int, offset: int = 0) -> list[tuple[str, str]]:
    """One-step sums with two numbers, as the built-in generator words them."""
    problems = load_problems("builtin:arithmetic-onestep", limit=200, split="train").problems
    two = [p for p in problems if "+" in p.question or "plus" in p.question.lower() or "add" in p.question.lower()]
    two = [p for p in two if len([n for n in p.question.split("?")[0].split() if n.isdigit()]) >= 2] or problems
    return [(p.question, p.reference_answer) for p in two[offset:offset + limit]]


def write_du(path: Path, questions: list[tuple[str, str]]) -> Path:
    path.write_text(json.dumps(du_debates(questions)), encoding="utf-8")
    return path


def runs_study(tiny: Path, teacher_runs: list[str], **changes) -> StudyConfig:
    values = dict(name="from-logs", teacher_runs=teacher_runs, train_problems=8, test_problems=6,
                  student_model=str(tiny), single_engine="scripted", single_model="tests.study_script:single",
                  single_samples=2, single_max_rounds=4, single_max_tokens=64, sft_max_steps=1, sft_batch_size=2,
                  sft_max_length=128, prm_max_steps=1, prm_max_length=128, pad_steps=1, pad_generations=2,
                  pad_max_completion_length=8, eval_max_tokens=8, device="cpu", min_train_rows=5)
    return StudyConfig.from_dict({**values, **changes})


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_study_with_an_imported_du_file_as_teacher_runs_end_to_end(tiny_llama, tmp_path):
    du = write_du(tmp_path / "debate.json", sums(14))
    started = jobs.start("study", runs_study(tiny_llama, [f"du2023:{du}"]), background=False)
    assert started.progress["status"] == "done", started.progress
    folder = StudyFolder(started.job_id)
    record = folder.record()
    with Store() as store:
        result = study_result(store, started.job_id)
    arms = {a.arm: a for a in result.arms}
    assert list(arms) == ["base", *arm_names()] and not result.errors
    # Nothing re-run: the only debates are the single-agent samples; the teacher is the imported run.
    teacher_runs = record["teacher"]["runs"]
    assert len(teacher_runs) == 1 and not any(j["job_id"] == teacher_runs[0] for j in jobs.list_jobs("debate"))
    assert all(j["job_id"].startswith("self_consistency-") for j in jobs.list_jobs("debate"))
    # The teacher on exactly the evaluation's problems, from its logs: alone (round 1) and in debate.
    assert result.teacher["problems"] == 6 and result.teacher["accuracy"] == 1.0
    test = load_problems(record["teacher"]["problem_files"]["test"], split="test").problems
    first_numbers = [int([n for n in p.question.split() if n.isdigit()][0]) for p in test]
    assert result.teacher["alone_accuracy"] == pytest.approx(sum(a % 3 != 0 for a in first_numbers) / len(test))
    assert "alone (round 1)" in text_report(result)[1] and "final-round vote" in text_report(result)[1]
    for name, arm in arms.items():
        assert arm.problems == 6 and arm.held_out["checked"] and arm.held_out["overlapping"] == 0
        assert 0.0 <= arm.cut_off <= 1.0
    # Teacher alone: matched to the R-SFT arm in rows and tokens, from one speaker it names.
    alone, rsft = arms["teacher_alone"], arms["rsft"]
    assert abs(alone.train_rows - rsft.train_rows) <= VOLUME_TOLERANCE * rsft.train_rows
    assert abs(alone.train_tokens - rsft.train_tokens) <= VOLUME_TOLERANCE * rsft.train_tokens
    assert record["alone_pool"]["speaker"] in alone.note
    # The teacher's exports hold only train problems; the single-agent export is its own kind.
    with Store() as store:
        exports = list_exports(store)
    kinds = dict(zip(exports["export_id"], exports["kind"]))
    assert kinds[arms["single"].links["exports"][0]] == "single"
    assert kinds[alone.links["exports"][0]] == "alone"
    # Verdicts, one per comparison, by the table's own rule; the report stands alone.
    assert len(result.verdicts) == sum((a.lift is not None) + (a.vs_single is not None) for a in result.arms)
    assert all("cannot tell at this size" in v for v in result.verdicts)
    page = html_report(result)
    for words in ("Setup", "problem seed", "Token limits", "Held out", "What this does not show", "Verdicts",
                  "sign test"):
        assert words in page, words
    assert "student/teacher (alone)" in table_rows(result)[0]


def test_teacher_runs_are_split_by_problem_identity_across_two_files(tmp_path):
    first = write_du(tmp_path / "a.json", sums(10))
    second = write_du(tmp_path / "b.json", sums(10, offset=7))  # three questions are in both files
    cfg = StudyConfig.from_dict(dict(name="two-files", teacher_runs=[str(first), str(second)], train_problems=10,
                                     test_problems=7, arms=["rsft"]))
    created = jobs.create("study", cfg)
    runner = StudyRunner(StudyFolder(created.job_id))
    runs = runner.teacher_from_runs()
    assert len(runs) == 2
    train = load_problems(runner.dataset(cfg.train_split), split=cfg.train_split).problems
    test = load_problems(runner.dataset(cfg.test_split), split=cfg.test_split).problems
    # 17 distinct questions: the shared three are one problem each, in one split only.
    assert runner.record["teacher"]["problems"] == 17
    assert len(train) == 10 and len(test) == 7
    assert not {p.problem_id for p in train} & {p.problem_id for p in test}
    assert runner.record["held_out"] == {"train_problems": 10, "test_problems": 7, "same_question": []}
    # A study asking for more problems than the runs hold is refused, naming the fields.
    again = StudyRunner(StudyFolder(jobs.create("study", StudyConfig.from_dict(
        dict(name="too-many", teacher_runs=runs, train_problems=12, test_problems=7, arms=["rsft"]))).job_id))
    with pytest.raises(Exception, match="train_problems"):
        again.teacher_from_runs()


def test_a_studio_debate_exports_as_du_json_that_imports_back(tmp_path):
    du = write_du(tmp_path / "a.json", sums(4))
    with Store() as store:
        run = import_file(store, "du2023", du).run_id
        assert export_du2023(store, run, tmp_path / "out.json") == 4
        back = json.loads((tmp_path / "out.json").read_text())
        assert set(back) == set(json.loads(du.read_text()))
        contexts, _ = next(iter(back.values()))
        assert len(contexts) == 3 and [m["role"] for m in contexts[0]] == ["user", "assistant", "user", "assistant"]
        again = import_file(store, "du2023", tmp_path / "out.json", run_id="roundtrip")
        assert again.imported == 4


def test_a_verdict_says_cannot_tell_unless_the_test_decides():
    import pandas as pd

    ids = [f"p{i}" for i in range(12)]
    base, better = pd.Series(0.0, index=ids), pd.Series(1.0, index=ids)
    assert decide(paired(better, base, "base")) == "better" and decide(paired(base, better, "x")) == "worse"
    two = pd.Series([1.0, 1.0] + [0.0] * 10, index=ids)
    assert decide(paired(two, base, "base")).startswith("cannot tell at this size")
    assert decide(Paired("base", 6, 0.0, None, None, 1.0, "cannot tell")) == "cannot tell at this size"


def test_an_uploaded_study_file_fills_the_form():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "10_studies.py"), default_timeout=60)
    at.run()
    assert at.number_input(key="study_train_problems").value == 24
    text = 'name = "mine"\ntrain_problems = 7\ntest_problems = 5\n[teacher]\nagents = 4\n'
    at.file_uploader(key="study_file").set_value(("mine.toml", text.encode(), "application/toml"))
    at.run()
    assert not at.exception, at.exception
    assert at.text_input(key="study_name").value == "mine"
    assert at.number_input(key="study_train_problems").value == 7
    assert at.number_input(key="study_teacher_agents").value == 4


def test_the_studies_page_follows_a_running_study(monkeypatch):
    import streamlit

    from agentark.debate import DebateConfig

    runs_every = []
    real = streamlit.fragment

    def fragment(*args, **kwargs):
        runs_every.append(kwargs.get("run_every"))
        return real(*args, **kwargs)

    monkeypatch.setattr(streamlit, "fragment", fragment)
    study = jobs.create("study", StudyConfig(name="running", arms=["rsft"]))
    step = jobs.create("debate", DebateConfig(method="cot", engine="scripted", model="tests.study_script:teacher",
                                              dataset="builtin:arithmetic-onestep", limit=12))
    _, step_job = find(step.job_id)
    step_job.write_progress(done=5, total=12, stage="chunk 1/1")
    folder = StudyFolder(study.job_id)
    folder.write_progress(status="running", pid=os.getpid(), stage="train rsft (seed 0)", done=3, total=9,
                          step_job=step.job_id)

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "10_studies.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(c.value for c in at.caption)
    assert "steps done: 3 / 9" in shown and f"current step {step.job_id}: 5 / 12" in shown
    assert runs_every and runs_every[-1] and runs_every[-1] > 0
    # The next rerun of the fragment shows the study further on; a finished study stops following.
    folder.write_progress(done=4, step_job=None)
    at.run()
    assert "steps done: 4 / 9" in " ".join(c.value for c in at.caption)
    folder.write_progress(status="done", done=9)
    at.run()
    assert runs_every[-1] is None
    rows = jobs.list_jobs("study")
    assert rows[0]["total"] == 9
