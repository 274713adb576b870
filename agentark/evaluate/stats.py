"""The statistics behind evaluation and comparison, each a thin call into scipy or numpy.

Design decision: nothing here is hand-rolled. The accuracy interval is scipy's percentile bootstrap with a
fixed seed (so a page, the CLI and the HTML report print the very same interval for the same run), the
paired test is McNemar's exact test written as the binomial test scipy provides, and latency percentiles
are numpy's linear-interpolation percentiles. A paired comparison is decided once, by ``paired_verdict``:
its exact interval and its exact test agree by construction, and it says when too few problems differ to
decide at all (docs/evaluate.md, "One rule for paired decisions").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as sps

from agentark.evaluate.eval_config import CONFIDENCE

RESAMPLES = 2000
SEED = 0


def bootstrap_ci(values: Sequence[float], confidence: float = CONFIDENCE, n_resamples: int = RESAMPLES,
                 seed: int = SEED) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of ``values`` (0/1 correctness gives accuracy's interval).

    Fewer than two values have no interval: (nan, nan).
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return math.nan, math.nan
    result = sps.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
                           method="percentile", rng=seed)
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


@dataclass(frozen=True)
class McNemar:
    """A paired comparison of system B against system A on the problems both answered.

    ``fixed``: A wrong, B right; ``broken``: A right, B wrong; the exact two-sided p-value tests whether B
    fixes and breaks equally often (a binomial test on the discordant pairs).
    """

    shared: int
    both_right: int
    both_wrong: int
    fixed: int
    broken: int
    p_value: float


def mcnemar_exact(a_correct: Sequence[bool], b_correct: Sequence[bool]) -> McNemar:
    """McNemar's exact test on paired correctness (same problems, same order)."""
    a = np.asarray(a_correct, dtype=bool)
    b = np.asarray(b_correct, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired correctness needs equal lengths (got {a.size} and {b.size})")
    fixed = int(np.sum(~a & b))
    broken = int(np.sum(a & ~b))
    discordant = fixed + broken
    p_value = 1.0 if discordant == 0 else float(sps.binomtest(fixed, discordant, 0.5).pvalue)
    return McNemar(shared=int(a.size), both_right=int(np.sum(a & b)), both_wrong=int(np.sum(~a & ~b)),
                   fixed=fixed, broken=broken, p_value=p_value)


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 95, 99)) -> list[float]:
    """Linear-interpolation percentiles; nan for each when there are no values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return [math.nan for _ in qs]
    return [float(v) for v in np.percentile(x, list(qs))]


BETTER, WORSE, NO_DIFFERENCE, TOO_FEW = "better", "worse", "cannot tell", "too few discordant pairs"


@dataclass(frozen=True)
class PairedVerdict:
    """B against A on the same problems, decided by one rule that the interval and the test share.

    ``difference`` is B's mean score minus A's per problem; ``low``/``high`` its exact interval (None when
    there are too few discordant problems to decide at ``confidence``); ``p_value`` the exact two-sided
    sign test on the problems where they differ (McNemar's exact test for 0/1 correctness); ``verdict`` one
    of ``BETTER``, ``WORSE``, ``NO_DIFFERENCE`` ("cannot tell": the interval holds zero) or ``TOO_FEW``.
    """

    shared: int
    up: int
    down: int
    difference: float
    low: float | None
    high: float | None
    p_value: float
    confidence: float
    verdict: str
    needed: int
    test: str = "McNemar exact"

    @property
    def decided(self) -> bool:
        return self.verdict in (BETTER, WORSE)

    def describe(self, unit: float = 100.0, label: str = "points") -> str:
        """One line: the difference, and the interval or why there is none."""
        diff = "—" if math.isnan(self.difference) else f"{self.difference * unit:+.1f} {label}"
        if self.low is None or self.high is None:
            return (f"{diff}, {self.verdict}: {self.up + self.down} problems differ, at least {self.needed} "
                    f"needed to decide at {self.confidence:.0%} ({self.test} p = {self.p_value:.3g})")
        return (f"{diff} [{self.confidence:.0%} exact interval {self.low * unit:+.1f}, {self.high * unit:+.1f}], "
                f"{self.test} p = {self.p_value:.3g}: {self.verdict}")


def discordant_needed(confidence: float = CONFIDENCE) -> int:
    """The fewest differing problems with which the exact two-sided sign test can reject at 1 - confidence
    (all of them one way): 2 * 0.5**n must fall below alpha, 6 at 95%."""
    alpha = 1.0 - confidence
    n = 1
    while 2 * 0.5 ** n >= alpha:
        n += 1
    return n


def paired_verdict(a_scores: Sequence[float], b_scores: Sequence[float],
                   confidence: float = CONFIDENCE) -> PairedVerdict:
    """Whether B scores better than A on the same problems (same order): one decision for the test and the
    interval.

    The rule (docs/evaluate.md): only problems where the two differ carry evidence. Of those ``n``, ``up``
    favour B. Given ``n``, ``up`` is binomial; its Clopper–Pearson interval ``[pl, ph]`` at ``confidence``
    and the exact two-sided test of p = 1/2 (McNemar's exact test for 0/1 correctness) are dual: the test
    rejects exactly when 1/2 lies outside the interval. The difference's interval is
    ``n/N * m * (2 [pl, ph] - 1)`` with ``m`` the mean size of the differences (1 for 0/1 correctness), so it
    excludes zero exactly when the test rejects. With fewer differing problems than the test needs to ever
    reject (``discordant_needed``), the verdict is ``TOO_FEW`` and there is no interval.
    """
    a = np.asarray(a_scores, dtype=float)
    b = np.asarray(b_scores, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired scores need equal lengths (got {a.size} and {b.size})")
    diff = b - a
    up, down = int(np.sum(diff > 0)), int(np.sum(diff < 0))
    n = up + down
    needed = discordant_needed(confidence)
    mean = float(diff.mean()) if diff.size else math.nan
    p = 1.0 if n == 0 else float(sps.binomtest(up, n, 0.5).pvalue)
    test = "McNemar exact" if np.isin(np.concatenate([a, b]), (0.0, 1.0)).all() else "exact sign test"
    if n < needed:
        return PairedVerdict(int(diff.size), up, down, mean, None, None, p, confidence, TOO_FEW, needed, test)
    ci = sps.binomtest(up, n, 0.5).proportion_ci(confidence_level=confidence, method="exact")
    size = float(np.abs(diff[diff != 0]).mean())
    scale = n / diff.size * size
    low, high = scale * (2 * ci.low - 1), scale * (2 * ci.high - 1)
    verdict = BETTER if low > 0 else WORSE if high < 0 else NO_DIFFERENCE
    return PairedVerdict(int(diff.size), up, down, mean, float(low), float(high), p, confidence, verdict, needed,
                         test)
