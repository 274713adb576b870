"""Corrections people write on a wrong step: storage (who, when, the step replaced), the batch the labeling card
sends, the card's history, and the two exports (corrected trajectories for R-SFT/DA, TRL preference pairs)."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

from agentark.cli import main
from agentark.errors import ConfigError
from agentark.training_sets import ExportConfig, build_rows, export
from agentark.labels import human_labels
from agentark.labels.corrections import Correction, problem_corrections
from agentark.labels.human_labels import HumanLabel, LabelQueue, store_batch
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.runs.curation import Mark, mark_targets
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.ui.label_card import store_sync
from tests.steps_fixtures import WRONG, debate_store

FIX = "Ben has 3 * 4 = 12 apples."
REST = "He eats 2, so 12 - 2 = 10.\n\nThe answer is 10."


def _wrong_first_step(store: Store) -> dict:
    steps = q.steps_in_context(store)
    return steps[(steps["message_id"] == "m1") & (steps["idx"] == 0)].iloc[0].to_dict()


@pytest.fixture
def store(tmp_path):
    with debate_store(tmp_path / "s.duckdb") as store:
        segment_runs(store, None, SegmentConfig())
        yield store


def test_a_correction_is_stored_with_who_when_and_the_step_it_replaces(store):
    step = _wrong_first_step(store)
    assert step["text"] == "Ben has 3 * 4 = 14 apples."
    store_batch(store, [HumanLabel(step["step_id"], -1, "ana", label_id="h:1")],
                [Correction(step["step_id"], FIX, "ana", rest=REST, correction_id="c:1")])
    row = store.df("SELECT * FROM step_corrections").iloc[0]
    assert (row["correction_id"], row["step_id"], row["message_id"], row["annotator"]) == ("c:1", step["step_id"],
                                                                                          "m1", "ana")
    assert (row["original_text"], row["char_start"], row["char_end"]) == (step["text"], step["char_start"],
                                                                         step["char_end"])
    assert row["text"] == FIX and row["rest"] == REST and row["created_at"] is not None
    # ana had marked the step wrong, so no second -1 is implied; sent again, the batch stores nothing new.
    assert store_batch(store, [HumanLabel(step["step_id"], -1, "ana", label_id="h:1")],
                       [Correction(step["step_id"], FIX, "ana", rest=REST, correction_id="c:1")]) == \
        {"labels": 0, "corrections": 0}
    assert q.count_labels(store, "human") == 1
    shown = problem_corrections(store, "r1", "p1")
    assert shown[["step_idx", "text"]].values.tolist() == [[0, FIX]]


def test_a_correction_marks_its_step_wrong_for_an_author_who_had_not(store):
    step = _wrong_first_step(store)
    store_batch(store, [HumanLabel(step["step_id"], 1, "ben")], [Correction(step["step_id"], FIX, "ben")])
    history = q.label_history(store, step["step_id"])
    assert history["value"].tolist() == [1.0, -1.0]  # the correction's -1 comes after ben's earlier +1
    with pytest.raises(ConfigError, match="repeats the step"):
        store_batch(store, [], [Correction(step["step_id"], step["text"], "ben")])
    with pytest.raises(ConfigError, match="No stored step"):
        store_batch(store, [], [Correction("gone", FIX, "ben")])
    with pytest.raises(ConfigError, match="annotator"):
        Correction(step["step_id"], FIX, " ")


def test_the_cards_history_shows_labels_and_corrections_in_order(store):
    queue = LabelQueue.open(store)
    step = _wrong_first_step(store)
    store_batch(store, [HumanLabel(step["step_id"], -1, "ana", note="off by two")],
                [Correction(step["step_id"], FIX, "ana", rest=REST)])
    pos = queue.step_ids.index(step["step_id"])
    history = queue.cards(pos, pos + 1)[0]["history"]
    assert [(h["value"], h["note"], h["correction"]) for h in history] == [
        (-1, "off by two", None), (None, None, FIX + "\n…" + REST)]


def test_a_batch_from_the_card_is_acknowledged_and_a_bad_item_alone_is_refused(store):
    ids = LabelQueue.open(store).step_ids
    step = _wrong_first_step(store)
    payload = {"id": "s1", "queue": "q", "pos": 3, "items": [
        {"id": "h:a", "kind": "label", "step_id": ids[0], "value": 1, "flag": False, "annotator": "ana"},
        {"id": "h:b", "kind": "label", "step_id": ids[1], "value": 7, "annotator": "ana"},
        {"id": "h:c", "kind": "label", "step_id": ids[2], "value": None, "flag": True, "annotator": "ana"},
        {"id": "c:d", "kind": "correction", "step_id": "gone", "text": FIX, "annotator": "ana"},
        {"id": "c:e", "kind": "correction", "step_id": step["step_id"], "text": FIX, "annotator": "ana"}]}
    acked, rejected, error = store_sync(store, payload)
    assert error is None and sorted(acked) == ["c:e", "h:a", "h:c"]
    assert set(rejected) == {"h:b", "c:d"} and "+1" in rejected["h:b"]
    assert store_sync(store, payload)[0] and q.count_labels(store, "human") == 3  # resent: nothing twice


def test_two_cards_sending_at_once_lose_no_label(store):
    ids = LabelQueue.open(store).step_ids

    def send(name: str) -> None:
        for i, step_id in enumerate(ids[:6]):
            store_sync(store, {"id": f"{name}{i}", "items": [
                {"id": f"h:{name}{i}", "kind": "label", "step_id": step_id, "value": 1, "annotator": name}]})

    threads = [threading.Thread(target=send, args=(name,)) for name in ("ana", "ben")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = human_labels.label_counts(store).set_index("annotator")["labels"]
    assert counts["ana"] == 6 and counts["ben"] == 6


def _corrected(store: Store, rest: str | None = REST, annotator: str = "ana") -> str:
    step = _wrong_first_step(store)
    correction = Correction(step["step_id"], FIX, annotator, rest=rest)
    store_batch(store, [HumanLabel(step["step_id"], -1, annotator)], [correction])
    return correction.correction_id


def test_human_corrections_export_corrected_trajectories_for_rsft_and_da(store):
    cid = _corrected(store)
    rows = build_rows(store, ExportConfig(kind="rsft", corrections="human"))
    assert rows[["message_id", "correction_id", "annotator"]].values.tolist() == [["m1", cid, "ana"]]
    answer = rows["messages"].iloc[0][-1]["content"]
    assert answer == FIX + "\n\n" + REST  # the step replaced, the rest written; nothing of the wrong original
    assert "14" not in answer and WRONG not in answer
    assert len(build_rows(store, ExportConfig(kind="da", corrections="human"))) == 1
    with pytest.raises(ConfigError, match="corrections"):
        ExportConfig(kind="prm", corrections="human")


def test_a_corrected_step_without_the_rest_is_not_an_sft_trajectory(store):
    _corrected(store, rest=None)
    with pytest.raises(ConfigError, match="without an explicit final answer"):
        export(store, ExportConfig(kind="rsft", corrections="human"))


def test_an_excluded_message_takes_its_corrections_out_of_the_exports(store):
    _corrected(store)
    mark_targets(store, [Mark("r1", "p1", "exclude", message_id="m1", annotator="ana")])
    assert build_rows(store, ExportConfig(kind="pairs")).empty


def test_pairs_export_is_trl_preference_data_loadable_with_datasets(store, tmp_path):
    from datasets import load_dataset

    cid = _corrected(store)
    _corrected(store, rest=None, annotator="ben")
    result = export(store, ExportConfig(kind="pairs", format="jsonl"), tmp_path / "pairs.jsonl")
    data = load_dataset("json", data_files=str(result.path), split="train")
    assert result.n_rows == 2 and {"prompt", "chosen", "rejected"} <= set(data.column_names)
    full = next(r for r in data if r["correction_id"] == cid)
    assert full["prompt"][-1]["role"] == "user" and "Ben has 3 bags" in full["prompt"][-1]["content"]
    assert full["chosen"] == [{"role": "assistant", "content": FIX + "\n\n" + REST}]
    assert full["rejected"] == [{"role": "assistant", "content": WRONG}]  # the original from the same point
    step_only = next(r for r in data if r["annotator"] == "ben")
    assert step_only["chosen"][0]["content"] == FIX
    assert step_only["rejected"][0]["content"] == "Ben has 3 * 4 = 14 apples."  # just the wrong step
    parquet = export(store, ExportConfig(kind="pairs"), tmp_path / "pairs.parquet")
    assert len(load_dataset("parquet", data_files=str(parquet.path), split="train")) == 2


def test_cli_exports_human_corrections_and_pairs():
    from datasets import load_dataset

    from agentark import config

    with debate_store(config.store_path()) as store:
        segment_runs(store, None, SegmentConfig())
        _corrected(store)
    out = config.home() / "rsft.parquet"
    assert main(["export", "rsft", "--corrections", "human", "--out", str(out)]) == 0
    assert main(["export", "pairs", "--out", str(config.home() / "pairs.jsonl")]) == 0
    rows = load_dataset("parquet", data_files=str(out), split="train")
    assert rows["correction_id"] and rows["messages"][0][-1]["content"].endswith("The answer is 10.")
    assert len(load_dataset("json", data_files=str(config.home() / "pairs.jsonl"), split="train")) == 1
