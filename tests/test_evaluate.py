"""Evaluation statistics, markers, per-run metrics and comparisons on a store with known contents."""
from __future__ import annotations

import math

import numpy as np
import pytest

from agentark.errors import ConfigError
from agentark.evaluate import stats
from agentark.evaluate.compare import compare
from agentark.evaluate.eval_config import CompareConfig
from agentark.evaluate.markers import MARKERS, find_markers, self_corrects
from agentark.evaluate.render import highlight_html
from agentark.evaluate.metrics import run_metrics
from tests.evalstore import eval_store  # noqa: F401  (the store fixture)


# -- statistics ------------------------------------------------------------------------------------------
def test_bootstrap_interval_matches_the_normal_approximation_and_is_reproducible():
    x = [1] * 30 + [0] * 10
    low, high = stats.bootstrap_ci(x)
    half = 1.96 * math.sqrt(0.75 * 0.25 / 40)  # Wald interval by hand: 0.75 +- 0.134
    assert low == pytest.approx(0.75 - half, abs=0.03) and high == pytest.approx(0.75 + half, abs=0.03)
    assert stats.bootstrap_ci(x) == (low, high)
    assert stats.bootstrap_ci([1, 1, 1]) == (1.0, 1.0)
    assert all(math.isnan(v) for v in stats.bootstrap_ci([1]))


def test_mcnemar_exact_against_hand_computed_binomial_tails():
    # 1 fixed, 5 broken: p = 2 * (C(6,0) + C(6,1)) / 2^6 = 14/64
    a = [True] * 5 + [False] + [True, False]
    b = [False] * 5 + [True] + [True, False]
    t = stats.mcnemar_exact(a, b)
    assert (t.fixed, t.broken, t.both_right, t.both_wrong, t.shared) == (1, 5, 1, 1, 8)
    assert t.p_value == pytest.approx(14 / 64)
    assert stats.mcnemar_exact([True, False], [True, False]).p_value == 1.0


def test_percentiles_are_linear_interpolation():
    assert stats.percentiles(range(1, 21)) == pytest.approx([10.5, 19.05, 19.81])


# -- self-correction markers ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, name", [
    ("Wait, that's not it.", "wait"),
    ("Hmm, wait a second.", "wait"),
    ("Actually the total is 12.", "actually"),
    ("Let me re-check the sum.", "re-check"),
    ("Let me double-check: 3 + 4 = 7.", "re-check"),
    ("Let me recalculate.", "reconsider"),
    ("I made a mistake in step 2.", "mistake"),
    ("That is wrong, 4 * 3 = 12.", "wrong-step"),
    ("Oops, 7 not 8.", "oops"),
])
def test_each_marker_matches_its_phrase(text, name):
    assert [m.name for m in find_markers(text)] == [name]
    assert self_corrects(text)


@pytest.mark.parametrize("text", [
    "We wait 5 minutes for the bus.", "The actual cost is 12.", "Let me add them: 3 + 4 = 7.",
    "The waiter brings 3 plates.", "",
])
def test_ordinary_text_has_no_marker(text):
    assert find_markers(text) == [] and not self_corrects(text)


def test_markers_are_highlighted_in_escaped_html():
    shown = highlight_html("a < b. Wait, actually no.")
    assert "a &lt; b." in shown
    assert shown.count('<mark class="selfcorr"') == 2
    assert set(MARKERS) >= {"wait", "actually", "re-check", "mistake"}


# -- per-run metrics -------------------------------------------------------------------------------------
def test_run_metrics_on_known_runs(store):
    teacher, student = run_metrics(store, ["teacher", "student"], CompareConfig(prices=["teacher-model=0.15,0.60"]))
    assert teacher.problems == 20 and teacher.accuracy == pytest.approx(0.8)
    assert (teacher.ci_low, teacher.ci_high) == stats.bootstrap_ci([1] * 16 + [0] * 4)
    assert teacher.ci_low < 0.8 < teacher.ci_high
    assert (teacher.prompt_tokens_per_problem, teacher.completion_tokens_per_problem) == (300, 200)
    assert teacher.tokens_per_problem == 500 and teacher.engine_calls_per_problem == 3
    assert [teacher.latency_p50_s, teacher.latency_p95_s, teacher.latency_p99_s] == pytest.approx([10.5, 19.05, 19.81])
    assert teacher.cost_per_1k_usd == pytest.approx((300 * 0.15 + 200 * 0.60) / 1e6 * 1000)
    assert teacher.price_source == "set for model teacher-model"
    assert math.isnan(student.cost_per_1k_usd) and student.price_source == "no price known"  # no engine recorded
    assert teacher.parse_rate == pytest.approx(19 / 20) and teacher.self_correction_rate == 0
    assert student.accuracy == pytest.approx(0.7) and student.tokens_per_problem == 150
    assert student.self_correction_rate == pytest.approx(2 / 20) and student.parse_rate == 1.0
    assert student.latency_p95_s == pytest.approx(0.5)


