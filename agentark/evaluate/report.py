"""A shareable, self-contained HTML report of a comparison: one file, plotly embedded, no server needed.

Design decision: the report renders the same ``Comparison`` (and best-of-N curves) the page and the CLI
use, with plotly.js inlined once (the only large part: every figure after the first reuses it) so the file
opens offline, and it carries the configs and export hashes behind every system so a reader can reproduce
each number. Figures keep the size they were built with (sized to their content) and sit in a wrapping row,
so none is clipped by a box narrower than the figure.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from agentark.clock import now
from agentark.evaluate.bon import BonCurve
from agentark.evaluate.compare import Comparison
from agentark.evaluate.figures import accuracy_bars, bon_chart, cost_scatter
from agentark.evaluate.render import gate_html
from agentark.safe_text import html_text

METRIC_COLUMNS = [
    ("run", "run_id", "{}"), ("method", "method", "{}"), ("problems", "problems", "{}"),
    ("accuracy", "accuracy", "{:.1%}"), ("95% interval", None, None),
    ("prompt tok/problem", "prompt_tokens_per_problem", "{:,.0f}"),
    ("completion tok/problem", "completion_tokens_per_problem", "{:,.0f}"),
    ("engine calls/problem", "engine_calls_per_problem", "{:.2f}"),
    ("latency p50 s", "latency_p50_s", "{:.2f}"), ("p95 s", "latency_p95_s", "{:.2f}"),
    ("p99 s", "latency_p99_s", "{:.2f}"), ("USD per 1k problems", "cost_per_1k_usd", "{:.3f}"),
    ("answers stated", "parse_rate", "{:.1%}"), ("cut off", "cut_off", "{}"), ("ambiguous", "ambiguous", "{}"),
    ("vote ties", "ties", "{}"), ("self-correcting", "self_correction_rate", "{:.1%}"),
]


def fmt(value, pattern: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return pattern.format(value)


FULL_COLUMNS = [("run", "run_id", "{}"), ("problems", "problems", "{}"), ("accuracy", "accuracy", "{:.1%}"),
                ("95% interval", None, None), ("tokens/problem", "tokens_per_problem", "{:,.0f}"),
                ("USD per 1k problems", "cost_per_1k_usd", "{:.3f}"), ("price", "price_source", "{}")]
GATE_MARKS = {True: "PASS", False: "FAIL", None: "N/A"}


def metric_rows(comparison: Comparison, full: bool = False) -> list[list[str]]:
    """The metrics table as strings, one row per run (the page shows the same strings): on the problems all
    runs finished, or (``full``) each run on all its own finished problems, with ``FULL_COLUMNS``."""
    return [_row(m, FULL_COLUMNS if full else METRIC_COLUMNS)
            for m in (comparison.full_metrics if full else comparison.metrics)]


def pair_rows(comparison: Comparison) -> list[list[str]]:
    """The paired tests as strings, one row per pair, headed by ``PAIR_COLUMNS``."""
    def points(x: float | None) -> str:
        return fmt(x * 100 if x is not None and x == x else None, "{:+.1f}")

    def lift(p) -> str:
        interval = f"[{points(p.lift_low)}, {points(p.lift_high)}]" if p.lift_low is not None else p.verdict
        return f"{points(p.lift)} {interval}"

    return [[p.candidate, p.reference, p.kind, str(p.test.shared), str(p.test.fixed), str(p.test.broken),
             str(p.test.both_right), str(p.test.both_wrong),
             lift(p), f"{p.test.p_value:.4g}"]
            for p in comparison.pairs]


PAIR_COLUMNS = ["candidate", "against", "kind", "shared problems", "fixed", "broken", "both right", "both wrong",
                "lift, points [exact paired interval]", "McNemar exact p"]


def _row(m, columns) -> list[str]:
    d = m.to_dict()
    return [f"[{fmt(m.ci_low, '{:.1%}')}, {fmt(m.ci_high, '{:.1%}')}]" if key is None else fmt(d[key], pattern)
            for _, key, pattern in columns]


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html_text(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(comparison: Comparison, curves: list[BonCurve] | None = None, max_rows: int = 200) -> str:
    """The report as one HTML string."""
    figs = [accuracy_bars(comparison), cost_scatter(comparison)] + [bon_chart(c) for c in curves or []]
    plots = "".join(
        '<div class="fig">' + f.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False,
                                        div_id=f"fig{i}", config={"responsive": False}) + "</div>"
        for i, f in enumerate(figs)
    )
    esc = html_text
    n = comparison.problems
    metrics = _table([h for h, _, _ in METRIC_COLUMNS], [[esc(c) for c in r] for r in metric_rows(comparison)])
    full = _table([h for h, _, _ in FULL_COLUMNS], [[esc(c) for c in r] for r in metric_rows(comparison, full=True)])
    pairs = _table(
        PAIR_COLUMNS + ["gates"],
        [[esc(c) for c in row] + ["<br>".join(gate_html(g.passed, g.text) for g in p.gates)]
         for row, p in zip(pair_rows(comparison), comparison.pairs)],
    )
    roles = ", ".join(f"<b>{esc(r)}</b> ({esc(comparison.roles.get(r, '—'))})" for r in comparison.run_ids)
    prov = _table(
        ["run", "model", "trained by", "export sha256", "export filters", "run config"],
        [[esc(k), esc(v.model or "—"), esc(v.label), esc(v.export_sha256 or "—"),
          f"<pre>{esc(json.dumps(v.export_filters, indent=1, sort_keys=True))}</pre>",
          f"<pre>{esc(json.dumps(v.run_config, indent=1, sort_keys=True))}</pre>"]
         for k, v in comparison.provenance.items()],
    )
    diff_sections = []
    for pair in comparison.pairs:
        cand, ref = pair.candidate, pair.reference
        diffs = comparison.differences(cand, reference=ref)
        rows = [[esc(str(r["problem_id"])), esc(str(r["status"])), esc(str(r["question"])[:160]),
                 esc(str(r["reference_answer"])), esc(str(r[f"answer:{ref}"])),
                 esc(str(r[f"answer:{cand}"]))] for r in diffs.head(max_rows).to_dict("records")]
        diff_sections.append(
            f"<h3>{esc(cand)} against {esc(ref)}: {len(diffs)} of {n} problems differ</h3>"
            + _table(["problem", "status", "question", "reference", ref, cand], rows))
    bon = ""
    for c in curves or []:
        header = ["N", "one sample", "majority vote"] + [f"best PRM ({h})" for h in c.best_of]
        rows = [[str(k), f"{c.one_sample[i]:.1%}", f"{c.majority[i]:.1%}"]
                + [f"{c.best_of[h][i]:.1%}" for h in c.best_of] for i, k in enumerate(c.ns)]
        bon += f"<h3>Best-of-N: {esc(c.run_id)} on {c.problems} problems</h3>" + _table(header, rows)
    created = now().strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>AgentArk comparison: {esc(' vs '.join(comparison.run_ids))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }}
th, td {{ border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f4f5f7; }} pre {{ margin: 0; font-size: 0.85em; white-space: pre-wrap; }}
.figs {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
.fig {{ flex: none; max-width: 100%; overflow-x: auto; }}
</style></head><body>
<h1>Comparison: {esc(' vs '.join(comparison.run_ids))}</h1>
<p>Runs and roles: {roles}. Created {created}. Settings:
<code>{esc(json.dumps(comparison.config.to_dict(), sort_keys=True))}</code></p>
<h2>Systems on the {n} problems all runs finished</h2>
<p>Every figure that relates runs (this table, the charts, the paired tests and gates, the differences and
best-of-N) is computed on these {n} problems.</p>{metrics}
<p>Latency per problem is its share of the engine calls that served it: each call's wall time split equally
over the requests it served. Cost uses each run's price (its engine's, 0 for a local engine, unless set);
"—" is unknown (tokens not recorded, or no price).</p>
<div class="figs">{plots}</div>
<h2>Paired tests and gates</h2>{pairs}
<h2>Where they differ</h2>{''.join(diff_sections)}
{'<h2>Best-of-N</h2>' + bon if bon else ''}
<h2>Each run on all its own finished problems (full run)</h2>
<p>Not comparable across runs when they finished different problems; shown for reference only.</p>{full}
<h2>Configs and export hashes</h2>{prov}
</body></html>"""


def write_report(comparison: Comparison, out: Path | str, curves: list[BonCurve] | None = None) -> Path:
    path = Path(out).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html_report(comparison, curves), encoding="utf-8")
    tmp.replace(path)
    return path
