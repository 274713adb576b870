"""Compare runs: accuracy with intervals, McNemar, cost, gates, where they differ, and the reasoning side by side.

The address is the state: ``?runs=A,B,...`` (the first is the reference) and ``&problem=ID`` for the problem
shown side by side; j / k walk the differing problems.
"""
import json

import streamlit as st
from streamlit_shortcuts import shortcut_button

from agentark.evaluate.bon import best_of_n
from agentark.evaluate.compare import STATUSES, compare
from agentark.evaluate.eval_config import BonConfig, CompareConfig, EvalConfig
from agentark.evaluate.figures import accuracy_bars, bon_chart, cost_scatter
from agentark.evaluate.render import gate_html, heatmap_legend_html, steps_html
from agentark.evaluate.report import METRIC_COLUMNS, html_report, metric_rows
from agentark import jobs
from agentark.evaluate.sidebyside import side_by_side
from agentark.checkpoints import list_models
from agentark.options import from_values
from agentark.store import run_tables
from agentark.ui import errors_shown, get_store, guard_shortcuts_while_typing
from agentark.ui.forms import option_widgets
from agentark.ui.marks import correct_mark, diff_html

store = get_store()
st.title("Compare")
NO_PRM = "(no PRM)"


@st.cache_resource(show_spinner="Loading the PRM…")
def prm_scorer(name: str):
    from agentark.train.prm_scoring import load_prm

    return load_prm(name)


@st.cache_data(show_spinner="Scoring every sample with the PRM…")
def bon_curve(_store, run_id: str, prm: str, settings: str):
    """``settings``: the BonConfig as sorted JSON, so the cache keys on its values."""
    return best_of_n(_store, run_id, prm_scorer(prm), BonConfig.from_dict(json.loads(settings)))


with st.expander("Evaluate a model on held-out problems", expanded=False):
    with st.form("cmp_eval"):
        values = option_widgets(EvalConfig, "cmp_eval", columns=4)
        if st.form_submit_button("Start evaluation", type="primary"):
            with errors_shown():
                started = jobs.start("eval", from_values(EvalConfig, values), store=store)
                run_id, (report, overlap) = started.job_id, started.info
                store.refresh()
                if overlap.overlapping:
                    st.warning(f"{overlap.message}: not a held-out evaluation.")
                st.success(f"Started {run_id} on {len(report.problems)} problems; "
                           "it appears below once problems finish.")

runs = run_tables.list_runs(store)
runs = runs[runs["done"] > 0]
run_ids = list(runs["run_id"])
url_runs = st.query_params.get("runs", "")
if st.session_state.get("cmp_url_runs") != url_runs:
    # A link was opened (or typed): it picks the runs; afterwards the picker does, and the address follows.
    st.session_state["cmp_url_runs"] = url_runs
    wanted = [r for r in url_runs.split(",") if r in run_ids]
    st.session_state["cmp_runs"] = wanted or st.session_state.get("cmp_runs") or run_ids[:2]
chosen = st.multiselect("Runs (the first is the reference, e.g. the teacher)", run_ids, key="cmp_runs")
if len(chosen) < 2:
    st.info("Pick two or more runs that share problems: a teacher debate, the base model, a distilled student.")
    st.stop()

with st.expander("Gates and prices"):
    gate_values = option_widgets(CompareConfig, "cmp_gate", columns=3)

comparison = None
with errors_shown():
    cfg = from_values(CompareConfig, gate_values)
    comparison = compare(store, chosen, cfg)
if comparison is None:
    st.stop()
params = {"runs": ",".join(chosen)}
st.session_state["cmp_url_runs"] = params["runs"]

st.subheader("Systems")
st.dataframe({h: [r[i] for r in metric_rows(comparison)] for i, (h, _, _) in enumerate(METRIC_COLUMNS)},
             hide_index=True, key="cmp_metrics")
st.caption("Latency per problem is its share of the engine calls that served it: each call's wall time split "
           "equally over the requests it served.")
f1, f2 = st.columns(2)
f1.plotly_chart(accuracy_bars(comparison), key="cmp_acc_chart")
f2.plotly_chart(cost_scatter(comparison), key="cmp_cost_chart")

st.subheader("Paired test and gates")
for pair in comparison.pairs:
    t = pair.test
    st.markdown(f"**{pair.candidate}** against **{pair.reference}** on {t.shared} shared problems: "
                f"fixed **{t.fixed}**, broken **{t.broken}**, both right {t.both_right}, both wrong {t.both_wrong} · "
                f"McNemar exact p = **{t.p_value:.4g}**")
    st.markdown("<div class='gates'>" + "<br>".join(gate_html(g.passed, g.text) for g in pair.gates) + "</div>",
                unsafe_allow_html=True)

