"""Evaluation, comparison statistics, best-of-N and PRM evaluation on top of ordinary runs.

Design decision: every evaluation is a run (see ``run``), and everything here reads runs from the store
and returns plain dataclasses (``metrics.RunMetrics``, ``compare.Comparison``, ``bon.BonCurve``,
``prm_eval.PRMEvalResult``) that the Compare page, the CLI and the HTML report render without computing
anything themselves.
"""
from agentark.evaluate.bon import BonConfig, BonCurve, StepScorer, best_of_n
from agentark.evaluate.compare import CompareConfig, Comparison, compare
from agentark.evaluate.markers import MARKERS, find_markers, self_corrects
from agentark.evaluate.metrics import Pricing, RunMetrics, run_metrics
from agentark.evaluate.prm_eval import PRMEvalConfig, PRMEvalResult, evaluate_prm
from agentark.evaluate.run import EvalConfig, create_eval_run

__all__ = [
    "MARKERS", "BonConfig", "BonCurve", "CompareConfig", "Comparison", "EvalConfig", "PRMEvalConfig",
    "PRMEvalResult", "Pricing", "RunMetrics", "StepScorer", "best_of_n", "compare", "create_eval_run",
    "evaluate_prm", "find_markers", "run_metrics", "self_corrects",
]
