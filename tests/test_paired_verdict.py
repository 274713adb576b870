"""Issue 30: gates and study tables decide paired comparisons by one rule that the interval and the test share
(``stats.paired_verdict``), and say so when too few problems differ to decide."""
from __future__ import annotations

import random

import pytest

from agentark.evaluate import stats
from agentark.evaluate.compare import CompareConfig, lift_gate
from agentark.studies.study_report import Paired, _paired_interval

pytestmark = pytest.mark.timeout(60)


def test_gate_with_four_discordant_pairs_is_neither_pass_nor_fail():
    # The case: +20 points from 4 problems that B fixed and none it broke, McNemar exact p = 0.125.
    base = [False] * 20
    cand = [True] * 4 + [False] * 16
    verdict = stats.paired_verdict(base, cand)
    assert verdict.verdict == stats.TOO_FEW and verdict.low is None and verdict.high is None
    assert verdict.p_value == pytest.approx(0.125)
    gate = lift_gate(verdict, CompareConfig())
    assert gate.passed is None
    assert "PASS" not in gate.text and "too few discordant pairs" in gate.text and "[" not in gate.text
    assert "at least 6 needed" in gate.text


def test_interval_and_test_agree_on_every_decided_comparison():
    rng = random.Random(3)
    for _ in range(400):
        n = rng.randint(6, 80)
        a = [rng.random() < 0.5 for _ in range(n)]
        b = [rng.random() < rng.choice((0.3, 0.5, 0.7)) for _ in range(n)]
        v = stats.paired_verdict(a, b)
        assert v.p_value == pytest.approx(stats.mcnemar_exact(a, b).p_value)
        if v.low is None:
            continue
        rejects = v.p_value < 1 - v.confidence
        assert rejects == (v.low > 0 or v.high < 0)
        assert v.verdict == (stats.BETTER if v.low > 0 else stats.WORSE if v.high < 0 else stats.NO_DIFFERENCE)


def test_a_clear_lift_passes_with_its_exact_interval():
    verdict = stats.paired_verdict([False] * 10, [True] * 8 + [False] * 2)
    gate = lift_gate(verdict, CompareConfig())
    assert verdict.verdict == stats.BETTER and gate.passed is True and "exact interval" in gate.text


def test_study_table_shows_too_few_instead_of_an_interval():
    # "−31.2 [−56.2, −6.2], p 0.125" was a bootstrap interval that excluded zero beside a test that did not reject.
    v = stats.paired_verdict([1.0] * 4 + [0.0] * 12, [0.0] * 16)
    paired = Paired("base", 16, v.difference, v.low, v.high, v.p_value, v.verdict)
    assert _paired_interval(paired) == stats.TOO_FEW


def test_discordant_needed_follows_the_level():
    assert stats.discordant_needed(0.95) == 6
    assert stats.discordant_needed(0.99) == 8
