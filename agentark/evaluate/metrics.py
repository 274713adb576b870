"""Per-run evaluation numbers: accuracy with its bootstrap interval, cost, latency, parsing, self-correction.

Design decision: the numbers are computed by pure functions over plain frames (the run's outcomes and its
answer-bearing messages), and ``run_metrics`` only fetches those frames from the store. The page, the CLI
and the HTML report therefore print one computation, and tests check it on hand-built frames.

Latency is what the store records per problem: ``outcomes.wall_ms``, the problem's share of the engine
calls that served it (each call's wall time split equally over the requests it served), so a run's problems
add up to its engine time and runs with different batch sizes compare.
"""
from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import asdict, dataclass, field

import pandas as pd

from agentark.evaluate import stats
from agentark.evaluate.eval_config import CONFIDENCE, Pricing, price_for
from agentark.evaluate.markers import self_corrects
from agentark.store import eval_tables as q

ANSWER_ROLES = ("solver", "aggregator", "judge")


@dataclass
class RunMetrics:
    """One run's numbers. Per-problem figures are means over the run's finished problems."""

    run_id: str
    method: str | None
    model: str | None
    dataset: str | None
    problems: int
    accuracy: float
    ci_low: float
    ci_high: float
    prompt_tokens_per_problem: float
    completion_tokens_per_problem: float
    tokens_per_problem: float
    engine_calls_per_problem: float
    latency_p50_s: float
    latency_p95_s: float
    latency_p99_s: float
    cost_per_1k_usd: float
    parse_rate: float
    self_correction_rate: float
    answers: int = 0
    config: dict = field(default_factory=dict)
    # What grading could not decide: answer messages cut off before stating an answer and ones whose final
    # names alternatives (both count wrong), and finished problems decided by a tied vote.
    cut_off: int = 0
    ambiguous: int = 0
    ties: int = 0
    price_source: str = "unknown"

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def _recorded_mean(outcomes: pd.DataFrame, col: str) -> float:
    """The mean of a per-problem count, or NaN unless every problem recorded it: a run imported without token
    counts has unknown cost, which a 0 would hide (and a ratio against it would make infinite)."""
    if not len(outcomes) or col not in outcomes or outcomes[col].isna().any():
        return math.nan
    return float(outcomes[col].astype(float).mean())


def metrics_from_frames(run: dict, outcomes: pd.DataFrame, messages: pd.DataFrame, pricing: Pricing | None = None,
                        confidence: float = CONFIDENCE) -> RunMetrics:
    """Numbers of one run from its outcomes (one row per finished problem) and its answer messages.

    ``parse_rate`` is the share of answer-bearing messages (solver, aggregator and judge turns that did not
    fail) that state their answer explicitly (``answer_kind`` "explicit"; a message graded before answer kinds
    were recorded counts when an answer was extracted); a last number read from a finished reply, a cut-off
    reply or an ambiguous final does not count; ``self_correction_rate`` the share of those messages with a
    self-correction marker (``agentark.evaluate.markers``). ``pricing`` None: the price of the run's engine or
    model (``price_for``; 0 for local engines); the cost is NaN when no price is known or tokens were not
    recorded.
    """
    config = run.get("config") if isinstance(run.get("config"), dict) else json.loads(run.get("config_json") or "{}")
    if pricing is None:
        pricing = price_for(config.get("engine"), config.get("model") or run.get("model"))
    n = len(outcomes)
    correct = outcomes["is_correct"].fillna(False).astype(bool).to_numpy() if n else []
    low, high = stats.bootstrap_ci(correct, confidence=confidence)
    mean = (lambda col: _recorded_mean(outcomes, col)) if n else (lambda col: math.nan)
    p50, p95, p99 = stats.percentiles(outcomes["wall_ms"].astype(float) / 1000 if n else [])
    answers = messages[messages["role"].isin(ANSWER_ROLES) & messages["error"].isna()] if len(messages) else messages
    n_answers = len(answers)
    prompt, completion = mean("prompt_tokens"), mean("completion_tokens")
    # A run row read from a frame has NaN, not None, where no model was recorded (a maslab file without one).
    model = run.get("model") if isinstance(run.get("model"), str) else None
    return RunMetrics(
        run_id=run["run_id"], method=run.get("method"), model=model, dataset=run.get("dataset"),
        problems=n, accuracy=float(correct.mean()) if n else math.nan, ci_low=low, ci_high=high,
        prompt_tokens_per_problem=prompt, completion_tokens_per_problem=completion,
        tokens_per_problem=prompt + completion, engine_calls_per_problem=mean("engine_calls"),
        latency_p50_s=p50, latency_p95_s=p95, latency_p99_s=p99,
        cost_per_1k_usd=1000 * pricing.cost(prompt, completion) if n and pricing is not None else math.nan,
        parse_rate=float(_explicit(answers).mean()) if n_answers else math.nan,
        self_correction_rate=float(answers["content"].map(self_corrects).mean()) if n_answers else math.nan,
        answers=n_answers, config=config, price_source=pricing.source if pricing is not None else "no price known",
        cut_off=_kind_count(answers, "cut_off"), ambiguous=_kind_count(answers, "ambiguous"),
        ties=int(outcomes["vote_tie"].fillna(False).astype(bool).sum()) if n and "vote_tie" in outcomes else 0,
    )


def _explicit(answers: pd.DataFrame) -> pd.Series:
    """Per message: whether it states its answer explicitly (ungraded rows: whether it has an answer)."""
    if "answer_kind" not in answers:
        return answers["answer"].notna()
    kind = answers["answer_kind"]
    return kind.eq("explicit").where(kind.notna(), answers["answer"].notna()).astype(bool)


def _kind_count(answers: pd.DataFrame, kind: str) -> int:
    return int(answers["answer_kind"].eq(kind).sum()) if "answer_kind" in answers and len(answers) else 0


def run_metrics(store, run_ids: list[str], pricing=None, confidence: float = CONFIDENCE,
                problem_ids: Collection[str] | None = None) -> list[RunMetrics]:
    """``metrics_from_frames`` for each run, in the order given; on ``problem_ids`` only when given (the
    problems every compared run finished). ``pricing``: one ``Pricing`` for every run, anything with
    ``price_for(engine, model)`` (a ``CompareConfig``), or None for each run's own price."""
    runs = q.run_rows(store, run_ids)
    outcomes = q.outcome_rows(store, run_ids)
    messages = q.answer_messages(store, run_ids)
    if problem_ids is not None:
        keep = set(problem_ids)
        outcomes = outcomes[outcomes["problem_id"].isin(keep)]
        messages = messages[messages["problem_id"].isin(keep)]
    out = []
    for run_id in run_ids:
        run = runs[run_id]
        price = pricing
        if hasattr(pricing, "price_for"):
            price = pricing.price_for(run["config"].get("engine"), run["config"].get("model") or run.get("model"))
        out.append(metrics_from_frames(run, outcomes[outcomes["run_id"] == run_id],
                                       messages[messages["run_id"] == run_id], price, confidence))
    return out
