"""Segmentation: four segmenters with offsets into the message; re-segmenting keeps labels of unchanged steps."""
from __future__ import annotations

import pytest

from agentark.errors import ConfigError
from agentark.labels.human_labels import HumanLabel, add_human_labels, label_history
from agentark.labels.segment import SegmentConfig, segment, segment_runs, step_ids
from agentark.store import label_tables as q
from tests.steps_fixtures import debate_store

TEXT = "Step 1: 3 * 4 = 12.\nStep 2: 12 - 2 = 10. So 10 are left.\n\nStep 3: The answer is 10."


def _check_offsets(steps, text):
    for s in steps:
        assert text[s.char_start:s.char_end] == s.text and s.text == s.text.strip() and s.text


def test_paragraphs_lines_markers_sentences_with_offsets():
    paragraphs = segment(TEXT, "paragraphs")
    assert [s.text for s in paragraphs] == ["Step 1: 3 * 4 = 12.\nStep 2: 12 - 2 = 10. So 10 are left.", "Step 3: The answer is 10."]
    lines = segment(TEXT, "lines")
    assert [s.text for s in lines] == ["Step 1: 3 * 4 = 12.", "Step 2: 12 - 2 = 10. So 10 are left.", "Step 3: The answer is 10."]
    markers = segment("Let me think.\n" + TEXT, "markers")
    assert [s.text[:7] for s in markers] == ["Let me ", "Step 1:", "Step 2:", "Step 3:"]
    sentences = segment("It costs 3.5 dollars. Then 2 more!  Total 5.5?\nDone", "sentences")
    assert [s.text for s in sentences] == ["It costs 3.5 dollars.", "Then 2 more!", "Total 5.5?", "Done"]
    for steps, text in ((paragraphs, TEXT), (lines, TEXT), (markers, "Let me think.\n" + TEXT)):
        _check_offsets(steps, text)
        assert [s.idx for s in steps] == list(range(len(steps)))
    assert segment("", "lines") == []
    with pytest.raises(ConfigError, match="paragraphs, lines"):
        SegmentConfig(method="words")


def test_step_ids_depend_on_text_not_position():
    a = step_ids("m", segment("x = 1\ny = 2", "lines"))
    b = step_ids("m", segment("intro\nx = 1\ny = 2", "lines"))
    assert a == b[1:]
    twice = step_ids("m", segment("same\nsame", "lines"))
    assert len(set(twice)) == 2


def test_resegmenting_keeps_labels_of_unchanged_steps(tmp_path):
    with debate_store(tmp_path / "s.duckdb") as store:
        assert segment_runs(store, ["r1"], SegmentConfig("paragraphs")) == 3 + 3 + 4 + 3
        first = q.steps_in_context(store, ["r1"])
        kept = first[(first.message_id == "m1") & (first.idx == 0)].step_id.item()
        add_human_labels(store, [HumanLabel(kept, -1, "ana")])
        # Lines split m1 the same way (its paragraphs are one line each): same ids, labels still attached.
        segment_runs(store, ["r1"], SegmentConfig("lines"))
        again = q.steps_in_context(store, ["r1"])
        assert kept in set(again.step_id)
        assert set(first[first.message_id == "m1"].step_id) == set(again[again.message_id == "m1"].step_id)
        assert label_history(store, kept)["value"].tolist() == [-1.0]
        # Sentences change m1's second step into two: only those get new ids; the old row leaves `steps`.
        segment_runs(store, ["r1"], SegmentConfig("sentences"))
        third = q.steps_in_context(store, ["r1"])
        assert kept in set(third.step_id)
        assert third[third.message_id == "m1"]["segmenter"].eq("sentences").all()
