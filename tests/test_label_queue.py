"""The labeling queue at the speed of a person: keyset pages in a fixed order, the first-error order, and a
labeling page whose keypresses never recompute the table or agreement."""
from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from agentark.labels import agreement as agr
from agentark.labels import auto_labelers as autolab
from agentark.labels import human_labels as lab
from agentark.errors import ConfigError
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import label_tables as q
from tests.conftest import ROOT
from tests.steps_fixtures import RIGHT, WRONG, build_store, debate_store, message


def _labelled_store(path):
    store = debate_store(path)
    segment_runs(store, None, SegmentConfig())
    autolab.run_auto_labelers(store, autolab.AutoLabelConfig())
    return store


@pytest.mark.parametrize("strategy", list(lab.QUEUE_STRATEGIES))
def test_queue_loads_in_pages_that_add_up_to_the_whole_order(tmp_path, strategy):
    store = _labelled_store(tmp_path / "s.duckdb")
    full = lab.label_queue(store, strategy)["step_id"].tolist()
    queue = lab.LabelQueue.open(store, strategy, page_size=3)
    assert len(queue.step_ids) == 3 and len(queue) == len(full) > 6  # one page read, the whole count known
    first = q.queue_page(store, strategy, limit=3)
    after = tuple(first.iloc[-1][q.QUEUE_CURSOR])
    assert q.queue_page(store, strategy, after=after, limit=3)["step_id"].tolist() == full[3:6]
    for pos in range(len(full)):
        queue.ensure(pos)
    assert queue.step_ids == full


def test_queue_order_is_a_snapshot_labels_given_later_do_not_reshuffle_it(tmp_path):
    store = _labelled_store(tmp_path / "s.duckdb")
    queue = lab.LabelQueue.open(store, "unlabeled", page_size=2)
    before = lab.label_queue(store, "unlabeled")["step_id"].tolist()
    # Someone labels the step at position 4 (not loaded yet) and the first one: unlabeled-first would move them
    # to the end of a fresh queue, but this queue's later pages keep the order it was opened with.
    lab.add_human_labels(store, [lab.HumanLabel(before[4], 1, "ana"), lab.HumanLabel(before[0], 1, "ana")])
    assert lab.label_queue(store, "unlabeled")["step_id"].tolist()[-2:] == sorted([before[0], before[4]], key=before.index)
    for pos in range(len(before)):
        queue.ensure(pos)
    assert queue.step_ids == before


def test_first_error_order_puts_wrong_answers_without_a_known_error_first(tmp_path):
    store = build_store(tmp_path / "s.duckdb", [
        message("m1", "agent_1", 1, RIGHT, True, seq=0),
        message("m2", "agent_2", 1, RIGHT, True, seq=1),
        message("m3", "agent_1", 2, WRONG, False, seq=2),
        message("m4", "agent_2", 2, WRONG, False, seq=3),
    ])
    segment_runs(store, None, SegmentConfig())
    steps = q.steps_in_context(store)
    by_message = {mid: g.sort_values("idx")["step_id"].tolist() for mid, g in steps.groupby("message_id")}
    # m4's first error is known (an automatic -1); m3's is not, so m3 comes first, its steps in order.
    q.append_labels(store, pd.DataFrame({"label_id": ["a1"], "step_id": [by_message["m4"][1]], "value": [-1.0],
                                         "source": ["auto:mc"], "confidence": [0.9],
                                         "created_at": [pd.Timestamp("2026-01-01")]}))
    order = lab.label_queue(store, "first-error")["step_id"].tolist()
    assert order[:3] == by_message["m3"]
    assert order[3:] == by_message["m1"] + by_message["m2"] + by_message["m4"]
    # A person who marks m3's first step good keeps m3 first (its error is still unknown), that step after the rest.
    lab.add_human_labels(store, [lab.HumanLabel(by_message["m3"][0], 1, "ana")])
    assert lab.label_queue(store, "first-error")["step_id"].tolist()[:3] == by_message["m3"][1:] + [by_message["m3"][0]]
    # Once any source marks a step of m3 bad, its first error is known and m3 leaves the front.
    lab.add_human_labels(store, [lab.HumanLabel(by_message["m3"][1], -1, "ana")])
    assert lab.label_queue(store, "first-error")["step_id"].tolist()[:2] == by_message["m1"][:2]


