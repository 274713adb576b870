"""PRM evaluation (ProcessBench), the side-by-side view, its HTML and the self-contained report."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from agentark.errors import ConfigError
from agentark.evaluate.compare import compare
from agentark.evaluate.eval_config import PRMEvalConfig
from agentark.evaluate.prm_eval import best_threshold, evaluate_prm, first_error, processbench, step_auc
from agentark.evaluate.render import heatmap_legend_html, score_colour, steps_html
from agentark.evaluate.report import write_report
from agentark.evaluate.sidebyside import representative, side_by_side
from agentark.labels.human_labels import HumanLabel, add_human_labels
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import Store
from agentark.store import label_tables as label_q
from tests.evalstore import SC_SAMPLES, FakePRM, eval_store  # noqa: F401  (the store fixture)


# -- ProcessBench on hand-built trajectories -----------------------------------------------------------
def test_processbench_accuracies_and_f1_by_hand():
    labels = [[True, False, True], [True, True], [False], [True, True, True]]
    scores = [[0.9, 0.2, 0.8], [0.9, 0.4], [0.6], [0.7, 0.8, 0.9]]
    assert [first_error(g) for g in labels] == [1, -1, 0, -1]
    # erroneous: #1 found at step 1 (right), #3 missed (wrong) -> 1/2; correct: #2 flagged (wrong), #4 right -> 1/2
    assert processbench(labels, scores, 0.5) == (0.5, 0.5, 0.5)
    # at 0.3 nothing in #2 is flagged: correct 2/2, erroneous still 1/2 -> F1 = 2 * 0.5 * 1 / 1.5
    assert processbench(labels, scores, 0.3) == pytest.approx((0.5, 1.0, 2 / 3))
    t, f1 = best_threshold(labels, scores)
    grid = [processbench(labels, scores, x / 100)[2] for x in range(1, 100)]
    assert f1 == pytest.approx(max(grid)) and f1 >= 2 / 3


def test_step_auc_against_pair_counting():
    labels = [[True, True], [False, False]]
    scores = [[0.9, 0.4], [0.5, 0.1]]
    # positives 0.9, 0.4 vs negatives 0.5, 0.1: 3 of 4 pairs ordered right
    assert step_auc(labels, scores) == pytest.approx(0.75)
    assert math.isnan(step_auc([[True]], [[0.3]]))


def _label_sc_run(store: Store) -> None:
    segment_runs(store, ["sc"], SegmentConfig())
    steps = label_q.steps_in_context(store, ["sc"])
    labels = [HumanLabel(r.step_id, 1 if r.is_correct else -1, "kim") for r in steps.itertuples()]
    add_human_labels(store, labels)


def test_prm_eval_on_human_labelled_steps(store):
    _label_sc_run(store)
    result = evaluate_prm(store, "sc", FakePRM(), PRMEvalConfig(threshold=0.5))
    assert (result.trajectories, result.erroneous, result.correct, result.steps) == (16, 8, 8, 32)
    # Wrong samples are flagged at step 0 when their score is below 0.5: 5 of 8; every right sample passes.
    assert result.accuracy_erroneous == pytest.approx(5 / 8) and result.accuracy_correct == 1.0
    assert result.f1 == pytest.approx(10 / 13)
    pos = [s for ans_scores in SC_SAMPLES.values() for a, s in ans_scores if a in ("0", "1", "2", "3")]
    neg = [s for ans_scores in SC_SAMPLES.values() for a, s in ans_scores if a not in ("0", "1", "2", "3")]
    pairs = [(p > n) + 0.5 * (p == n) for p in pos for n in neg]
    assert result.step_auc == pytest.approx(sum(pairs) / len(pairs))
    assert result.best_f1 >= result.f1
    assert result.to_dict()["f1"] == pytest.approx(10 / 13)


def test_prm_eval_without_labelled_steps_names_the_fix(store):
    with pytest.raises(ConfigError, match="no trajectory whose every step.*Label steps"):
        evaluate_prm(store, "student", FakePRM())
    with pytest.raises(ConfigError, match="threshold"):
        PRMEvalConfig(threshold=1.5)


# -- side by side -----------------------------------------------------------------------------------------
def test_representative_prefers_the_decider_then_an_agreeing_final_round_solver():
    rows = pd.DataFrame([
        {"seq": 0, "agent": "agent_1", "round": 1, "role": "solver", "answer": "4", "content": "a"},
        {"seq": 1, "agent": "agent_2", "round": 2, "role": "solver", "answer": "5", "content": "b"},
        {"seq": 2, "agent": "agent_1", "round": 2, "role": "solver", "answer": "4", "content": "c"},
    ])
    assert representative(rows, "4")["content"] == "c"
    assert representative(rows, "9")["content"] == "b"
    judge = pd.concat([rows, pd.DataFrame([{"seq": 3, "agent": "judge", "round": 2, "role": "judge",
                                            "answer": "5", "content": "d"}])])
    assert representative(judge, "5")["content"] == "d"


def test_side_by_side_with_prm_scores_markers_and_viewer_links(store):
    view = side_by_side(store, ["teacher", "student"], "P10", FakePRM())
    teacher, student = view.systems
    assert view.reference_answer == "10" and teacher.is_correct and not student.is_correct
    assert [s.score for s in student.steps] == [0.5, 0.5]
    assert [m.name for m in student.markers] == ["wait", "re-check"]
    assert teacher.viewer_link == "/transcript?run=teacher&problem=P10"
    shown = steps_html(student)
    assert shown.count('class="prm-step"') == 2 and shown.count('class="selfcorr"') == 2
    assert 'data-score="0.50"' in shown
    unscored = side_by_side(store, ["teacher", "student"], "P10")
    assert all(s.score is None for s in unscored.systems[0].steps)


def test_legend_is_drawn_from_the_tint_scale():
    legend = heatmap_legend_html()
    assert score_colour(0.0, 0.9) in legend and score_colour(1.0, 0.9) in legend
    assert score_colour(0.0) != score_colour(1.0) and score_colour(None) == "#eef0f3"


# -- report ------------------------------------------------------------------------------------------------
def test_html_report_is_self_contained_with_the_numbers(store, tmp_path):
    c = compare(store, ["teacher", "student"], roles={"student": "student"})
    path = write_report(c, tmp_path / "report.html")
    text = path.read_text()
    assert "<script src=\"http" not in text and "plotly" in text.lower() and len(text) > 1_000_000
    assert f"{c.pair('student').test.p_value:.4g}" in text
    accuracy_gate, tokens_gate, _ = c.pair("student").gates
    assert f"FAIL</span> {accuracy_gate.text}" in text and f"PASS</span> {tokens_gate.text}" in text
    assert "accuracy 70.0% is 87% of 80.0% (needs ≥ 95%)" == accuracy_gate.text
    assert "[" + f"{c.metric('teacher').ci_low:.1%}" in text
    assert "P16" in text and "not trained by the studio" in text
