"""Dashboard, problem list and debate viewer on a store with known contents (tests/tracedata.py)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from agentark.store import Store, curation_tables
from tests.app_pages import app_page
from tests.tracedata import build_known_store


@pytest.fixture(autouse=True)
def known_store():
    with Store() as store:
        build_known_store(store)


def table_with(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_dashboard_shows_rounds_and_changes():
    at = app_page("pages/3_dashboard.py", runs="run-a,run-b")
    assert at.title[0].value == "Runs dashboard"
    rounds = table_with(at, "agreement").set_index(["run", "round"])
    assert rounds.loc[("run-a", 1), "agent_accuracy"] == pytest.approx(5 / 12)
    assert rounds.loc[("run-a", 2), "vote_accuracy"] == pytest.approx(0.5)
    assert rounds.loc[("run-a", 2), "agreement"] == pytest.approx(10 / 12)
    assert tuple(rounds.loc[("run-a", 2), ["corrections", "regressions", "wrong_to_wrong"]]) == (3, 2, 1)
    assert rounds.loc[("run-b", 1), "agent_accuracy"] == pytest.approx(0.5)
    summary = table_with(at, "problems_with_correction").set_index("run_id")
    assert summary.loc["run-a", "problems_with_correction"] == 2 and summary.loc["run-b", "accuracy"] == 0.5


def list_rows(at: AppTest) -> list[tuple[str, int]]:
    table = next(d for d in at.dataframe if "question" in d.value.columns)
    return list(zip(table.value["run"], table.value["number"]))


def test_problem_list_filters():
    at = app_page("pages/4_problems.py", runs="run-a")
    assert list_rows(at) == [("run-a", 1), ("run-a", 2), ("run-a", 3), ("run-a", 4)]
    at.checkbox(key="pl_corrected").check().run()
    assert list_rows(at) == [("run-a", 1), ("run-a", 4)]
    assert at.query_params["corrected"] == "True"
    at.checkbox(key="pl_corrected").uncheck()
    at.checkbox(key="pl_regressed").check().run()
    assert list_rows(at) == [("run-a", 2)]
    at.checkbox(key="pl_regressed").uncheck()
    at.text_input(key="pl_text").set_value("carrying step").run()
    assert list_rows(at) == [("run-a", 1)]
    at.text_input(key="pl_text").set_value("")
    at.multiselect(key="pl_runs").set_value(["run-a", "run-b"])
    at.selectbox(key="pl_correct").set_value("wrong").run()
    assert list_rows(at) == [("run-a", 2), ("run-a", 3), ("run-b", 2)]


def test_dashboard_click_filter_reaches_the_list():
    # What a click on the "regressions 1→2" bar hands over: the list shows exactly those problems.
    at = app_page("pages/4_problems.py", runs="run-a", regressed="True", transition_round="2")
    assert list_rows(at) == [("run-a", 2)]
    assert any("transition round 2" in i.value for i in at.info)


def test_bulk_marks_from_the_list_survive_a_restart():
    at = app_page("pages/4_problems.py", runs="run-a", corrected="True")
    at.text_input(key="annotator").set_value("ana")
    at.radio(key="pl_bulk_mark").set_value("keep")
    at.radio(key="pl_bulk_scope").set_value(at.radio(key="pl_bulk_scope").options[1])
    at.text_input(key="pl_bulk_note").set_value("self-correction")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception and "Marked 2 problems" in at.success[0].value
    fresh = app_page("pages/4_problems.py", runs="run-a", mark="keep")
    assert list_rows(fresh) == [("run-a", 1), ("run-a", 4)]
    with Store() as store:
        marks = curation_tables.latest_marks(store, "run-a")
        assert set(marks.annotator) == {"ana"} and set(marks.note) == {"self-correction"}


def test_viewer_shows_changes_and_moves_within_the_filter():
    at = app_page("pages/2_transcripts.py", run="run-a", problem="P2", runs="run-a")
    assert at.title[0].value == "Debate viewer"
    assert at.metric[0].value == "5" and at.metric[1].value == "3"
    assert at.metric[3].value == "0 / 2"
    assert [m.value for m in at.markdown if m.value.startswith("#### ")] == ["#### Round 1", "#### Round 2"]
    changes = [m.value for m in at.markdown if "regression]" in m.value]
    assert len(changes) == 2 and "`5` → `3`" in changes[0]
    at.button(key="tr_next").click().run()
    assert at.query_params["problem"] == "P3" and at.metric[0].value == "8"
    assert any("wrong]" in m.value for m in at.markdown)
    at.button(key="tr_prev").click().run()
    at.button(key="tr_prev").click().run()
    assert at.query_params["problem"] == "P1" and at.button(key="tr_prev").disabled


def test_viewer_marks_persist_after_restart():
    at = app_page("pages/2_transcripts.py", run="run-a", problem="P3")
    at.text_input(key="tr_note_run-a_P3").set_value("never agreed")
    at.button(key="tr_exclude").click().run()
    at.button(key="tr_exclude_run-a:P3:0001").click().run()
    assert not at.exception
    fresh = app_page("pages/2_transcripts.py", run="run-a", problem="P3")
    assert any("Marked **exclude**" in m.value and "never agreed" in m.value for m in fresh.markdown)
    assert fresh.button(key="tr_exclude_run-a:P3:0001").label == "exclude ✓"


def test_viewer_shows_a_correction_under_its_message():
    from agentark.labels.corrections import Correction
    from agentark.labels.human_labels import store_batch
    from agentark.labels.segment import SegmentConfig, segment_runs

    with Store() as store:
        segment_runs(store, ["run-a"], SegmentConfig())
        step = store.df("""SELECT s.step_id, s.text FROM steps s JOIN messages m USING (message_id)
                           WHERE m.message_id = 'run-a:P3:0001' ORDER BY s.idx LIMIT 1""").iloc[0]
        store_batch(store, [], [Correction(step["step_id"], "the step done right", "ana", rest="The answer is 8.")])
    at = app_page("pages/2_transcripts.py", run="run-a", problem="P3")
    assert any("corrected] step 1 by ana" in m.value for m in at.markdown)
    assert any("the step done right" in h.proto.body for h in at.get("html"))
    assert any(t.value == "The answer is 8." for t in at.text)
