"""The Compare page shows the library's numbers on a store with known contents (tests/evalstore.py)."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from agentark.evaluate.compare import compare
from agentark.evaluate.render import gate_html
from agentark.evaluate.report import metric_rows
from agentark.store import Store
from agentark.tasks import load_problems
from tests.conftest import ROOT
from tests.evalstore import build_eval_store, export_file, studio_model
from tests.tinylm import tiny_llama  # noqa: F401


@pytest.fixture(autouse=True)
def known_store():
    with Store() as store:
        build_eval_store(store)
        yield compare(store, ["teacher", "student"], roles={"student": "student"})


def open_compare(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/8_compare_runs.py")
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def values(data) -> list[float]:
    """A plotly array from the chart's JSON: a list, or typed binary ({"dtype", "bdata"})."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_page_numbers_equal_the_library(known_store):
    at = open_compare(runs="teacher,student", roles="student:student")
    table = next(d.value for d in at.dataframe if "accuracy" in d.value.columns)
    assert [list(map(str, r)) for r in table.itertuples(index=False)] == metric_rows(known_store)
    teacher = known_store.metric("teacher")
    assert table.loc[0, "95% interval"] == f"[{teacher.ci_low:.1%}, {teacher.ci_high:.1%}]"
    text = markdown(at)
    pair = known_store.pair("student")
    assert (f"fixed **4**, broken **6**, both right 10, both wrong 0 · "
            f"McNemar exact p = **{pair.test.p_value:.4g}**") in text
    assert [g.passed for g in pair.gates] == [False, True, True]
    for gate in pair.gates:
        assert gate_html(gate.passed, gate.text) in text
    assert 'class="prm-legend"' in text


def test_differences_filter_and_keyboard_walk():
    at = open_compare(runs="teacher,student", roles="student:student")
    diffs = next(d.value for d in at.dataframe if "status" in d.value.columns)
    assert list(diffs["problem_id"]) == [f"P{i}" for i in range(10, 20)]
    assert at.query_params["problem"] == "P10"
    assert 'class="selfcorr"' in markdown(at)
    word_diff = next(h.proto.body for h in at.get("html") if "word-diff" in h.proto.body)
    assert "Wait, let me re-check" in word_diff and "\n" not in word_diff
    at.button(key="cmp_next").click().run()
    assert at.query_params["problem"] == "P11"
    at.button(key="cmp_prev").click().run()
    at.button(key="cmp_prev").click().run()
    assert at.query_params["problem"] == "P10"
    at.multiselect(key="cmp_statuses").set_value(["fixed"]).run()
    diffs = next(d.value for d in at.dataframe if "status" in d.value.columns)
    assert list(diffs["problem_id"]) == ["P16", "P17", "P18", "P19"] and at.query_params["problem"] == "P16"
    assert "/transcript?run=teacher&problem=P16" in "\n".join(c.value for c in at.caption)


def test_picking_other_runs_updates_the_address():
    at = open_compare(runs="teacher,student")
    at.multiselect(key="cmp_runs").set_value(["teacher", "sc"]).run()
    assert at.query_params["runs"] == "teacher,sc" and at.multiselect(key="cmp_runs").value == ["teacher", "sc"]
    assert "fixed **0**, broken **2**" in markdown(at)


def test_runs_sharing_no_problems_show_the_fix():
    at = open_compare(runs="teacher,elsewhere")
    assert any("share no finished problems" in e.value for e in at.error)


def test_evaluate_panel_refuses_training_problems(tiny_llama):
    seen = [p.problem_id for p in load_problems("builtin:arithmetic", limit=2, split="test").problems]
    with Store() as store:
        studio_model(tiny_llama, "sft-page", export_file(store, seen))
    at = open_compare(runs="teacher,student")
    at.text_input(key="cmp_eval_model").set_value("sft-page")
    at.number_input(key="cmp_eval_limit").set_value(4)
    at.button[[b.label for b in at.button].index("Start evaluation")].click().run()
    assert any("2 of the problems evaluated were among the 2 training problems of model sft-page" in e.value
               for e in at.error)


