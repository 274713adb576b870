"""Compare runs: accuracy with intervals, McNemar, cost, gates, where they differ, and the reasoning side by side.

The address is the state: ``?runs=A,B,...`` (the first is the reference) and ``&problem=ID`` for the problem
shown side by side; j / k walk the differing problems.
"""
import streamlit as st
from streamlit_shortcuts import shortcut_button

from agentark.evaluate.bon import best_of_n
from agentark.evaluate.compare import STATUSES, compare
from agentark.evaluate.eval_config import AGGREGATIONS, BonConfig, CompareConfig, EvalConfig
from agentark.evaluate.figures import accuracy_bars, bon_chart, cost_scatter
from agentark.evaluate.render import gate_html, heatmap_legend_html, steps_html
from agentark.evaluate.report import METRIC_COLUMNS, html_report, metric_rows
from agentark import jobs
from agentark.evaluate.sidebyside import side_by_side
from agentark.checkpoints import list_models
from agentark.tasks import dataset_choices
from agentark.store import run_tables
from agentark.ui import active_model, errors_shown, get_store, guard_shortcuts_while_typing
from agentark.ui.marks import correct_mark, diff_html

store = get_store()
st.title("Compare")
NO_PRM = "(no PRM)"


@st.cache_resource(show_spinner="Loading the PRM…")
def prm_scorer(name: str):
    from agentark.train.prm_scoring import load_prm

    return load_prm(name)


@st.cache_data(show_spinner="Scoring every sample with the PRM…")
def bon_curve(_store, run_id: str, prm: str, how: tuple[str, ...]):
    return best_of_n(_store, run_id, prm_scorer(prm), BonConfig(aggregations=list(how)))


with st.expander("Evaluate a model on held-out problems", expanded=False):
    with st.form("cmp_eval"):
        e1, e2, e3 = st.columns(3)
        model = e1.text_input("Model (studio id, folder or embedded)", value=active_model(), key="cmp_eval_model")
        dataset = e2.selectbox("Dataset", dataset_choices(), key="cmp_eval_dataset")
        split = e3.text_input("Split", value=EvalConfig.split, key="cmp_eval_split")
        e4, e5, e6, e7 = st.columns(4)
        method = e4.selectbox("Method", ["cot", "self_consistency", "debate", "mad", "critique"], key="cmp_eval_method",
                              help="cot: the model as one agent with its training solve prompt")
        limit = e5.number_input("Problems", 1, 100_000, EvalConfig.limit, key="cmp_eval_limit")
        samples = e6.number_input("Samples / agents (0: method default)", 0, 64, 0, key="cmp_eval_samples")
        max_tokens = e7.number_input("Max new tokens", 8, 4096, EvalConfig.max_tokens, key="cmp_eval_tokens")
        s1, s2 = st.columns([1, 3])
        engine = s1.selectbox("Engine", ["transformers", "openai", "vllm"], key="cmp_eval_engine")
        base_url = s2.text_input("Server base URL (openai engine), e.g. http://HOST:8000/v1", key="cmp_eval_url")
        allow = st.checkbox("Allow training problems (warn instead of refusing)", key="cmp_eval_allow")
        if st.form_submit_button("Start evaluation", type="primary"):
            with errors_shown():
                cfg = EvalConfig(model=model.strip(), dataset=dataset, split=split.strip(), limit=int(limit),
                                 method=method, samples=int(samples) or None, max_tokens=int(max_tokens),
                                 engine=engine,
                                 engine_options={"base_urls": [base_url.strip()]} if base_url.strip() else {},
                                 allow_overlap=allow)
                started = jobs.start("eval", cfg, store=store)
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
    g1, g2, g3, g4, g5 = st.columns(5)
    acc_pct = g1.number_input("Accuracy ≥ % of reference", 1.0, 200.0, CompareConfig.min_accuracy_ratio * 100,
                              key="cmp_gate_acc")
    tok_pct = g2.number_input("Tokens ≤ % of reference", 1.0, 1000.0, CompareConfig.max_token_ratio * 100,
                              key="cmp_gate_tok")
    p95 = g3.number_input("p95 latency under (s)", 0.01, 3600.0, CompareConfig.max_p95_latency_s, key="cmp_gate_p95")
    price_p = g4.number_input("USD / M prompt tokens", 0.0, 1000.0, CompareConfig.prompt_usd_per_mtok,
                              key="cmp_price_p")
    price_c = g5.number_input("USD / M completion tokens", 0.0, 1000.0, CompareConfig.completion_usd_per_mtok,
                              key="cmp_price_c")

comparison = None
with errors_shown():
    cfg = CompareConfig(min_accuracy_ratio=acc_pct / 100, max_token_ratio=tok_pct / 100, max_p95_latency_s=p95,
                        prompt_usd_per_mtok=price_p, completion_usd_per_mtok=price_c)
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
    how = st.multiselect("Aggregations", AGGREGATIONS, default=list(AGGREGATIONS), key="cmp_bon_how")
    with errors_shown():
        curves = [bon_curve(store, r, prm, tuple(how)) for r in sampled]
        for curve in curves:
            st.plotly_chart(bon_chart(curve), key=f"cmp_bon_{curve.run_id}")

st.download_button("Download the HTML report", html_report(comparison, curves), file_name="comparison.html",
                   mime="text/html", key="cmp_report")
