"""Best-of-N with a process reward model: does picking the best-scored sample beat a majority vote?

For a run with k samples per problem (a method whose record draws ``independent_samples``: self_consistency),
the accuracy at N = 1, 2, 4, ... k of
(a) one sample, (b) the majority vote of N samples, and (c) the sample with the best PRM score among N,
for each way of aggregating step scores into one (min, mean, last, product, softmin).

Design decision: the N samples at each N are the first N in sampling order. Samples are independent
draws, so the first N are as random as any N, and the curve is deterministic: the page, the CLI and the
report agree exactly, and a test can build a run whose curve is known. The PRM is anything with the
``StepScorer`` protocol, so tests use a deterministic fake and the studio uses
``agentark.train.prm_scoring.load_prm``.
"""
from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import pandas as pd

from agentark.debate.methods import METHODS, method_of
from agentark.errors import ConfigError
from agentark.evaluate.eval_config import BonConfig
from agentark.grading import is_correct, majority_vote
from agentark.labels.segment import segment
from agentark.options import ConfigBase
from agentark.store import eval_tables as q


def draws_samples(method: str | None) -> bool:
    """Whether a run of ``method`` holds k independent samples per problem, what best-of-N reranks."""
    record = method_of(method)
    return record is not None and record.independent_samples


def sampling_methods() -> list[str]:
    """The methods whose runs best-of-N can rerank, for the words that tell how to make one."""
    return [name for name, m in METHODS.items() if m.independent_samples]


@runtime_checkable
class StepScorer(Protocol):
    """A PRM: for each (question, steps) the probability that each step is good."""

    def score(self, items: list[tuple[str, list[str]]]) -> list[list[float]]: ...


@dataclass
class BonCurve(ConfigBase):
    """Accuracy against N. ``best_of`` maps an aggregation to its curve; all curves align with ``ns``."""

    run_id: str
    k: int
    problems: int
    ns: list[int]
    one_sample: list[float]
    majority: list[float]
    best_of: dict[str, list[float]]

    def frame(self) -> pd.DataFrame:
        """Long form: one row per (N, strategy), for charts and tables."""
        rows = [{"n": n, "strategy": "one sample", "accuracy": a} for n, a in zip(self.ns, self.one_sample)]
        rows += [{"n": n, "strategy": "majority vote", "accuracy": a} for n, a in zip(self.ns, self.majority)]
        rows += [{"n": n, "strategy": f"best PRM ({how})", "accuracy": a}
                 for how, curve in self.best_of.items() for n, a in zip(self.ns, curve)]
        return pd.DataFrame(rows)


def sample_sizes(k: int) -> list[int]:
    """1, 2, 4, ... up to k, and k itself."""
    ns, n = [], 1
    while n < k:
        ns.append(n)
        n *= 2
    return ns + [k]


def curve_from_samples(run_id: str, samples: pd.DataFrame, scores: dict[str, list[float]], cfg: BonConfig) -> BonCurve:
    """The curves from a run's samples (first-round solver messages, in sampling order per problem) and each
    sample's step scores (message id -> scores; a sample without steps or that failed is never picked)."""
    from agentark.train.prm_scoring import aggregate

    groups = [g for _, g in samples.groupby("problem_id", sort=False)]
    k = max((len(g) for g in groups), default=0)
    if k < 2:
        raise ConfigError(
            f"Run {run_id} has {k} sample(s) per problem; best-of-N needs several. Evaluate with "
            f"`python -m agentark eval --method {sampling_methods()[0]} --samples 8 ...` (k samples per problem)."
        )
    ns = sample_sizes(k)
    one = sum(g["is_correct"].astype(bool).mean() for g in groups) / len(groups)
    majority: list[float] = []
    best: dict[str, list[float]] = {how: [] for how in cfg.aggregations}
    agg = {how: {mid: (aggregate(s, how, cfg.temperature) if s else -math.inf) for mid, s in scores.items()}
           for how in cfg.aggregations}
    for n in ns:
        votes = 0
        wins = dict.fromkeys(cfg.aggregations, 0)
        for g in groups:
            first = g.iloc[:n]
            answer, _ = majority_vote(list(first["answer"]))
            votes += bool(answer is not None and is_correct(answer, first.iloc[0]["reference_answer"]))
            for how in cfg.aggregations:
                values = [agg[how].get(mid, -math.inf) if err is None or pd.isna(err) else -math.inf
                          for mid, err in zip(first["message_id"], first["error"])]
                pick = max(range(len(values)), key=lambda i: (values[i], -i))
                wins[how] += bool(first.iloc[pick]["is_correct"])
        majority.append(votes / len(groups))
        for how in cfg.aggregations:
            best[how].append(wins[how] / len(groups))
    return BonCurve(run_id, k, len(groups), ns, [float(one)] * len(ns), majority, best)


def score_samples(samples: pd.DataFrame, scorer: StepScorer, segmenter: str) -> dict[str, list[float]]:
    """Step scores of every sample that has text, in one batched ``scorer.score`` call."""
    ids, items = [], []
    for row in samples.itertuples():
        steps = [s.text for s in segment(row.content or "", segmenter)]
        if steps and (row.error is None or pd.isna(row.error)):
            ids.append(row.message_id)
            items.append((row.question, steps))
    scored = scorer.score(items) if items else []
    return dict(zip(ids, scored))


def best_of_n(store, run_id: str, scorer: StepScorer, cfg: BonConfig | None = None,
              problem_ids: Collection[str] | None = None) -> BonCurve:
    """Best-of-N curves of a stored run with k samples per problem, scored by ``scorer``; on ``problem_ids``
    only when given (in a comparison: the problems every compared run finished, ``Comparison.shared``)."""
    cfg = cfg or BonConfig()
    q.run_rows(store, [run_id])
    samples = q.first_round_samples(store, run_id)
    if problem_ids is not None:
        samples = samples[samples["problem_id"].isin(set(problem_ids))]
    return curve_from_samples(run_id, samples, score_samples(samples, scorer, cfg.segmenter), cfg)
