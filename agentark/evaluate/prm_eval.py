"""ProcessBench-style evaluation of a PRM on trajectories whose steps people (or PRM800K / Math-Shepherd)
labelled: does the PRM find the earliest wrong step?

For each trajectory the labelled earliest error is the first step labelled wrong (-1 when every step is
fine); the PRM's is the first step whose score is below a threshold. Accuracy is measured separately on
erroneous and on correct trajectories, and their harmonic mean is the F1 (ProcessBench, Zheng et al.
2024). Step-level ROC AUC (scikit-learn) measures ranking without a threshold, and the threshold that
maximises F1 is searched over every distinct score.

Design decision: which label counts is the export's policy (``agentark.labels.label_policy.resolve_step_labels``):
sources in precedence order, a neutral step counted as good or bad as configured, and a trajectory enters
only when every one of its steps has a label, so "no error found" is never a gap in the labels.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from agentark.errors import ConfigError
from agentark.evaluate.bon import StepScorer
from agentark.evaluate.eval_config import PRMEvalConfig
from agentark.labels.label_policy import resolve_step_labels
from agentark.store import eval_tables as q
from agentark.store import label_tables as label_q
from agentark.training_sets import ExportConfig

@dataclass
class PRMEvalResult:
    run_id: str
    threshold: float
    trajectories: int
    erroneous: int
    correct: int
    accuracy_erroneous: float
    accuracy_correct: float
    f1: float
    step_auc: float
    steps: int
    best_threshold: float
    best_f1: float
    per_trajectory: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("per_trajectory")
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in data.items()}


def first_error(good: list[bool]) -> int:
    """Index of the first step that is not good; -1 when all are."""
    return next((i for i, g in enumerate(good) if not g), -1)


def predicted_first_error(scores: list[float], threshold: float) -> int:
    return first_error([s >= threshold for s in scores])


def processbench(labels: list[list[bool]], scores: list[list[float]], threshold: float) -> tuple[float, float, float]:
    """(accuracy on erroneous, accuracy on correct, their harmonic mean) at ``threshold``."""
    truth = [first_error(g) for g in labels]
    pred = [predicted_first_error(s, threshold) for s in scores]
    err = [p == t for t, p in zip(truth, pred) if t != -1]
    cor = [p == t for t, p in zip(truth, pred) if t == -1]
    acc_err = float(np.mean(err)) if err else math.nan
    acc_cor = float(np.mean(cor)) if cor else math.nan
    if math.isnan(acc_err) or math.isnan(acc_cor) or acc_err + acc_cor == 0:
        f1 = 0.0 if acc_err + acc_cor == 0 else math.nan
    else:
        f1 = 2 * acc_err * acc_cor / (acc_err + acc_cor)
    return acc_err, acc_cor, f1


def best_threshold(labels: list[list[bool]], scores: list[list[float]]) -> tuple[float, float]:
    """The threshold with the highest F1 among every distinct score (a step counts good at score >= t) and
    one just above the highest; ties go to the threshold nearest 0.5."""
    values = np.unique(np.concatenate([np.asarray(s, dtype=float) for s in scores if len(s)] or [np.array([0.5])]))
    candidates = list(values) + [float(np.nextafter(values[-1], np.inf))]
    scored = [(processbench(labels, scores, float(t))[2], float(t)) for t in candidates]
    scored = [(f, t) for f, t in scored if not math.isnan(f)]
    if not scored:
        return math.nan, math.nan
    f1, t = max(scored, key=lambda ft: (ft[0], -abs(ft[1] - 0.5)))
    return t, f1


def step_auc(labels: list[list[bool]], scores: list[list[float]]) -> float:
    """ROC AUC of step scores against step labels (good = positive); nan when only one class is present."""
    y = [g for gs in labels for g in gs]
    s = [v for vs in scores for v in vs]
    if len(set(y)) < 2:
        return math.nan
    return float(roc_auc_score(y, s))


def labelled_trajectories(store, run_id: str, cfg: PRMEvalConfig) -> pd.DataFrame:
    """One row per message of the run whose every step has a ground-truth label: question, step texts, labels."""
    q.run_rows(store, [run_id])
    steps = label_q.steps_in_context(store, [run_id])
    resolved = resolve_step_labels(label_q.labels_in_force(store, [run_id], cfg.sources),
                                   ExportConfig(kind="prm", precedence=cfg.sources, neutral=cfg.neutral))
    labelled = dict(zip(resolved["step_id"], resolved["label"]))
    rows = []
    for message_id, g in steps.groupby("message_id", sort=False):
        g = g.sort_values("idx")
        if g["step_id"].isin(labelled).all():
            rows.append({"message_id": message_id, "problem_id": g.iloc[0]["problem_id"],
                         "question": g.iloc[0]["question"], "steps": list(g["text"]),
                         "labels": [bool(labelled[s]) for s in g["step_id"]]})
    if not rows:
        raise ConfigError(
            f"Run {run_id} has no trajectory whose every step carries a label from {', '.join(cfg.sources)}. "
            "Segment and label its steps on Label steps (or `python -m agentark label`), or import PRM800K / "
            "Math-Shepherd steps (`python -m agentark import-steps`), then run prm-eval on that run."
        )
    return pd.DataFrame(rows)


def evaluate_prm(store, run_id: str, scorer: StepScorer, cfg: PRMEvalConfig | None = None) -> PRMEvalResult:
    """Score every fully labelled trajectory of a run with the PRM and compare with the labels."""
    cfg = cfg or PRMEvalConfig()
    data = labelled_trajectories(store, run_id, cfg)
    scores = scorer.score(list(zip(data["question"], data["steps"])))
    return result_from_scores(run_id, data, scores, cfg.threshold)


def result_from_scores(run_id: str, data: pd.DataFrame, scores: list[list[float]], threshold: float) -> PRMEvalResult:
    labels = list(data["labels"])
    acc_err, acc_cor, f1 = processbench(labels, scores, threshold)
    best_t, best_f1 = best_threshold(labels, scores)
    per = data[["message_id", "problem_id"]].copy()
    per["labelled_first_error"] = [first_error(g) for g in labels]
    per["predicted_first_error"] = [predicted_first_error(s, threshold) for s in scores]
    per["scores"] = [list(map(float, s)) for s in scores]
    erroneous = int((per["labelled_first_error"] != -1).sum())
    return PRMEvalResult(
        run_id=run_id, threshold=threshold, trajectories=len(per), erroneous=erroneous, correct=len(per) - erroneous,
        accuracy_erroneous=acc_err, accuracy_correct=acc_cor, f1=f1, step_auc=step_auc(labels, scores),
        steps=sum(len(g) for g in labels), best_threshold=best_t, best_f1=best_f1, per_trajectory=per,
    )
