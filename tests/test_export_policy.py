"""Training sets that can teach: the PRM first-error convention with its figures and balance check, outcome
labels on imported debates, and R-SFT/DA rows only from answers the model finished and committed to."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from agentark.cli import main
from agentark.labels.label_policy import (
    CLAIM_FREE_SOURCE,
    DROP_FIRST_ERROR_UNKNOWN,
    DROP_UNLABELLED,
    FIRST_ERROR_SOURCE,
    prm_figures,
)
from agentark.training_sets import ExportConfig, export, prepare
from agentark.training_sets.message_filters import DROP_NO_ANSWER, DROP_TRUNCATED
from agentark.labels.auto_labelers import AutoLabelConfig, run_auto_labelers
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.runs.formats import import_file
from tests.conftest import ROOT
from tests.steps_fixtures import RIGHT, SOLUTION, WRONG, build_store, message

# Right first step, wrong second (12 - 2 = 9 is not among the reference's results 12 and 10).
WRONG_SECOND = "Ben has 3 * 4 = 12 apples.\n\nHe eats 2, so 12 - 2 = 9.\n\nThe answer is 9."
# Wrong answer, but no step leaves the correct paths and none states its final answer: its first error stays unknown.
WRONG_SILENT = "Ben has 3 * 4 = 12 apples.\n\nHe eats 2, so some are left.\n\nThat is my answer."


def _known_debates(path) -> Store:
    """Two problems x 4 messages, half of them wrong, segmented by blank lines and outcome-labelled."""
    store = build_store(path, [
        message("m1", "agent_1", 1, WRONG, False, seq=0),
        message("m2", "agent_2", 1, RIGHT, True, seq=1),
        message("m3", "agent_1", 2, WRONG_SECOND, False, seq=2),
        message("m4", "agent_2", 2, RIGHT, True, seq=3),
        message("n1", "agent_1", 1, RIGHT, True, pid="p2", seq=0),
        message("n2", "agent_2", 1, WRONG_SECOND, False, pid="p2", seq=1),
        message("n3", "agent_1", 2, RIGHT + "\n\nDouble-checked.", True, pid="p2", seq=2),
        message("n4", "agent_2", 2, WRONG_SILENT, False, pid="p2", seq=3),
    ])
    segment_runs(store, None, SegmentConfig())
    run_auto_labelers(store, AutoLabelConfig(sources=["auto:outcome"]))
    return store


def _by_message(rows: pd.DataFrame) -> dict[str, tuple[list, list]]:
    return {r.message_id: (list(r.labels), list(r.label_sources)) for r in rows.itertuples()}


def test_prm_export_of_known_debates_under_both_policies(tmp_path):
    out = "auto:outcome"
    with _known_debates(tmp_path / "s.duckdb") as store:
        rows, summary = prepare(store, ExportConfig(kind="prm"))
        assert _by_message(rows) == {
            "m1": ([False], [out]),  # its first step is already wrong: nothing after it is kept
            "m2": ([True] * 3, [out] * 3),
            "m3": ([True, False], [FIRST_ERROR_SOURCE, out]),  # the step before the first error counts good
            "m4": ([True] * 3, [out] * 3),
            "n1": ([True] * 3, [out] * 3),
            "n2": ([True, False], [FIRST_ERROR_SOURCE, out]),
            "n3": ([True] * 4, [out] * 3 + [CLAIM_FREE_SOURCE]),  # "Double-checked." claims nothing
        }
        assert [len(c) for c in rows["completions"]] == [1, 3, 2, 3, 3, 2, 4]
        figures = summary.prm
        assert (figures.rows, figures.steps, figures.positives, figures.negatives) == (7, 18, 15, 3)
        assert figures.rows_with_negative == 3
        assert figures.by_source == {out: {"steps": 15, "positives": 12, "negatives": 3},
                                     FIRST_ERROR_SOURCE: {"steps": 2, "positives": 2, "negatives": 0},
                                     CLAIM_FREE_SOURCE: {"steps": 1, "positives": 1, "negatives": 0}}
        assert summary.dropped == {DROP_FIRST_ERROR_UNKNOWN: 1}  # n4
        assert summary.warning() is None  # 3 of 18 steps = 16.7%, over the 10% threshold

        rows, summary = prepare(store, ExportConfig(kind="prm", first_error=False))
        assert list(rows["message_id"]) == ["m2", "m4", "n1", "n3"]  # only messages with every step labelled
        figures = summary.prm
        assert (figures.rows, figures.steps, figures.positives, figures.negatives) == (4, 13, 13, 0)
        assert summary.dropped == {DROP_UNLABELLED: 4}
        warning = summary.warning()
        assert "0 of 13 steps" in warning and "label-mc" in warning and "auto:debate" in warning
        assert "Label steps page" in warning


def test_the_policy_and_its_figures_are_stored_with_the_export(tmp_path):
    with _known_debates(tmp_path / "s.duckdb") as store:
        result = export(store, ExportConfig(kind="prm"), tmp_path / "prm.parquet")
        stored = json.loads(q.list_exports(store).filters_json[0])
        assert stored["first_error"] is True and stored["balance_threshold"] == 0.1
        assert stored["summary"]["prm"]["negatives"] == 3 and stored["summary"]["dropped"] == {DROP_FIRST_ERROR_UNKNOWN: 1}
        # The trainer's view: the same figures from the file alone.
        again = prm_figures(pd.read_parquet(result.path))
        assert again.to_dict() == result.summary.prm.to_dict()


def test_cli_export_prm_prints_figures_and_the_balance_warning(tmp_path, capsys):
    _known_debates(tmp_path / "home" / "agentark.duckdb").close()
    assert main(["export", "prm", "--out", str(tmp_path / "a.parquet")]) == 0
    printed = capsys.readouterr()
    assert "7 rows (3 with a negative step), 18 steps: 15 positive, 3 negative (16.7%)" in printed.out
    assert "auto:outcome: 15 steps, 12 positive, 3 negative" in printed.out
    assert f"dropped 1 message(s): {DROP_FIRST_ERROR_UNKNOWN}" in printed.out
    assert "warning" not in printed.err
    assert main(["export", "prm", "--no-first-error", "--out", str(tmp_path / "b.parquet")]) == 0
    printed = capsys.readouterr()
    assert "4 rows (0 with a negative step), 13 steps: 13 positive, 0 negative" in printed.out
    assert "warning: Only 0 of 13 steps" in printed.err


def test_export_page_shows_figures_and_warning(tmp_path):
    _known_debates(tmp_path / "home" / "agentark.duckdb").close()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.switch_page("pages/6_export.py")
    at.run()
    at.selectbox(key="exp_kind").set_value("prm")
    at.checkbox(key="exp_first_error").uncheck()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert any("13 steps: 13 positive, 0 negative" in m.value for m in at.markdown)
    assert any("Only 0 of 13 steps" in w.value for w in at.warning)


def test_du2023_import_with_annotated_answers_gets_negative_outcome_labels(tmp_path):
    question = "Ben has 3 bags of 4 apples and eats 2. How many are left?"

    def context(answer: str) -> list[dict]:
        return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]

    path = tmp_path / "du.json"
    path.write_text(json.dumps({question: [[context(WRONG_SECOND), context(RIGHT), context(WRONG)], SOLUTION]}))
    with Store(tmp_path / "s.duckdb") as store:
        report = import_file(store, "du2023", path)
        assert json.loads(store.df("SELECT meta_json FROM problems").meta_json[0])["solution"] == SOLUTION
        segment_runs(store, [report.run_id], SegmentConfig())
        run_auto_labelers(store, AutoLabelConfig(run_ids=[report.run_id], sources=["auto:outcome"]))
        labels = q.labels_in_force(store, [report.run_id]).merge(q.steps_in_context(store, [report.run_id]), on="step_id")
        negatives = labels[labels.value < 0].sort_values("agent")
        assert list(zip(negatives.agent, negatives.idx)) == [("agent_1", 1), ("agent_3", 0)]
        rows = prepare(store, ExportConfig(kind="prm", run_ids=[report.run_id]))[0]
        assert sorted(map(list, rows["labels"])) == [[False], [True, False], [True, True, True]]


def _sft_store(path) -> Store:
    cut = "Ben has 3 * 4 = 12 apples.\n\nHe eats 2, so 12 - 2 = 10"  # stopped by the token limit
    bare = "Ben has 3 * 4 = 12 apples, and after eating 2 he has 10 apples."  # right, but commits to nothing
    rows = [
        message("m1", "agent_1", 1, WRONG, False, seq=0) | {"finish_reason": "stop"},
        message("m2", "agent_2", 1, RIGHT, True, seq=1) | {"finish_reason": "stop"},
        message("m3", "agent_1", 2, cut, True, seq=2) | {"finish_reason": "length"},
        message("m4", "agent_2", 2, bare, True, seq=3) | {"finish_reason": "stop"},
        message("n1", "agent_1", 1, RIGHT, True, pid="p2", seq=0) | {"finish_reason": "stop"},
        message("n2", "agent_1", 2, RIGHT, True, pid="p2", seq=1) | {"finish_reason": None},  # imported: unknown
    ]
    return build_store(path, rows)


def test_rsft_and_da_keep_only_finished_committed_answers(tmp_path):
    with _sft_store(tmp_path / "s.duckdb") as store:
        rows, summary = prepare(store, ExportConfig(kind="rsft"))
        assert list(rows["message_id"]) == ["n2"]  # p1's last round is one cut-off and one bare answer
        assert summary.dropped == {DROP_TRUNCATED: 1, DROP_NO_ANSWER: 1}
        rows, summary = prepare(store, ExportConfig(kind="rsft", require_finished=False, require_explicit_answer=False))
        assert list(rows["message_id"]) == ["m3", "n2"] and summary.dropped == {}
        # The cut-off message has no explicit answer either: the second rule alone drops it too.
        rows, summary = prepare(store, ExportConfig(kind="rsft", require_finished=False))
        assert list(rows["message_id"]) == ["n2"] and summary.dropped == {DROP_NO_ANSWER: 2}

        rows, summary = prepare(store, ExportConfig(kind="da"))
        assert sorted(rows["message_id"]) == ["m2", "n2"] and summary.dropped == {DROP_TRUNCATED: 1, DROP_NO_ANSWER: 1}
        rows, summary = prepare(store, ExportConfig(kind="da", require_finished=False, require_explicit_answer=False))
        assert sorted(rows["message_id"]) == ["m2", "m3", "m4", "n2"] and summary.dropped == {}


def test_cli_sft_export_prints_what_each_rule_dropped(tmp_path, capsys):
    _sft_store(tmp_path / "home" / "agentark.duckdb").close()
    assert main(["export", "da", "--out", str(tmp_path / "da.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "2 rows" in out and f"dropped 1 message(s): {DROP_TRUNCATED}" in out
    assert f"dropped 1 message(s): {DROP_NO_ANSWER}" in out
    assert main(["export", "da", "--keep-truncated", "--keep-implicit", "--out", str(tmp_path / "all.jsonl")]) == 0
    assert "4 rows" in capsys.readouterr().out


@pytest.mark.parametrize("threshold", [-0.1, 1.0])
def test_balance_threshold_is_checked(threshold):
    from agentark.errors import ConfigError

    with pytest.raises(ConfigError, match="balance_threshold"):
        ExportConfig(balance_threshold=threshold)


def test_transcript_file_is_curated_like_its_preview(tmp_path):
    from agentark.runs.curation import Mark, add_marks

    with _known_debates(tmp_path / "s.duckdb") as store:
        add_marks(store, [Mark("r1", "p2", "exclude"), Mark("r1", "p1", "exclude", message_id="m3")])
        cfg = ExportConfig(kind="transcripts")
        preview = prepare(store, cfg)[0]
        result = export(store, cfg, tmp_path / "t.jsonl")
        written = [json.loads(line)["message_id"] for line in result.path.read_text().splitlines()]
        assert written == list(preview["message_id"]) == ["m1", "m2", "m4"]


def test_maslab_and_prm800k_imports_keep_the_reference_solution(tmp_path):
    from agentark.labels.step_import import import_steps

    maslab = tmp_path / "maslab.jsonl"
    maslab.write_text(json.dumps({"query": "Ben has 3 bags of 4 apples and eats 2. How many are left?", "gt": SOLUTION,
                                  "response": "===== Solution 1 =====\n" + WRONG_SECOND}) + "\n")
    prm = tmp_path / "prm800k.jsonl"
    prm.write_text(json.dumps({"question": {"problem": "What is 2 + 3 * 4?", "ground_truth_answer": "14",
                                            "ground_truth_solution": "3 * 4 = 12, and 2 + 12 = 14."},
                               "label": {"steps": [{"completions": [{"text": "2 + 12 = 14.", "rating": 1}],
                                                    "chosen_completion": 0}]}}) + "\n")
    with Store(tmp_path / "s.duckdb") as store:
        run_id = import_file(store, "maslab", maslab).run_id
        import_steps(store, prm, "prm800k")
        solutions = {r.question[:5]: json.loads(r.meta_json).get("solution") for r in store.df("SELECT * FROM problems").itertuples()}
        assert solutions == {"Ben h": SOLUTION, "What ": "3 * 4 = 12, and 2 + 12 = 14."}
        segment_runs(store, [run_id], SegmentConfig())
        run_auto_labelers(store, AutoLabelConfig(run_ids=[run_id], sources=["auto:outcome"]))
        assert list(q.labels_in_force(store, [run_id])["value"]) == [-1.0]
