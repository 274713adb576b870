"""Exports for a store with known labels: contents, label policy, curation, immutability, datasets; imports."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from agentark.cli import main
from agentark.runs.curation import Mark, add_marks
from agentark.errors import ConfigError, ImportFormatError
from agentark.training_sets import ExportConfig, build_rows, export
from agentark.labels.human_labels import HumanLabel, add_human_labels
from agentark.labels.step_import import import_steps
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import Store
from agentark.store import label_tables as q
from tests.steps_fixtures import RIGHT, WRONG, build_store, message


def _store(path) -> Store:
    store = build_store(path, [
        message("m1", "agent_1", 1, WRONG, False, seq=0),
        message("m2", "agent_2", 1, RIGHT, True, seq=1),
        message("m3", "agent_1", 2, RIGHT, True, seq=2),
        message("m4", "agent_2", 2, RIGHT + "\n\nDouble-checked.", True, seq=3),
        message("n1", "agent_1", 1, RIGHT, True, pid="p2", seq=0),
        message("n2", "agent_1", 2, WRONG, False, pid="p2", seq=1),
    ])
    segment_runs(store, None, SegmentConfig())
    return store


def _auto(store, step_ids, values, source, soft=None):
    rows = pd.DataFrame({"label_id": [f"{source}:{s}" for s in step_ids], "step_id": step_ids, "value": values,
                         "source": source, "confidence": 0.5, "created_at": pd.Timestamp("2026-01-01"),
                         "soft_value": soft if soft is not None else [None] * len(step_ids)})
    q.append_labels(store, rows)


def test_rsft_and_da_contents_and_curation(tmp_path):
    with _store(tmp_path / "s.duckdb") as store:
        rsft = build_rows(store, ExportConfig(kind="rsft"))
        assert rsft["message_id"].tolist() == ["m3"]  # p2's last round is wrong: no final reasoning to keep
        assert [m["role"] for m in rsft["messages"][0]] == ["user", "assistant"] and rsft["messages"][0][1]["content"] == RIGHT
        da = build_rows(store, ExportConfig(kind="da"))
        # m2 and m3 are the same text: one of them; m4 differs; p2 has n1.
        assert sorted(da["message_id"]) == ["m3", "m4", "n1"]
        assert len(build_rows(store, ExportConfig(kind="da", max_per_problem=1))) == 2
        add_marks(store, [Mark("r1", "p1", "exclude", message_id="m3"), Mark("r1", "p2", "exclude")])
        assert build_rows(store, ExportConfig(kind="rsft"))["message_id"].tolist() == ["m4"]
        assert sorted(build_rows(store, ExportConfig(kind="da"))["message_id"]) == ["m2", "m4"]


def test_prm_policy_precedence_neutral_and_soft(tmp_path):
    with _store(tmp_path / "s.duckdb") as store:
        steps = q.steps_in_context(store)
        m1 = steps[steps.message_id == "m1"].step_id.tolist()
        _auto(store, m1, [1.0, 1.0, -1.0], "auto:outcome")
        _auto(store, m1, [1.0, -1.0, -1.0], "auto:mc", soft=[0.75, 0.0, 0.0])
        add_human_labels(store, [HumanLabel(m1[0], -1, "ana"), HumanLabel(m1[1], 0, "ana")])
        add_human_labels(store, [HumanLabel(m1[0], 1, "ben")])  # latest human label wins
        rows = build_rows(store, ExportConfig(kind="prm", first_error=False))
        assert rows["message_id"].tolist() == ["m1"]  # the only message with every step labelled
        # The first-error convention (default) adds the right answers, every step good.
        assert build_rows(store, ExportConfig(kind="prm"))["message_id"].tolist() == ["m1", "m2", "m3", "m4", "n1"]
        row = rows.iloc[0]
        assert list(row["completions"]) == [s for s in steps[steps.message_id == "m1"].text]
        assert list(row["labels"]) == [True, True, False] and list(row["label_sources"]) == ["human", "human", "auto:mc"]
        neg = build_rows(store, ExportConfig(kind="prm", neutral="negative", first_error=False)).iloc[0]
        assert list(neg["labels"]) == [True, False, False]
        assert list(build_rows(store, ExportConfig(kind="prm", neutral="negative")).iloc[0]["labels"]) == [True, False]
        auto_first = build_rows(store, ExportConfig(kind="prm", precedence=["auto:outcome", "human"])).iloc[0]
        assert list(auto_first["labels"]) == [True, True, False] and set(auto_first["label_sources"]) == {"auto:outcome"}
        soft = build_rows(store, ExportConfig(kind="prm", precedence=["auto:mc"], label_type="soft", first_error=False)).iloc[0]
        assert list(soft["labels"]) == [0.75, 0.0, 0.0]
        # m1's last step has no human label
        assert build_rows(store, ExportConfig(kind="prm", precedence=["human"], first_error=False)).empty
        with pytest.raises(ConfigError, match="positive"):
            ExportConfig(neutral="maybe")


def test_prm_export_file_is_immutable_recorded_and_loads_with_datasets(tmp_path):
    import datasets

    with _store(tmp_path / "s.duckdb") as store:
        steps = q.steps_in_context(store)
        _auto(store, steps.step_id.tolist(), [1.0] * len(steps), "auto:outcome")
        result = export(store, ExportConfig(kind="prm", format="jsonl"))
        assert result.path.suffix == ".jsonl" and result.sha256[:12] in result.path.name
        assert not (result.path.stat().st_mode & 0o222)
        again = export(store, ExportConfig(kind="prm", format="jsonl"))
        assert again.path == result.path and again.sha256 == result.sha256
        recorded = q.list_exports(store)
        assert len(recorded) == 2 and json.loads(recorded.filters_json[0])["neutral"] == "positive"
        for path in (result.path, export(store, ExportConfig(kind="prm"), tmp_path / "prm.parquet").path):
            ds = datasets.load_dataset("json" if path.suffix == ".jsonl" else "parquet", data_files=str(path), split="train")
            assert len(ds) == 6 and {"prompt", "completions", "labels"} <= set(ds.column_names)
            assert all(len(r["completions"]) == len(r["labels"]) for r in ds)
        with pytest.raises(ConfigError, match="immutable"):
            export(store, ExportConfig(kind="prm"), tmp_path / "prm.parquet")


def test_cli_export_with_runs_and_out(tmp_path, capsys):
    store = _store(tmp_path / "home" / "agentark.duckdb")
    store.close()
    out = tmp_path / "rsft.jsonl"
    assert main(["export", "rsft", "--run", "r1", "--out", str(out)]) == 0
    assert "1 rows" in capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["messages"][1]["content"] == RIGHT
    assert main(["export", "prm", "--run", "nope", "--out", str(tmp_path / "x.parquet")]) == 2
    assert "empty" in capsys.readouterr().err


PRM800K_LINE = {
    "labeler": "L1", "question": {"problem": "What is 2 + 3 * 4?", "ground_truth_answer": "14"},
    "label": {"steps": [
        {"completions": [{"text": "3 * 4 = 12.", "rating": 1, "flagged": False}], "chosen_completion": 0},
        {"completions": [{"text": "2 + 12 = 15.", "rating": -1}, {"text": "2 + 12 = 14.", "rating": 1}],
         "chosen_completion": 1},
        {"completions": [{"text": "So the answer is 14.", "rating": 0}], "chosen_completion": None},
    ], "finish_reason": "solution"},
}
SHEPHERD_LINE = {
    "input": "What is 2 + 3 * 4? Step 1: 3 * 4 = 12. ки\nStep 2: 2 + 12 = 15. ки\nStep 3: The answer is: 15 ки",
    "label": "What is 2 + 3 * 4? Step 1: 3 * 4 = 12. +\nStep 2: 2 + 12 = 15. -\nStep 3: The answer is: 15 -",
    "task": "GSM8K",
}


def test_import_prm800k_and_math_shepherd_then_export(tmp_path):
    prm = tmp_path / "prm800k.jsonl"
    prm.write_text(json.dumps(PRM800K_LINE) + "\nnot json\n")
    shepherd = tmp_path / "shepherd.jsonl"
    shepherd.write_text(json.dumps(SHEPHERD_LINE) + "\n")
    with Store(tmp_path / "s.duckdb") as store:
        report = import_steps(store, prm, "prm800k")
        assert (report["solutions"], report["steps"], report["labels"]) == (1, 3, 3) and report["rejected"][0][0] == 2
        assert import_steps(store, prm, "prm800k")["run_id"] == report["run_id"]  # twice adds nothing
        shep = import_steps(store, shepherd, "math-shepherd")
        labels = q.labels_in_force(store).merge(q.steps_in_context(store), on="step_id").sort_values(["run_id", "idx"])
        assert len(labels) == 6
        by_run = {r: g for r, g in labels.groupby("run_id")}
        assert by_run[report["run_id"]]["text"].tolist() == ["3 * 4 = 12.", "2 + 12 = 14.", "So the answer is 14."]
        assert by_run[report["run_id"]]["value"].tolist() == [1.0, 1.0, 0.0]
        assert by_run[shep["run_id"]]["text"].tolist()[0] == "Step 1: 3 * 4 = 12."
        assert by_run[shep["run_id"]]["value"].tolist() == [1.0, -1.0, -1.0]
        assert by_run[shep["run_id"]]["question"].iloc[0] == "What is 2 + 3 * 4?"
        rows = build_rows(store, ExportConfig(kind="prm", first_error=False))
        assert sorted(len(r) for r in rows["labels"]) == [3, 3]
        # First-error convention: Math-Shepherd's solution ends at its first '-' step.
        rows = build_rows(store, ExportConfig(kind="prm")).set_index("run_id")
        assert list(rows.loc[shep["run_id"], "labels"]) == [True, False]
        assert list(rows.loc[report["run_id"], "labels"]) == [True, True, True]
        with pytest.raises(ImportFormatError, match="no usable"):
            import_steps(store, prm, "math-shepherd")


def test_cli_segment_autolabel_and_label(tmp_path, capsys):
    store = _store(tmp_path / "home" / "agentark.duckdb")
    step = q.steps_in_context(store).step_id[0]
    store.close()
    assert main(["segment", "--run", "r1", "--method", "lines"]) == 0
    assert main(["autolabel", "--source", "auto:outcome"]) == 0
    assert "auto:outcome:" in capsys.readouterr().out
    assert main(["label", step, "--value", "-1", "--annotator", "ana", "--note", "checked"]) == 0
    with Store() as store:
        history = q.label_history(store, step)
        assert history[history.source == "human"][["annotator", "value", "note"]].values.tolist() == [["ana", -1.0, "checked"]]
