"""Plotly figures of a comparison and of best-of-N curves, drawn once for the page and the HTML report."""
from __future__ import annotations

import plotly.graph_objects as go

from agentark.evaluate.bon import BonCurve
from agentark.evaluate.compare import Comparison


def _err(values: list[float]) -> list[float]:
    return [0.0 if v != v else v for v in values]


def accuracy_bars(comparison: Comparison) -> go.Figure:
    """Accuracy per run with its bootstrap interval."""
    ms = comparison.metrics
    fig = go.Figure(go.Bar(
        x=[m.run_id for m in ms], y=[m.accuracy for m in ms],
        error_y=dict(type="data", symmetric=False, array=_err([m.ci_high - m.accuracy for m in ms]),
                     arrayminus=_err([m.accuracy - m.ci_low for m in ms])),
        text=[f"{m.accuracy:.1%}" for m in ms], textposition="inside", marker_color="#4c78a8",
        hovertemplate="%{x}<br>accuracy %{y:.1%}<extra></extra>",
    ))
    fig.update_layout(title=f"Accuracy with {comparison.config.confidence:.0%} bootstrap interval",
                      yaxis=dict(range=[0, 1.05], tickformat=".0%"), height=360, margin=dict(t=50, b=40))
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
                      yaxis=dict(title="accuracy", tickformat=".0%"), height=360, margin=dict(t=50, b=40))
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
                      yaxis=dict(title="accuracy", tickformat=".0%"), height=380, margin=dict(t=50, b=40))
    return fig
