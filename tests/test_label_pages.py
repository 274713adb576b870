"""The labeling and export pages with AppTest: label with the controls, history after a relabel, two sessions."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from agentark.debate import debate_job
from agentark.debate import DebateConfig
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import Store
from agentark.store import label_tables as q
from tests.conftest import ROOT


def _run_with_steps() -> str:
    run_id, _ = debate_job.create_debate_run(DebateConfig(limit=2, engine="scripted", model="tests.scripted_steps:wrong_then_right"))
    debate_job.run_debate_job(run_id)
    with Store() as store:
        store.refresh()
        segment_runs(store, [run_id], SegmentConfig())
    return run_id


def labeling_page(name: str | None = "ana") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/5_label_steps.py")
    if name:
        at.session_state["annotator"] = name
    at.run()
    assert not at.exception, at.exception
    return at


def open_tab(at: AppTest, name: str) -> None:
    """Switch the labeling page's tabs the way a click does: only the open tab's content runs."""
    at.session_state["lab_tab"] = name
    at.run()
    assert not at.exception, at.exception


def _shown_step(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def _store_of(at: AppTest) -> Store:
    from agentark.ui import _open_store
    from agentark import config

    return _open_store(str(config.store_path()))


def test_label_with_controls_moves_on_and_history_shows_relabel():
    _run_with_steps()
    at = labeling_page()
    assert _shown_step(at).startswith("**Step 1 of")
    first = at.session_state["lab_queue"].step_ids[0]
    at.button(key="lab_good").click().run()
    assert not at.exception, at.exception
    assert _shown_step(at).startswith("**Step 2 of")
    store = _store_of(at)
    labels = q.label_history(store, first)
    assert labels[["source", "annotator", "value"]].values.tolist() == [["human", "ana", 1.0]]
    at.button(key="lab_prev").click().run()
    assert _shown_step(at).startswith("**Step 1 of")
    at.text_input(key=f"lab_note_{first}").input("second look: wrong")
    at.button(key="lab_wrong").click().run()
    at.button(key="lab_prev").click().run()
    # The Label tab's only table is the step's history (AppTest does not expose dataframe keys).
    history = next(d.value for d in at.dataframe if "annotator" in d.value.columns and "label_id" in d.value.columns)
    assert history["value"].tolist() == [1.0, -1.0] and history["note"].tolist()[-1] == "second look: wrong"
    assert history["annotator"].tolist() == ["ana", "ana"]


def test_without_annotator_nothing_is_stored_and_the_page_says_why():
    _run_with_steps()
    at = labeling_page(name=None)
    at.button(key="lab_good").click().run()
    assert any("sidebar" in e.value for e in at.error)
    assert _shown_step(at).startswith("**Step 1 of")
    assert _store_of(at).scalar("SELECT count(*) FROM step_labels") == 0


def test_two_sessions_labeling_at_the_same_time_lose_no_label():
    _run_with_steps()
    ana, ben = labeling_page("ana"), labeling_page("ben")
    for _ in range(3):
        ana.button(key="lab_good").click()
        ben.button(key="lab_wrong").click()
        ana.run()
        ben.run()
    counts = q.label_counts(_store_of(ana)).set_index("annotator")["labels"]
    assert counts["ana"] == 3 and counts["ben"] == 3


def test_prepare_tab_segments_and_bulk_relabel_and_summary():
    run_id, _ = debate_job.create_debate_run(DebateConfig(limit=1, engine="scripted", model="tests.scripted_steps:wrong_then_right"))
    debate_job.run_debate_job(run_id)
    at = labeling_page()
    assert any("No steps to label" in i.value for i in at.info)
    open_tab(at, "Prepare")
    at.selectbox(key="lab_segment_method").set_value("lines")
    at.button(key="FormSubmitter:lab_segment-Segment").click().run()
    assert any("steps stored" in s.value for s in at.success)
    at.button(key="lab_auto").click().run()
    assert any("auto:outcome" in s.value for s in at.success)
    open_tab(at, "Table")
    at.checkbox(key="lab_f_unlabeled").check().run()
    at.selectbox(key="lab_bulk_value").set_value(-1)
    at.button(key="lab_bulk_apply").click().run()
    assert not at.exception, at.exception
    steps = q.steps_in_context(_store_of(at))
    human = q.labels_in_force(_store_of(at), sources=["human"])
    assert len(human) == len(steps) and set(human["value"]) == {-1.0}
    open_tab(at, "Summary")
    assert any("auto:outcome vs human" in m.value for m in at.markdown)


def test_export_page_writes_a_file():
    _run_with_steps()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/6_export.py")
    at.run()
    at.selectbox(key="exp_kind").set_value("rsft")
    at.button(key="FormSubmitter:exp_form-Export").click().run()
    assert not at.exception, at.exception
    assert any("Wrote 2 rows" in s.value for s in at.success)
    assert len(at.dataframe[-1].value) == 1


def test_monte_carlo_form_takes_a_server_and_a_bad_one_leaves_no_job(agentark_home):
    _run_with_steps()
    at = labeling_page()
    open_tab(at, "Prepare")
    at.selectbox(key="lab_mc_engine").set_value("openai")
    at.text_input(key="lab_mc_model").set_value("served")
    at.button(key="FormSubmitter:lab_mc-Start Monte-Carlo job").click().run()
    assert at.error and "--base-url" in at.error[0].value
    at.text_input(key="lab_mc_base_urls").set_value("ftp://host/v1")
    at.button(key="FormSubmitter:lab_mc-Start Monte-Carlo job").click().run()
    assert at.error and "http://" in at.error[0].value
    labeling = agentark_home / "labeling"
    assert not labeling.exists() or not any(labeling.iterdir())
