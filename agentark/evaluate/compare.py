"""Comparing runs on the problems all of them finished: accuracy with intervals, McNemar's exact test, the
accuracy lift with a paired interval, gates per pair of roles, differences.

Design decision: every figure that relates runs (accuracies side by side, gates, McNemar, lift, cost ratios,
best-of-N in the same comparison) is computed on one problem set: the problems every compared run finished
(``Comparison.shared``), whose count is shown with them. Each run's figure over all its own problems is kept
apart (``full_metrics``) and labelled as such, so a 24-problem base is never set against an 8-problem run.
Runs have roles (teacher, base, student; inferred from the method and the model registry unless given), and
each pair gets the gates that make sense for it: a student against a teacher the distillation gates
(accuracy ratio, token ratio, latency); anything against a base the lift (paired interval and p-value).
``compare`` returns one ``Comparison``; the Compare page, ``python -m agentark compare`` and the HTML report
all render that object, so their numbers cannot differ.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from agentark.debate.methods import method_of
from agentark.errors import ConfigError
from agentark.evaluate import stats
from agentark.evaluate.eval_config import CompareConfig
from agentark.evaluate.metrics import RunMetrics, run_metrics
from agentark.evaluate.lineage import Provenance, provenance
from agentark.store import eval_tables as q

STATUSES = ("fixed", "broken", "both wrong", "both right")
ROLES = ("teacher", "base", "student")
DISTILLATION, LIFT = "distillation", "lift"


@dataclass
class Gate:
    """One gate for one pair: its value, the limit it is held to, and whether it passes (None: it cannot be
    judged, e.g. a run imported without token counts)."""

    name: str
    passed: bool | None
    value: float | None
    limit: float
    text: str


@dataclass
class Pair:
    """A candidate against a reference on the problems every compared run finished. ``kind`` is the gates'
    kind: ``distillation`` (a student against its teacher) or ``lift`` (against a base)."""

    reference: str
    candidate: str
    test: stats.McNemar
    gates: list[Gate]
    kind: str = LIFT
    lift: float = math.nan
    lift_low: float | None = math.nan
    lift_high: float | None = math.nan
    verdict: str = ""

    @property
    def passed(self) -> bool | None:
        """False when a gate fails, None when none fails but one cannot be judged, else True."""
        if any(g.passed is False for g in self.gates):
            return False
        return None if any(g.passed is None for g in self.gates) else True

    @property
    def status_column(self) -> str:
        """The per-problem table's column holding this pair's status (fixed, broken, both right, both wrong)."""
        return f"status:{self.candidate}~{self.reference}"

    @property
    def title(self) -> str:
        return f"{self.candidate} vs {self.reference}"


@dataclass
class Comparison:
    """``metrics``: each run on the ``shared`` problems (what every relating figure uses); ``full_metrics``: each
    run on all its finished problems, shown as such."""

    run_ids: list[str]
    config: CompareConfig
    metrics: list[RunMetrics]
    pairs: list[Pair]
    table: pd.DataFrame
    provenance: dict[str, Provenance] = field(default_factory=dict)
    full_metrics: list[RunMetrics] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    shared: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return self.run_ids[0]

    @property
    def problems(self) -> int:
        """How many problems every relating figure is computed on."""
        return len(self.shared)

    def metric(self, run_id: str) -> RunMetrics:
        return next(m for m in self.metrics if m.run_id == run_id)

    def full_metric(self, run_id: str) -> RunMetrics:
        return next(m for m in self.full_metrics if m.run_id == run_id)

    def pair(self, candidate: str, reference: str | None = None) -> Pair:
        """The pair of ``candidate`` against ``reference`` (its first pair when not given)."""
        return next(p for p in self.pairs if p.candidate == candidate and reference in (None, p.reference))

    def differences(self, candidate: str, statuses: tuple[str, ...] | list[str] = ("fixed", "broken"),
                    reference: str | None = None) -> pd.DataFrame:
        """Rows of the per-problem table whose status for ``candidate`` (against ``reference``, or its first
        pair's reference) is one of ``statuses``, in run order; the pair's status is in column ``status``."""
        col = self.pair(candidate, reference).status_column
        rows = self.table[self.table[col].isin(list(statuses))].reset_index(drop=True)
        return rows.assign(status=rows[col])

    def to_json(self) -> dict:
        """Plain, strict JSON: a missing or undefined number is null (never NaN or Infinity)."""
        return json_safe({
            "runs": self.run_ids,
            "reference": self.reference,
            "roles": self.roles,
            "shared_problems": self.problems,
            "config": self.config.to_dict(),
            "metrics": [m.to_dict() for m in self.metrics],
            "full_run_metrics": [m.to_dict() for m in self.full_metrics],
            "pairs": [{"reference": p.reference, "candidate": p.candidate, "kind": p.kind, **asdict(p.test),
                       "lift": p.lift, "lift_low": p.lift_low, "lift_high": p.lift_high,
                       "gates": [asdict(g) for g in p.gates], "passed": p.passed} for p in self.pairs],
            "provenance": {k: v.to_dict() for k, v in self.provenance.items()},
            "problems": self.table.to_dict("records"),
        })


def json_safe(value):
    """``value`` with every NaN, infinity and pandas missing value replaced by None, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and pd.api.types.is_scalar(value):  # numpy scalars
        return json_safe(value.item())
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value


def status(reference_right: bool, candidate_right: bool) -> str:
    if reference_right and candidate_right:
        return "both right"
    if reference_right:
        return "broken"
    return "fixed" if candidate_right else "both wrong"


def _ratio(value: float, reference: float) -> float | None:
    if math.isnan(value) or math.isnan(reference) or reference == 0:
        return None
    return value / reference


def gates(ref: RunMetrics, cand: RunMetrics, cfg: CompareConfig) -> list[Gate]:
    """The distillation gates of a student against its teacher (both ``RunMetrics`` on the same problems)."""
    acc = _ratio(cand.accuracy, ref.accuracy)
    if acc is None:
        acc_gate = Gate("accuracy", bool(cand.accuracy >= ref.accuracy), None, cfg.min_accuracy_ratio,
                        f"accuracy {cand.accuracy:.1%} against {ref.accuracy:.1%} (a ratio to 0% is undefined)")
    else:
        acc_gate = Gate("accuracy", bool(acc >= cfg.min_accuracy_ratio), acc, cfg.min_accuracy_ratio,
                        f"accuracy {cand.accuracy:.1%} is {acc:.0%} of {ref.accuracy:.1%} "
                        f"(needs ≥ {cfg.min_accuracy_ratio:.0%})")
    tok = _ratio(cand.tokens_per_problem, ref.tokens_per_problem)
    if tok is None:
        missing = [m.run_id for m in (cand, ref) if math.isnan(m.tokens_per_problem)]
        why = (f"tokens not recorded for {', '.join(missing)}" if missing
               else f"{ref.run_id} recorded 0 tokens per problem")
        tok_gate = Gate("tokens", None, None, cfg.max_token_ratio, f"token ratio unknown: {why}")
    else:
        tok_gate = Gate("tokens", bool(tok <= cfg.max_token_ratio), tok, cfg.max_token_ratio,
                        f"{cand.tokens_per_problem:,.0f} tokens/problem is {tok:.0%} of "
                        f"{ref.tokens_per_problem:,.0f} (needs ≤ {cfg.max_token_ratio:.0%})")
    p95 = cand.latency_p95_s
    if math.isnan(p95):
        lat_gate = Gate("latency", None, None, cfg.max_p95_latency_s, f"latency not recorded for {cand.run_id}")
    else:
        lat_gate = Gate("latency", bool(p95 < cfg.max_p95_latency_s), p95, cfg.max_p95_latency_s,
                        f"p95 latency {p95:.2f} s per problem (needs < {cfg.max_p95_latency_s:g} s)")
    return [acc_gate, tok_gate, lat_gate]


def lift_gate(verdict: stats.PairedVerdict, cfg: CompareConfig) -> Gate:
    """The lift gate against a base, decided by ``stats.paired_verdict``: passes when the exact interval of the
    lift lies above ``min_lift``, fails when it does not; with too few problems that differ to decide at
    the chosen confidence it says so and is neither (``passed`` None, no interval)."""
    if verdict.low is None:
        return Gate("lift", None, verdict.difference, cfg.min_lift, f"lift {verdict.describe()}")
    return Gate("lift", bool(verdict.low > cfg.min_lift), verdict.difference, cfg.min_lift,
                f"lift {verdict.describe()} (needs the interval above {cfg.min_lift * 100:+.1f})")


def role_of(method: str | None, prov: Provenance | None) -> str:
    """The role of a run of ``method`` whose model has provenance ``prov``: a team's run (a debate, several
    samples; ``Method.team``) or an imported one is a teacher, a model the studio trained (a distilled student:
    SFT/DA or PAD) a student, anything else a base."""
    record = method_of(method)
    if method is not None and (record is None or record.team):
        return "teacher"
    return "student" if prov is not None and prov.model_id is not None else "base"


def infer_role(metrics: RunMetrics, prov: Provenance | None) -> str:
    """A run's role when none is given (``role_of`` its method and model)."""
    return role_of(metrics.method or metrics.config.get("method"), prov)


def infer_roles(store, run_ids: list[str]) -> dict[str, str]:
    """``infer_role`` of each run, from its stored row and model registry (what ``compare`` uses when no role
    is given), for a page to offer as defaults."""
    from agentark.evaluate.lineage import model_provenance

    runs = q.run_rows(store, run_ids)
    out = {}
    for run_id in run_ids:
        run = runs[run_id]
        # A run row without a recorded model holds NaN there (a maslab file that names none).
        stored = run.get("model") if isinstance(run.get("model"), str) else None
        model = (run["config"].get("model") or stored or "").split(", ")[0] or None
        method = run.get("method") or run["config"].get("method")
        prov = model_provenance(store, model) if model else None
        out[run_id] = role_of(method, prov)
    return out


def plan_pairs(run_ids: list[str], roles: dict[str, str]) -> list[tuple[str, str, str]]:
    """(reference, candidate, kind) for each pair that has a meaning: every student against every teacher
    (distillation) and every base (lift), every teacher against every base (lift). Runs of one role only are
    each compared with the first run (lift)."""
    of = {r: [x for x in run_ids if roles[x] == r] for r in ROLES}
    pairs = [(t, s, DISTILLATION) for s in of["student"] for t in of["teacher"]]
    pairs += [(b, s, LIFT) for s in of["student"] for b in of["base"]]
    pairs += [(b, t, LIFT) for t in of["teacher"] for b in of["base"]]
    if not pairs:
        pairs = [(run_ids[0], c, LIFT) for c in run_ids[1:]]
    return sorted(pairs, key=lambda p: (run_ids.index(p[1]), run_ids.index(p[0])))


def shared_problems(outcomes: pd.DataFrame, run_ids: list[str]) -> list[str]:
    """The problems every run finished, in the first run's order; an empty set is refused with the fix."""
    sets = {r: set(outcomes.loc[outcomes["run_id"] == r, "problem_id"]) for r in run_ids}
    common = set.intersection(*sets.values())
    if not common:
        pairs = [(a, b) for i, a in enumerate(run_ids) for b in run_ids[i + 1:] if not sets[a] & sets[b]]
        a, b = pairs[0] if pairs else (run_ids[0], run_ids[1])
        what = (f"Runs {a} and {b} share no finished problems" if pairs else
                f"No problem was finished by all of {', '.join(run_ids)}")
        dataset = outcomes.attrs.get("dataset") or "..."
        raise ConfigError(
            f"{what}, so they cannot be compared. Evaluate them on the same dataset, split and seed "
            f"(`python -m agentark eval --like {a} ...` re-runs a run's method on the test split; "
            f"`python -m agentark eval --dataset {dataset} ...`), or wait until they have finished problems."
        )
    first = outcomes[outcomes["run_id"] == run_ids[0]].sort_values("idx")
    return [p for p in dict.fromkeys(first["problem_id"]) if p in common]


def problem_table(outcomes: pd.DataFrame, run_ids: list[str], shared: list[str] | None = None,
                  pairs: list[tuple[str, str, str]] | None = None) -> pd.DataFrame:
    """One row per problem every run finished (``shared``): each run's answer and correctness, and per pair
    its status (column ``status:CANDIDATE~REFERENCE``)."""
    shared = shared if shared is not None else shared_problems(outcomes, run_ids)
    pairs = pairs if pairs is not None else [(run_ids[0], c, LIFT) for c in run_ids[1:]]
    ref = run_ids[0]
    base = outcomes[outcomes["run_id"] == ref][["problem_id", "idx", "question", "reference_answer"]]
    table = base.drop_duplicates("problem_id").set_index("problem_id").loc[shared]
    for run_id in run_ids:
        mine = outcomes[outcomes["run_id"] == run_id].drop_duplicates("problem_id").set_index("problem_id")
        table[f"answer:{run_id}"] = mine["final_answer"]
        table[f"correct:{run_id}"] = mine["is_correct"].astype(bool)
    for r, c, _ in pairs:
        table[f"status:{c}~{r}"] = [status(bool(a), bool(b)) for a, b in zip(table[f"correct:{r}"],
                                                                             table[f"correct:{c}"])]
    return table.sort_values("idx").reset_index()


def compare(store, run_ids: list[str], cfg: CompareConfig | None = None,
            roles: dict[str, str] | None = None) -> Comparison:
    """Compare runs on the problems all of them finished. ``roles`` (run id -> teacher/base/student) picks the
    pairs and their gates; a run not named gets ``infer_role``'s. Without students or bases every run is
    compared with the first."""
    cfg = cfg or CompareConfig()
    run_ids = list(dict.fromkeys(run_ids))
    if len(run_ids) < 2:
        raise ConfigError("Compare needs two or more runs: the reference first, e.g. `compare TEACHER STUDENT`.")
    bad = {r: v for r, v in (roles or {}).items() if v not in ROLES or r not in run_ids}
    if bad:
        raise ConfigError(f"Roles {bad} are not RUN_ID=ROLE for a compared run with ROLE one of "
                          f"{', '.join(ROLES)}.")
    full = run_metrics(store, run_ids, cfg, cfg.confidence)
    outcomes = q.outcome_rows(store, run_ids)
    outcomes.attrs["dataset"] = full[0].dataset
    shared = shared_problems(outcomes, run_ids)
    metrics = run_metrics(store, run_ids, cfg, cfg.confidence, problem_ids=shared)
    prov = {m.run_id: provenance(store, m) for m in full}
    roles = {r: (roles or {}).get(r) or infer_role(m, prov[r]) for r, m in zip(run_ids, full)}
    planned = plan_pairs(run_ids, roles)
    table = problem_table(outcomes, run_ids, shared, planned)
    by_id = {m.run_id: m for m in metrics}
    pairs = []
    for r, c, kind in planned:
        a, b = table[f"correct:{r}"].astype(bool), table[f"correct:{c}"].astype(bool)
        test = stats.mcnemar_exact(a, b)
        verdict = stats.paired_verdict(a, b, cfg.confidence)
        checks = gates(by_id[r], by_id[c], cfg) if kind == DISTILLATION else [lift_gate(verdict, cfg)]
        pairs.append(Pair(r, c, test, checks, kind, verdict.difference, verdict.low, verdict.high, verdict.verdict))
    return Comparison(run_ids, cfg, metrics, pairs, table, prov, full, roles, shared)
