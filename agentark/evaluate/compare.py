"""Comparing runs on shared problems: accuracy with intervals, McNemar's exact test, gates, differences.

Design decision: the first run named is the reference (typically the teacher: a debate, or the base
model) and every other run is a candidate compared with it, pair by pair, on the problems both finished.
``compare`` returns one ``Comparison``; the Compare page, ``python -m agentark compare`` and the HTML
report all render that object, so their numbers cannot differ.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from agentark.errors import ConfigError
from agentark.evaluate import stats
from agentark.evaluate.eval_config import CompareConfig
from agentark.evaluate.metrics import RunMetrics, run_metrics
from agentark.evaluate.lineage import Provenance, provenance
from agentark.store import eval_tables as q

STATUSES = ("fixed", "broken", "both wrong", "both right")


@dataclass
class Gate:
    """One gate for one candidate: its value, the limit it is held to, and whether it passes."""

    name: str
    passed: bool
    value: float
    limit: float
    text: str


@dataclass
class Pair:
    """A candidate against the reference on the problems both finished."""

    reference: str
    candidate: str
    test: stats.McNemar
    gates: list[Gate]

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


@dataclass
class Comparison:
    run_ids: list[str]
    config: CompareConfig
    metrics: list[RunMetrics]
    pairs: list[Pair]
    table: pd.DataFrame
    provenance: dict[str, Provenance] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        return self.run_ids[0]

    def metric(self, run_id: str) -> RunMetrics:
        return next(m for m in self.metrics if m.run_id == run_id)

    def pair(self, candidate: str) -> Pair:
        return next(p for p in self.pairs if p.candidate == candidate)

    def differences(self, candidate: str, statuses: tuple[str, ...] | list[str] = ("fixed", "broken")) -> pd.DataFrame:
        """Rows of the per-problem table whose status for ``candidate`` is one of ``statuses``, in run order."""
        col = f"status:{candidate}"
        return self.table[self.table[col].isin(list(statuses))].reset_index(drop=True)

    def to_json(self) -> dict:
        return {
            "runs": self.run_ids,
            "reference": self.reference,
            "config": self.config.to_dict(),
            "metrics": [m.to_dict() for m in self.metrics],
            "pairs": [{"reference": p.reference, "candidate": p.candidate, **asdict(p.test),
                       "gates": [asdict(g) for g in p.gates], "passed": p.passed} for p in self.pairs],
            "provenance": {k: v.to_dict() for k, v in self.provenance.items()},
            "problems": [{k: (None if pd.api.types.is_scalar(v) and pd.isna(v) else v) for k, v in r.items()}
                         for r in self.table.to_dict("records")],
        }


def status(reference_right: bool, candidate_right: bool) -> str:
    if reference_right and candidate_right:
        return "both right"
    if reference_right:
        return "broken"
    return "fixed" if candidate_right else "both wrong"


def gates(ref: RunMetrics, cand: RunMetrics, cfg: CompareConfig) -> list[Gate]:
    """The three rollout gates of a candidate against the reference, each with its numbers."""
    acc_ratio = cand.accuracy / ref.accuracy if ref.accuracy else (math.inf if cand.accuracy else 1.0)
    tok_ratio = cand.tokens_per_problem / ref.tokens_per_problem if ref.tokens_per_problem else math.inf
    p95 = cand.latency_p95_s
    return [
        Gate("accuracy", bool(acc_ratio >= cfg.min_accuracy_ratio), acc_ratio, cfg.min_accuracy_ratio,
             f"accuracy {cand.accuracy:.1%} is {acc_ratio:.0%} of {ref.accuracy:.1%} "
             f"(needs ≥ {cfg.min_accuracy_ratio:.0%})"),
        Gate("tokens", bool(tok_ratio <= cfg.max_token_ratio), tok_ratio, cfg.max_token_ratio,
             f"{cand.tokens_per_problem:,.0f} tokens/problem is {tok_ratio:.0%} of {ref.tokens_per_problem:,.0f} "
             f"(needs ≤ {cfg.max_token_ratio:.0%})"),
        Gate("latency", bool(p95 < cfg.max_p95_latency_s), p95, cfg.max_p95_latency_s,
             f"p95 latency {p95:.2f} s per problem (needs < {cfg.max_p95_latency_s:g} s)"),
    ]


def problem_table(outcomes: pd.DataFrame, run_ids: list[str]) -> pd.DataFrame:
    """One row per problem finished by the reference and at least one candidate: each run's answer and
    correctness, and per candidate its status against the reference (NaN where it did not finish)."""
    ref = run_ids[0]
    base = outcomes[outcomes["run_id"] == ref][["problem_id", "idx", "question", "reference_answer"]]
    table = base.drop_duplicates("problem_id").set_index("problem_id")
    for run_id in run_ids:
        mine = outcomes[outcomes["run_id"] == run_id].set_index("problem_id")
        table[f"answer:{run_id}"] = mine["final_answer"]
        table[f"correct:{run_id}"] = mine["is_correct"].astype("boolean")
    for cand in run_ids[1:]:
        both = table[f"correct:{ref}"].notna() & table[f"correct:{cand}"].notna()
        table[f"status:{cand}"] = [status(bool(r), bool(c)) if ok else None for r, c, ok in
                                   zip(table[f"correct:{ref}"], table[f"correct:{cand}"], both)]
    shared_any = table[[f"status:{c}" for c in run_ids[1:]]].notna().any(axis=1)
    return table[shared_any].sort_values("idx").reset_index()


def compare(store, run_ids: list[str], cfg: CompareConfig | None = None) -> Comparison:
    """Compare runs: the first is the reference, each other run is tested against it on shared problems."""
    cfg = cfg or CompareConfig()
    run_ids = list(dict.fromkeys(run_ids))
    if len(run_ids) < 2:
        raise ConfigError("Compare needs two or more runs: the reference first, e.g. `compare TEACHER STUDENT`.")
    metrics = run_metrics(store, run_ids, cfg.pricing(), cfg.confidence)
    outcomes = q.outcome_rows(store, run_ids)
    table = problem_table(outcomes, run_ids)
    pairs = []
    ref = metrics[0]
    for cand in metrics[1:]:
        col = f"status:{cand.run_id}"
        shared = table[table[col].notna()]
        if shared.empty:
            raise ConfigError(
                f"Runs {ref.run_id} and {cand.run_id} share no finished problems, so they cannot be compared. "
                f"Evaluate both on the same dataset, split and seed (`python -m agentark eval --dataset "
                f"{ref.dataset} ...`), or wait until both have finished problems."
            )
        test = stats.mcnemar_exact(shared[f"correct:{ref.run_id}"].astype(bool),
                                   shared[f"correct:{cand.run_id}"].astype(bool))
        pairs.append(Pair(ref.run_id, cand.run_id, test, gates(ref, cand, cfg)))
    return Comparison(run_ids, cfg, metrics, pairs, table,
                      {m.run_id: provenance(store, m) for m in metrics})
