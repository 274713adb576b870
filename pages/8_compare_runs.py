"""Compare runs: accuracy with intervals, McNemar, lift, cost, gates per pair of roles, where they differ, and
the reasoning side by side, all on the problems every chosen run finished.

The address is the state: ``?runs=A,B,...``, ``&roles=A:teacher,B:student`` (roles not given are inferred)
and ``&problem=ID`` for the problem shown side by side; j / k walk the differing problems.
"""
import json

import streamlit as st
from streamlit_shortcuts import shortcut_button

from agentark.evaluate.bon import best_of_n, draws_samples, sampling_methods
from agentark.evaluate.compare import ROLES, STATUSES, compare, infer_roles
from agentark.evaluate.eval_config import BonConfig, CompareConfig, EvalConfig
from agentark.evaluate.figures import accuracy_bars, bon_chart, cost_scatter
from agentark.evaluate.render import gate_html, heatmap_legend_html, steps_html
from agentark.evaluate.report import FULL_COLUMNS, METRIC_COLUMNS, PAIR_COLUMNS, html_report, metric_rows, pair_rows
from agentark import jobs
from agentark.evaluate.sidebyside import side_by_side
from agentark.checkpoints import list_models
from agentark.options import from_values
from agentark.safe_text import md_code, md_text
from agentark.store import run_tables
from agentark.ui import errors_shown, evaluate_like_button, get_store, guard_shortcuts_while_typing
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
def bon_curve(_store, run_id: str, prm: str, settings: str, problems: tuple[str, ...]):
    """``settings``: the BonConfig as sorted JSON, so the cache keys on its values; ``problems``: the ones every
    compared run finished."""
    return best_of_n(_store, run_id, prm_scorer(prm), BonConfig.from_dict(json.loads(settings)), problems)


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
with st.expander("Evaluate a run's method on held-out problems (e.g. the teacher's debate)", expanded=False):
    st.caption("A teacher that debated the train split cannot be compared with models evaluated on the test split. "
               "This repeats its whole method and config on the test split, so all answer the same problems.")
    evaluate_like_button(store, run_ids, "cmp_like")
url_runs = st.query_params.get("runs", "")
if st.session_state.get("cmp_url_runs") != url_runs:
    # A link was opened (or typed): it picks the runs; afterwards the picker does, and the address follows.
    st.session_state["cmp_url_runs"] = url_runs
    wanted = [r for r in url_runs.split(",") if r in run_ids]
    st.session_state["cmp_runs"] = wanted or st.session_state.get("cmp_runs") or run_ids[:2]
chosen = st.multiselect("Runs to compare (a teacher, the base, students: roles below)", run_ids, key="cmp_runs")
if len(chosen) < 2:
    st.info("Pick two or more runs that share problems: a teacher debate, the base model, a distilled student.")
    st.stop()

url_roles = dict(r.split(":", 1) for r in st.query_params.get("roles", "").split(",") if ":" in r)
with st.expander("Roles: who is the teacher, the base, a student", expanded=False):
    st.caption("A student is held to its teacher (accuracy ratio, tokens, latency) and to the base (lift with a "
               "paired interval); a teacher to the base (lift). Defaults: a debate or several samples is a teacher, "
               "a model the studio distilled a student, anything else a base.")
    inferred = {}
    with errors_shown():
        inferred = infer_roles(store, chosen)
    role_cols = st.columns(min(len(chosen), 4))
    roles = {}
    for i, run_id in enumerate(chosen):
        default = url_roles.get(run_id) if url_roles.get(run_id) in ROLES else inferred.get(run_id, "base")
        roles[run_id] = role_cols[i % len(role_cols)].selectbox(run_id, ROLES, index=ROLES.index(default),
                                                                key=f"cmp_role_{run_id}_{default}")

with st.expander("Gates and prices"):
    gate_values = option_widgets(CompareConfig, "cmp_gate", columns=3)

comparison = None
with errors_shown():
    cfg = from_values(CompareConfig, gate_values)
    comparison = compare(store, chosen, cfg, roles)
if comparison is None:
    st.stop()
params = {"runs": ",".join(chosen)}
changed = {r: v for r, v in roles.items() if v != inferred.get(r)}
if changed:
    params["roles"] = ",".join(f"{r}:{v}" for r, v in changed.items())
st.session_state["cmp_url_runs"] = params["runs"]

st.subheader(f"Systems on the {comparison.problems} problems all of them finished")
st.caption(f"Every figure relating the runs below (this table, the charts, paired tests, gates, differences, "
           f"best-of-N) is computed on these {comparison.problems} problems. Cost uses each run's price (its "
           "engine's, 0 for a local engine, unless set under Gates and prices); — means unknown.")
st.dataframe({h: [r[i] for r in metric_rows(comparison)] for i, (h, _, _) in enumerate(METRIC_COLUMNS)},
             hide_index=True, key="cmp_metrics")