def test_keypresses_do_not_recompute_the_table_or_agreement_and_summaries_follow_writes(monkeypatch):
    from tests.app_pages import segmented_run
    from tests.test_label_pages import labeling_page, labels, open_tab, send_batch

    segmented_run(2)
    calls = {"agreement": 0, "step_table": 0, "queue_page": 0}

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(agr, "agreement", counting("agreement", agr.agreement))
    monkeypatch.setattr(lab, "step_table", counting("step_table", lab.step_table))
    monkeypatch.setattr(q, "queue_page", counting("queue_page", q.queue_page))
    at = labeling_page("ana")
    opened = calls["queue_page"]
    ids = at.session_state["lab_queue"].step_ids
    for n in range(3):
        data = send_batch(at, labels([ids[n]], prefix=f"h:k{n}"), pos=n + 1, batch_id=f"b{n}")
        assert data["pos"] == n + 1 and f"h:k{n}0" in data["acked"]
    assert calls["agreement"] == 0 and calls["step_table"] == 0
    assert calls["queue_page"] == opened  # the queue was read once, when the page opened
    open_tab(at, "Summary")
    counts = next(d.value for d in at.dataframe if "annotator" in d.value.columns and "labels" in d.value.columns)
    assert counts.set_index("annotator").loc["ana", "labels"] == 3 and calls["agreement"] == 1
    open_tab(at, "Summary")
    assert calls["agreement"] == 1  # cached: nothing was written since
    open_tab(at, "Label")
    send_batch(at, labels([ids[3]], value=-1, prefix="h:w"), pos=4, batch_id="bw")
    open_tab(at, "Summary")
    counts = next(d.value for d in at.dataframe if "annotator" in d.value.columns and "labels" in d.value.columns)
    assert counts.set_index("annotator").loc["ana", "labels"] == 4 and calls["agreement"] == 2


def test_card_window_is_read_once_per_position_in_one_store_open_and_a_batch_is_one_more(tmp_path, monkeypatch):
    import agentark.store as store_module

    store = _labelled_store(tmp_path / "s.duckdb")
    queue = lab.LabelQueue.open(store, "unlabeled")
    opens = []
    real_open = store_module.open_connection
    monkeypatch.setattr(store_module, "open_connection", lambda *a, **k: opens.append(1) or real_open(*a, **k))
    cards = queue.cards(0, 5)
    assert len(opens) == 1 and [c["step_id"] for c in cards] == queue.step_ids[:5]
    first = cards[0]
    assert first["content"][first["char_start"]:first["char_end"]] == first["text"] and first["question"]
    assert [c["pos"] for c in queue.cards(3, 8)] == [3, 4, 5, 6, 7] and len(opens) == 2  # only 5-7 were read
    queue.cards(2, 6)
    assert len(opens) == 2  # all held
    lab.store_batch(store, [lab.HumanLabel(queue.step_ids[0], -1, "ana"), lab.HumanLabel(queue.step_ids[1], 1, "ana")])
    assert len(opens) == 3  # a batch of labels: one store operation
    assert [h["value"] for h in lab.step_histories(store, [queue.step_ids[0]])[queue.step_ids[0]]][-1] == -1


def test_labeling_page_offers_the_first_error_order():
    from tests.app_pages import segmented_run
    from tests.test_label_pages import _card, labeling_page

    segmented_run(2)
    at = labeling_page("ana")
    assert "wrong answers whose first error is unknown first" in at.selectbox(key="lab_strategy").options
    by_default = list(at.session_state["lab_queue"].step_ids)
    at.selectbox(key="lab_strategy").set_value("first-error").run()
    queue = at.session_state["lab_queue"]
    # Two problems, each wrong in round 1 and right in round 2: both wrong rounds now come before either right one.
    assert queue.strategy == "first-error" and sorted(queue.step_ids) == sorted(by_default)
    assert queue.step_ids != by_default
    data = _card(at)
    first = data["cards"][0]
    assert first["pos"] == 0 and data["messages"][first["message_id"]]["is_correct"] is False  # a wrong answer's step


def test_label_table_is_one_filtered_sql_page_that_agrees_with_the_full_table(tmp_path):
    store = _labelled_store(tmp_path / "s.duckdb")
    full = lab.step_table(store)
    lab.add_human_labels(store, [lab.HumanLabel(full["step_id"][0], 1, "ana")])
    full = lab.step_table(store)
    auto_cols = [c for c in full.columns if c.startswith("auto:")]
    cases = {
        lab.StepFilter(): full,
        lab.StepFilter(only_unlabeled=True): full[full["human"].isna()],
        lab.StepFilter(auto="some negative"): full[(full[auto_cols] < 0).any(axis=1)],
        lab.StepFilter(auto="some positive"): full[(full[auto_cols] > 0).any(axis=1)],
        lab.StepFilter(auto="disagreeing"): full[full["auto_signs"] > 1],
        lab.StepFilter(contains="APPLES"): full[full["text"].str.contains("apples", case=False)],
    }
    for flt, expected in cases.items():
        rows, total = lab.filtered_steps(store, None, flt)
        assert rows["step_id"].tolist() == expected["step_id"].tolist(), flt
        assert total == len(expected)
        page, total = lab.filtered_steps(store, None, flt, limit=2)
        assert page["step_id"].tolist() == expected["step_id"].tolist()[:2] and total == len(expected)
    rows, _ = lab.filtered_steps(store, None, lab.StepFilter())
    assert rows.set_index("step_id").loc[full["step_id"][0], "human_by"] == "ana"
    assert set(auto_cols) <= set(rows.columns)
    with pytest.raises(ConfigError, match="some negative"):
        lab.StepFilter(auto="odd")
