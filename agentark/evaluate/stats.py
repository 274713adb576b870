"""The statistics behind evaluation and comparison, each a thin call into scipy or numpy.

Design decision: nothing here is hand-rolled. The accuracy interval is scipy's percentile bootstrap with a
fixed seed (so a page, the CLI and the HTML report print the very same interval for the same run), the
paired test is McNemar's exact test written as the binomial test scipy provides, and latency percentiles
are numpy's linear-interpolation percentiles.
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


def paired_lift_ci(a_correct: Sequence[bool], b_correct: Sequence[bool], confidence: float = CONFIDENCE,
                   n_resamples: int = RESAMPLES, seed: int = SEED) -> tuple[float, float, float]:
    """B's accuracy lift over A on the same problems (mean of b - a per problem) and its percentile-bootstrap
    interval, resampling problems so the pairing is kept; (nan, nan, nan) without problems."""
    a = np.asarray(a_correct, dtype=float)
    b = np.asarray(b_correct, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired correctness needs equal lengths (got {a.size} and {b.size})")
    if a.size == 0:
        return math.nan, math.nan, math.nan
    diff = b - a
    if np.all(diff == diff[0]):
        # Every resample has the same mean; scipy's bootstrap refuses a degenerate sample.
        return float(diff[0]), float(diff[0]), float(diff[0])
    low, high = bootstrap_ci(diff, confidence, n_resamples, seed)
    return float(diff.mean()), low, high