st.subheader("Which export and job produced each model")
sources = list(comparison.provenance.values())
st.dataframe({"run": list(comparison.provenance), "model": [p.model for p in sources],
              "trained by": [p.label for p in sources],
              "export corrections filter": [p.export_filters.get("corrections", "—") for p in sources],
              "export sha256": [p.export_sha256 or "—" for p in sources]},
             hide_index=True, key="cmp_provenance")

st.subheader("Where they differ")
c1, c2 = st.columns([1, 2])
candidate = c1.selectbox("Candidate", chosen[1:], key="cmp_candidate")
statuses = c2.multiselect("Show", STATUSES, default=["fixed", "broken"], key="cmp_statuses")
diffs = comparison.differences(candidate, statuses)
ids = list(diffs["problem_id"])
filters = f"{','.join(chosen)}|{candidate}|{','.join(statuses)}"
if st.session_state.get("cmp_filters") != filters:
    st.session_state["cmp_filters"] = filters
    linked = st.query_params.get("problem")
    st.session_state["cmp_pos"] = ids.index(linked) if linked in ids else 0


def move(delta: int) -> None:
    st.session_state["cmp_pos"] = min(max(st.session_state.get("cmp_pos", 0) + delta, 0), max(len(ids) - 1, 0))


shown = diffs[["problem_id", "idx", "question", "reference_answer", f"answer:{comparison.reference}",
               f"answer:{candidate}", f"status:{candidate}"]].rename(columns={f"status:{candidate}": "status"})
picked = st.dataframe(shown, hide_index=True, key=f"cmp_table_{filters}", on_select="rerun",
                      selection_mode="single-row")
rows = picked.selection.rows if picked is not None and hasattr(picked, "selection") else []
if rows and st.session_state.get("cmp_picked") != (filters, rows[0]):
    st.session_state["cmp_picked"] = (filters, rows[0])
    st.session_state["cmp_pos"] = rows[0]
if not ids:
    st.query_params.from_dict(params)
    st.info("No problem has these statuses; widen **Show**.")
    st.stop()

pos = min(st.session_state.get("cmp_pos", 0), len(ids) - 1)
problem_id = ids[pos]
st.query_params.from_dict({**params, "problem": problem_id})

st.subheader("Side by side")
n1, n2, n3, n4 = st.columns([1.4, 1, 3, 2])
with n1:
    shortcut_button("Previous", "k", key="cmp_prev", on_click=move, args=(-1,))
with n2:
    shortcut_button("Next", "j", key="cmp_next", on_click=move, args=(1,))
n3.markdown(f"**Problem {pos + 1} of {len(ids)}** · `{problem_id}` · {diffs.iloc[pos][f'status:{candidate}']}")
prms = list(list_models(store, "prm")["model_id"])
prm = n4.selectbox("PRM for step tints", [NO_PRM] + prms, key="cmp_prm")
guard_shortcuts_while_typing()

scorer = None
with errors_shown():
    scorer = prm_scorer(prm) if prm != NO_PRM else None
    view = side_by_side(store, chosen, problem_id, scorer)
    st.markdown(f"**Problem.** {view.question}")
    st.markdown(f"**Reference answer:** `{view.reference_answer}`")
    st.markdown(heatmap_legend_html(), unsafe_allow_html=True)
    columns = st.columns(len(view.systems))
    for col, system in zip(columns, view.systems):
        with col:
            mark = "—" if system.is_correct is None else correct_mark(system.is_correct) + (
                " right" if system.is_correct else " wrong")
            st.markdown(f"**{system.run_id}** ({system.method}) · answer `{system.final_answer}` {mark}")
            st.caption(f"shows {system.shown} · [open in the debate viewer]({system.viewer_link})"
                       + (f" · {len(system.markers)} self-correction marker(s)" if system.markers else ""))
            st.markdown(steps_html(system), unsafe_allow_html=True)
    first, second = view.systems[0], next(s for s in view.systems if s.run_id == candidate)
    st.markdown(f"**Word diff** {first.run_id} → {second.run_id}")
    st.markdown(diff_html(first.content, second.content), unsafe_allow_html=True)

st.subheader("Best-of-N with a PRM")
sampled = [m.run_id for m in comparison.metrics if m.method == "self_consistency"]
curves = []
if not sampled:
    st.caption("Best-of-N needs a run with k samples per problem: evaluate with method self_consistency.")
elif scorer is None:
    st.caption(f"Pick a PRM above to score the samples of {', '.join(sampled)}.")
else:
    bon_values = option_widgets(BonConfig, "cmp_bon")
    with errors_shown():
        settings = json.dumps(from_values(BonConfig, bon_values).to_dict(), sort_keys=True)
        curves = [bon_curve(store, r, prm, settings) for r in sampled]
        for curve in curves:
            st.plotly_chart(bon_chart(curve), key=f"cmp_bon_{curve.run_id}")

st.download_button("Download the HTML report", html_report(comparison, curves), file_name="comparison.html",
                   mime="text/html", key="cmp_report")
