"""Evaluation, comparison statistics, best-of-N and PRM evaluation on top of ordinary runs.

Design decision: every evaluation is a run (``run``), and everything here reads runs from the store and
returns plain dataclasses (``metrics.RunMetrics``, ``compare.Comparison``, ``bon.BonCurve``,
``prm_eval.PRMEvalResult``) that the Compare page, the CLI and the HTML report render without computing
anything themselves. Settings live in ``config``, which imports nothing heavy; import the module you need.
"""
