"""Re-segmenting never hides a human label (issue 28): a label moves to the new step holding its step's text;
where none does, segmenting refuses and names the labels, unless forced (then they stay in history, counted)."""
from __future__ import annotations

import pytest

from agentark.errors import ConfigError
from agentark.labels.human_labels import HumanLabel, add_human_labels
from agentark.labels.segment import SegmentConfig, resegment, segment_runs
from agentark.store import label_tables as q
from tests.steps_fixtures import RIGHT, build_store, message

TWO_SENTENCES = "Ben has 3 * 4 = 12 apples. He eats 2 of them.\n\nSo 12 - 2 = 10 are left.\n\nThe answer is 10."


def _labelled(store) -> dict[str, int]:
    """step text -> human value in force, over the steps stored now."""
    steps = q.steps_of_messages(store, ["m1", "m2"])
    rows = q.human_rows(store, list(steps["step_id"]))
    texts = dict(zip(steps["step_id"], steps["text"]))
    return {texts[r.step_id]: r.value for r in rows.itertuples() if r.in_force}


def test_labels_move_to_the_new_step_holding_their_text(tmp_path):
    store = build_store(tmp_path / "s.duckdb", [message("m1", "a", 1, TWO_SENTENCES, True)])
    segment_runs(store, None, SegmentConfig(method="sentences"))
    first = q.steps_of_messages(store, ["m1"]).sort_values("idx").iloc[0]
    assert first.text == "Ben has 3 * 4 = 12 apples."
    add_human_labels(store, [HumanLabel(first.step_id, 1, "ann")])
    report = resegment(store, None, SegmentConfig(method="paragraphs"))
    assert report.moved == 1 and report.hidden == 0
    assert _labelled(store) == {"Ben has 3 * 4 = 12 apples. He eats 2 of them.": 1}
    # The row it was copied from stays in history.
    assert q.label_history(store, first.step_id)["annotator"].tolist() == ["ann"]


def test_a_label_no_new_step_holds_is_refused_by_name_unless_forced(tmp_path):
    store = build_store(tmp_path / "s.duckdb", [message("m1", "a", 1, TWO_SENTENCES, True),
                                                message("m2", "b", 1, RIGHT, True, seq=1)])
    segment_runs(store, None, SegmentConfig(method="paragraphs"))
    steps = q.steps_of_messages(store, ["m1"]).sort_values("idx")
    para = steps.iloc[0]
    add_human_labels(store, [HumanLabel(para.step_id, -1, "ann")])
    before = q.steps_of_messages(store, ["m1", "m2"])
    with pytest.raises(ConfigError, match="would hide 1 human label") as err:
        resegment(store, None, SegmentConfig(method="sentences"))
    assert para.step_id in str(err.value) and "ann" in str(err.value) and "force" in err.value.fields
    assert sorted(q.steps_of_messages(store, ["m1", "m2"])["step_id"]) == sorted(before["step_id"])  # unchanged
    report = resegment(store, None, SegmentConfig(method="sentences", force=True))
    assert report.hidden == 1 and "1 human labels hidden" in report.summary("sentences")
    assert q.label_history(store, para.step_id)["value"].tolist() == [-1.0]  # still in history
    # Segmenting back brings the step, and its label, back.
    resegment(store, None, SegmentConfig(method="paragraphs"))
    assert _labelled(store)[para.text] == -1
