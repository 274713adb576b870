"""The labeling and export pages with AppTest: what the labeling card is sent, the tabs, the export page."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from agentark.debate import debate_job
from agentark.debate import DebateConfig
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.safe_text import md_text
from tests.app_pages import segmented_run
from tests.conftest import ROOT


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


def _card(at: AppTest) -> dict:
    """What the page sent the labeling card (the component's data)."""
    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == "agentark.label_card"]
    return json.loads(element.proto.json or element.proto.mixed.json)


def send_batch(at: AppTest, items: list[dict], pos: int, batch_id: str = "b1", full: bool = False) -> dict:
    """What the card's JavaScript does with ``setTriggerValue("sync", ...)``: one batch of labels and the position,
    sent as the browser sends a trigger (a JSON list of events on the component's trigger widget); the page reruns
    and the card's new data (acknowledgements, window) is returned."""
    from streamlit.proto.WidgetStates_pb2 import WidgetStates

    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == "agentark.label_card"]
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    trigger = states.widgets.add()
    trigger.id = f"$$STREAMLIT_INTERNAL_KEY_{element.proto.id}__events"
    payload = {"id": batch_id, "queue": _card(at)["queue"], "pos": pos, "items": items, "full": full}
    trigger.json_trigger_value = json.dumps([{"event": "sync", "value": payload}])
    at._run(states)
    assert not at.exception, at.exception
    return _card(at)


def labels(step_ids: list[str], value: int = 1, name: str = "ana", prefix: str = "h:t") -> list[dict]:
    return [{"id": f"{prefix}{i}", "kind": "label", "step_id": s, "value": value, "flag": False, "annotator": name}
            for i, s in enumerate(step_ids)]


def _store_of(at: AppTest) -> Store:
    from agentark.ui import _open_store
    from agentark import config

    return _open_store(str(config.store_path()))


def test_the_card_gets_a_window_of_the_queue_around_the_position_the_browser_reported():
    segmented_run(2)
    at = labeling_page()
    data, queue = _card(at), at.session_state["lab_queue"]
    assert (data["queue"], data["total"], data["pos"], data["annotator"]) == (queue.token, len(queue), 0, "ana")
    assert [c["step_id"] for c in data["cards"]] == queue.step_ids[:len(data["cards"])]
    first = data["cards"][0]
    message = data["messages"][first["message_id"]]
    assert message["content"][first["char_start"]:first["char_end"]] == first["text"]
    assert message["question"] and first["history"] == []
    assert {c["pos"] for c in data["cards"]} == set(range(0, min(len(queue), 80)))
    # The browser reported position 12 with its last batch: a rerun starts there and sends only the new cards.
    at.session_state["lab_pos"] = 12
    at.run()
    data = _card(at)
    assert data["pos"] == 12 and {c["pos"] for c in data["cards"]} == set(range(min(len(queue), 80), min(len(queue), 92)))


def test_a_batch_from_the_card_is_stored_once_acknowledged_and_moves_the_position():
    segmented_run(2)
    at = labeling_page()
    queue = at.session_state["lab_queue"]
    data = send_batch(at, labels(queue.step_ids[:3]), pos=3)
    assert {"h:t0", "h:t1", "h:t2"} <= set(data["acked"]) and data["synced"] == "b1" and data["pos"] == 3
    assert q.count_labels(_store_of(at), "human", "ana") == 3
    data = send_batch(at, labels(queue.step_ids[:3]), pos=3, batch_id="b2")  # resent: stored once
    assert data["synced"] == "b2" and q.count_labels(_store_of(at), "human", "ana") == 3
    assert {"h:t0", "h:t1", "h:t2"} <= set(data["acked"]) and not data["cards"]  # the browser holds them
    # A browser that lost the window (it asks with "full") gets it again.
    with_full = send_batch(at, [], pos=3, batch_id="b3", full=True)
    assert {c["pos"] for c in with_full["cards"]} == set(range(0, min(len(queue), 83)))


def test_without_annotator_the_card_is_told_so_and_nothing_is_stored():
    segmented_run(2)
    at = labeling_page(name=None)
    assert _card(at)["annotator"] == ""
    assert _store_of(at).scalar("SELECT count(*) FROM step_labels") == 0


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
    # Source names are shown escaped, as all stored text is (issue 27).
    assert any(f"{md_text('auto:outcome')} vs {md_text('human')}" in m.value for m in at.markdown)


def test_export_page_writes_a_file():
    segmented_run(2)
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
    segmented_run(2)
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