# -- comparison -----------------------------------------------------------------------------------------
def test_compare_counts_mcnemar_and_gates(store):
    c = compare(store, ["teacher", "student"], roles={"student": "student"})
    assert c.roles == {"teacher": "teacher", "student": "student"}
    pair = c.pair("student")
    assert (pair.reference, pair.kind) == ("teacher", "distillation")
    assert (pair.test.fixed, pair.test.broken, pair.test.both_right, pair.test.both_wrong) == (4, 6, 10, 0)
    assert pair.test.p_value == pytest.approx(772 / 1024)  # 2 * sum_{k<=4} C(10, k) / 2^10
    discordant = stats.mcnemar_exact([True] * 6 + [False] * 4, [False] * 6 + [True] * 4)
    assert pair.test.p_value == pytest.approx(discordant.p_value)
    by_name = {g.name: g for g in pair.gates}
    assert not by_name["accuracy"].passed and by_name["accuracy"].value == pytest.approx(0.7 / 0.8)
    assert by_name["tokens"].passed and by_name["tokens"].value == pytest.approx(150 / 500)
    assert by_name["latency"].passed and by_name["latency"].value == pytest.approx(0.5)
    assert not pair.passed
    assert compare(store, ["teacher", "student"], CompareConfig(min_accuracy_ratio=0.85),
                   {"student": "student"}).pair("student").passed
    assert list(c.differences("student", ["fixed"])["problem_id"]) == ["P16", "P17", "P18", "P19"]
    assert list(c.differences("student", ["broken"])["problem_id"]) == [f"P{i}" for i in range(10, 16)]
    assert len(c.differences("student", ["both right"])) == 10
    data = c.to_json()
    assert data["pairs"][0]["fixed"] == 4 and data["metrics"][0]["accuracy"] == pytest.approx(0.8)
    assert len(data["problems"]) == 20


def test_runs_sharing_no_problems_are_refused_with_the_fix(store):
    with pytest.raises(ConfigError, match="share no finished problems.*same dataset, split and seed"):
        compare(store, ["teacher", "elsewhere"])
    with pytest.raises(ConfigError, match="two or more runs"):
        compare(store, ["teacher"])


def test_compare_config_validation_names_the_fix():
    with pytest.raises(ConfigError, match="e.g. 0.95"):
        CompareConfig(min_accuracy_ratio=0)
    with pytest.raises(ConfigError, match="above 0"):
        CompareConfig(max_p95_latency_s=-1)
    with pytest.raises(ConfigError, match="negative"):
        CompareConfig(prompt_usd_per_mtok=-1, completion_usd_per_mtok=0)
    with pytest.raises(ConfigError, match="Set both"):
        CompareConfig(prompt_usd_per_mtok=1)
    with pytest.raises(ConfigError, match="gpt-4o-mini=0.15,0.60"):
        CompareConfig(prices=["gpt-4o-mini"])


def test_mcnemar_counts_only_shared_problems(store):
    # sc ran P00..P03 only: the pair with the teacher is on those four.
    pair = compare(store, ["teacher", "sc"]).pair("sc")
    assert pair.test.shared == 4
    assert np.isclose(pair.test.p_value, stats.mcnemar_exact([True] * 4, [True, False, False, True]).p_value)


def test_three_runs_compare_on_the_problems_all_of_them_finished(store):
    import json

    c = compare(store, ["teacher", "student", "sc"], roles={"student": "student"})
    assert [(p.candidate, p.reference) for p in c.pairs] == [("student", "teacher"), ("student", "sc")]
    assert c.shared == ["P00", "P01", "P02", "P03"] and c.problems == 4
    assert {p.test.shared for p in c.pairs} == {4}
    assert [m.problems for m in c.metrics] == [4, 4, 4] and [m.problems for m in c.full_metrics] == [20, 20, 4]
    data = json.loads(json.dumps(c.to_json(), allow_nan=False))  # no default=: every value is plain JSON
    assert [r["problem_id"] for r in data["problems"]] == c.shared and data["shared_problems"] == 4
