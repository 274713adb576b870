"""Plotly figures of a comparison and of best-of-N curves, drawn once for the page and the HTML report.

Design decision: each figure carries its own size, computed from its content (a bar chart grows with its
runs, long run ids get room below the axis), because a figure that takes its width from the page when it is
first drawn can be drawn wider than the box that later holds it and lose bars off its right edge.
"""
from __future__ import annotations

import plotly.graph_objects as go

from agentark.evaluate.bon import BonCurve
from agentark.evaluate.compare import Comparison


def _err(values: list[float]) -> list[float]:
    return [0.0 if v != v else v for v in values]


BAR_PX = 110
LABEL_PX = 7  # width of one character of an axis label, about


def _bar_size(labels: list[str]) -> tuple[int, int, int]:
    """Width, height and bottom margin of a bar chart with one bar per label."""
    longest = max((len(x) for x in labels), default=0)
    slanted = longest * LABEL_PX > BAR_PX  # plotly slants labels wider than their bar
    bottom = 40 + (int(longest * LABEL_PX * 0.75) if slanted else 0)
    return max(420, 120 + BAR_PX * len(labels)), 320 + bottom, bottom


def accuracy_bars(comparison: Comparison) -> go.Figure:
    """Accuracy per run with its bootstrap interval, on the problems all compared runs finished."""
    ms = comparison.metrics
    width, height, bottom = _bar_size([m.run_id for m in ms])
    fig = go.Figure(go.Bar(
        x=[m.run_id for m in ms], y=[m.accuracy for m in ms],
        error_y=dict(type="data", symmetric=False, array=_err([m.ci_high - m.accuracy for m in ms]),
                     arrayminus=_err([m.accuracy - m.ci_low for m in ms])),
        text=[f"{m.accuracy:.1%}" for m in ms], textposition="inside", marker_color="#4c78a8",
        hovertemplate="%{x}<br>accuracy %{y:.1%}<extra></extra>",
    ))
    shared = f" on the {comparison.problems} problems all runs finished" if comparison.shared else ""
    fig.update_layout(title=f"Accuracy{shared}<br><sub>{comparison.config.confidence:.0%} bootstrap interval</sub>",
                      yaxis=dict(range=[0, 1.05], tickformat=".0%"), xaxis=dict(automargin=True),
                      width=width, height=height, margin=dict(t=70, b=bottom, l=60, r=20), autosize=False)
    return fig


def cost_scatter(comparison: Comparison) -> go.Figure:
    """Accuracy against tokens per problem (log axis): the teacher's cost and the student's at a glance."""
    ms = comparison.metrics
    fig = go.Figure(go.Scatter(
        x=[m.tokens_per_problem for m in ms], y=[m.accuracy for m in ms], mode="markers+text",
        text=[m.run_id for m in ms], textposition="top center", marker=dict(size=12, color="#f58518"),
        error_y=dict(type="data", symmetric=False, array=_err([m.ci_high - m.accuracy for m in ms]),
                     arrayminus=_err([m.accuracy - m.ci_low for m in ms])),
        hovertemplate="%{text}<br>%{x:,.0f} tokens/problem<br>accuracy %{y:.1%}<extra></extra>",
    ))
    fig.update_layout(title="Cost against accuracy", xaxis=dict(type="log", title="tokens per problem (log)"),
                      yaxis=dict(title="accuracy", tickformat=".0%"), width=520, height=380,
                      margin=dict(t=50, b=50, l=60, r=30), autosize=False)
    return fig


def bon_chart(curve: BonCurve) -> go.Figure:
    """Accuracy against N for one sample, majority vote and best-PRM per aggregation."""
    fig = go.Figure()
    frame = curve.frame()
    for strategy, g in frame.groupby("strategy", sort=False):
        dash = "dot" if strategy == "one sample" else ("dash" if strategy == "majority vote" else None)
        fig.add_trace(go.Scatter(x=g["n"], y=g["accuracy"], mode="lines+markers", name=strategy,
                                 line=dict(dash=dash)))
    fig.update_layout(title=f"Best-of-N on {curve.run_id} ({curve.problems} problems, k = {curve.k})",
                      xaxis=dict(type="log", title="N samples", tickvals=curve.ns, ticktext=[str(n) for n in curve.ns]),
                      yaxis=dict(title="accuracy", tickformat=".0%"), width=640, height=380,
                      margin=dict(t=50, b=50), autosize=False)
    return fig