st.caption("Latency per problem is its share of the engine calls that served it: each call's wall time split "
           "equally over the requests it served.")
with st.expander("Each run on all its own finished problems (full run, not comparable across runs)"):
    st.dataframe({h: [r[i] for r in metric_rows(comparison, full=True)] for i, (h, _, _) in enumerate(FULL_COLUMNS)},
                 hide_index=True, key="cmp_full_metrics")
f1, f2 = st.columns(2)
f1.plotly_chart(accuracy_bars(comparison), key="cmp_acc_chart")
f2.plotly_chart(cost_scatter(comparison), key="cmp_cost_chart")

st.subheader("Paired tests and gates")
st.dataframe({h: [r[i] for r in pair_rows(comparison)] for i, h in enumerate(PAIR_COLUMNS)}, hide_index=True,
             key="cmp_pairs")
for pair in comparison.pairs:
    t = pair.test
    st.markdown(f"**{md_text(pair.candidate)}** ({md_text(comparison.roles[pair.candidate])}) against "
                f"**{md_text(pair.reference)}** ({md_text(comparison.roles[pair.reference])}) on {t.shared} shared problems: "
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
titles = [p.title for p in comparison.pairs]
picked_pair = comparison.pairs[titles.index(c1.selectbox("Pair", titles, key="cmp_pair"))]
candidate, reference = picked_pair.candidate, picked_pair.reference
statuses = c2.multiselect("Show", STATUSES, default=["fixed", "broken"], key="cmp_statuses")
diffs = comparison.differences(candidate, statuses, reference)
ids = list(diffs["problem_id"])
filters = f"{','.join(chosen)}|{candidate}|{reference}|{','.join(statuses)}"
if st.session_state.get("cmp_filters") != filters:
    st.session_state["cmp_filters"] = filters
    linked = st.query_params.get("problem")
    st.session_state["cmp_pos"] = ids.index(linked) if linked in ids else 0


def move(delta: int) -> None:
    st.session_state["cmp_pos"] = min(max(st.session_state.get("cmp_pos", 0) + delta, 0), max(len(ids) - 1, 0))


shown = diffs[["problem_id", "idx", "question", "reference_answer", f"answer:{reference}", f"answer:{candidate}",
               "status"]]
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
n3.markdown(f"**Problem {pos + 1} of {len(ids)}** · {md_code(problem_id)} · {md_text(diffs.iloc[pos]['status'])}")
prms = list(list_models(store, "prm")["model_id"])
prm = n4.selectbox("PRM for step tints", [NO_PRM] + prms, key="cmp_prm")
guard_shortcuts_while_typing()

scorer = None
with errors_shown():
    scorer = prm_scorer(prm) if prm != NO_PRM else None
    view = side_by_side(store, chosen, problem_id, scorer)
    st.markdown(f"**Problem.** {md_text(view.question)}")
    st.markdown(f"**Reference answer:** {md_code(view.reference_answer)}")
    st.markdown(heatmap_legend_html(), unsafe_allow_html=True)
    columns = st.columns(len(view.systems))
    for col, system in zip(columns, view.systems):
        with col:
            mark = "—" if system.is_correct is None else correct_mark(system.is_correct) + (
                " right" if system.is_correct else " wrong")
            st.markdown(f"**{md_text(system.run_id)}** ({md_text(system.method)}) · answer "
                        f"{md_code(system.final_answer)} {mark}")
            st.caption(f"shows {md_text(system.shown)} · [open in the debate viewer]({system.viewer_link})"
                       + (f" · {len(system.markers)} self-correction marker(s)" if system.markers else ""))
            st.markdown(steps_html(system), unsafe_allow_html=True)
    first = next(s for s in view.systems if s.run_id == reference)
    second = next(s for s in view.systems if s.run_id == candidate)
    st.markdown(f"**Word diff** {md_text(first.run_id)} → {md_text(second.run_id)}")
    st.html(diff_html(first.content, second.content))

st.subheader("Best-of-N with a PRM")
sampled = [m.run_id for m in comparison.metrics if draws_samples(m.method)]
curves = []
if not sampled:
    st.caption("Best-of-N needs a run with k samples per problem: evaluate with method "
               f"{' or '.join(sampling_methods())}.")
elif scorer is None:
    st.caption(f"Pick a PRM above to score the samples of {md_text(', '.join(sampled))}.")
else:
    bon_values = option_widgets(BonConfig, "cmp_bon")
    with errors_shown():
        settings = json.dumps(from_values(BonConfig, bon_values).to_dict(), sort_keys=True)
        curves = [bon_curve(store, r, prm, settings, tuple(comparison.shared)) for r in sampled]
        for curve in curves:
            st.plotly_chart(bon_chart(curve), key=f"cmp_bon_{curve.run_id}")

st.download_button("Download the HTML report", html_report(comparison, curves), file_name="comparison.html",
                   mime="text/html", key="cmp_report")