def test_best_of_n_and_step_tints_with_a_picked_prm(monkeypatch):
    from agentark import config
    from agentark.checkpoints import write_card
    from agentark.train import prm_scoring
    from tests.evalstore import FakePRM

    folder = config.checkpoints_dir() / "prm-fake"
    folder.mkdir()
    write_card(folder, {"model_id": "prm-fake", "kind": "prm", "base_model": "x", "job_id": "j", "config": {},
                        "metrics": {}})
    monkeypatch.setattr(prm_scoring, "load_prm", lambda name: FakePRM())
    at = open_compare(runs="teacher,sc")
    at.selectbox(key="cmp_prm").set_value("prm-fake").run()
    assert not at.exception, at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    bon = next(c for c in charts if "Best-of-N" in c["layout"]["title"]["text"])
    lines = {t["name"]: values(t["y"]) for t in bon["data"]}
    assert lines["majority vote"] == [0.5, 0.5, 0.5] and lines["one sample"] == [0.5, 0.5, 0.5]
    assert lines["best PRM (min)"] == [0.5, 0.75, 0.75] and lines["best PRM (softmin)"] == [0.5, 0.75, 0.75]
    # sc's representative sample on the first differing problem is tinted by its fake scores.
    assert 'data-score="0.' in markdown(at)


def test_roles_pick_the_gates_and_follow_the_address():
    # student-model is no studio model, so by default "student" is a base: the teacher is held to its lift.
    at = open_compare(runs="teacher,student")
    assert at.selectbox(key="cmp_role_student_base").value == "base"
    gates = [m.value for m in at.markdown if "class='gates'" in m.value]
    assert len(gates) == 1 and "lift" in gates[0] and "tokens/problem" not in gates[0]
    at.selectbox(key="cmp_role_student_base").set_value("student").run()
    assert at.query_params["roles"] == "student:student"
    gates = [m.value for m in at.markdown if "class='gates'" in m.value]
    assert len(gates) == 1 and "tokens/problem" in gates[0] and "p95 latency" in gates[0]
    assert "Systems on the 20 problems all of them finished" in [h.value for h in at.subheader]


def test_the_figures_are_on_the_shared_problems_and_full_runs_are_labelled():
    at = open_compare(runs="teacher,sc")
    table = next(d.value for d in at.dataframe if "answers stated" in d.value.columns)
    assert list(table["problems"]) == ["4", "4"] and list(table["accuracy"]) == ["100.0%", "50.0%"]
    full = next(d.value for d in at.dataframe if "price" in d.value.columns)
    assert list(full["problems"]) == ["20", "4"] and list(full["accuracy"]) == ["80.0%", "50.0%"]
    assert "Systems on the 4 problems all of them finished" in [h.value for h in at.subheader]


def _scripted_teacher(store) -> None:
    from tests.evalstore import add_run, message, outcome

    pids = ["P00", "P01"]
    add_run(store, "teacher-train", "debate", "tests.scripted:first_number",
            [message("teacher-train", p, 0, "The answer is 1.") for p in pids],
            [outcome("teacher-train", p, "1", 10, 10, 2, 100.0) for p in pids], pids, "2026-03-01T00:00:00",
            config={"engine": "scripted", "dataset": "builtin:arithmetic", "split": "train", "limit": 2,
                    "agents": 2, "rounds": 1, "max_tokens": 32})


@pytest.mark.parametrize("page, key", [("pages/8_compare_runs.py", "cmp_like"), ("pages/3_dashboard.py", "db_like")])
def test_a_button_evaluates_a_runs_method_on_the_test_split(page, key):
    from agentark import config
    from agentark.debate.debate_job import RunFolder

    with Store() as store:
        _scripted_teacher(store)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(page)
    at.query_params["runs"] = "teacher-train,teacher"
    at.run()
    at.selectbox(key=f"{key}_run").set_value("teacher-train").run()
    at.button(key=f"{key}_go").click().run()
    assert not at.exception, at.exception
    assert any("teacher-train's method on 2 test problems" in m.value for m in at.success), [e.value for e in at.error]
    (folder,) = [p for p in config.runs_dir().iterdir() if p.name.startswith("eval-debate-")]
    cfg = RunFolder(folder.name).meta()["config"]
    assert (cfg["split"], cfg["agents"], cfg["engine"], cfg["dataset"]) == ("test", 2, "scripted",
                                                                            "builtin:arithmetic")
    # A run the studio did not make (no engine recorded) is refused with the fix.
    at.selectbox(key=f"{key}_run").set_value("teacher").run()
    at.button(key=f"{key}_go").click().run()
    assert any("was not run by the studio" in e.value for e in at.error)
