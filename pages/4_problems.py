"""Problem list: filter a run's problems (or several runs'), sort, page, open one, and mark them in bulk.

The filter lives in the query parameters, so a dashboard click, a shared link and the viewer's
next/previous all see the same list.
"""
import streamlit as st

from agentark.runs.curation import MARKS, Mark, mark_targets
from agentark.runs.names import RunLabels, tokens_text
from agentark.safe_text import md_text
from agentark.store.trace_tables import (
    CONSENSUS,
    MARK_FILTERS,
    SORTS,
    ProblemFilter,
    problem_keys,
    problem_page,
    run_agents,
)
from agentark.ui import annotator, errors_shown, finished_runs, get_store

store = get_store()
st.title("Problems")

runs = finished_runs(store)

with errors_shown():
    given = ProblemFilter.from_params(st.query_params.to_dict())
    run_ids = list(runs["run_id"])
    labels = RunLabels.of(runs)
    datasets = sorted(runs["dataset"].dropna().unique())
    correct_options = {"any": None, "right": True, "wrong": False}

    c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
    chosen_runs = c1.multiselect("Runs", run_ids, default=[r for r in given.runs if r in run_ids] or run_ids[:1],
                                 key="pl_runs", help="empty: every run", format_func=labels.option)
    dataset = c2.selectbox("Dataset", ["any"] + datasets,
                           index=(["any"] + datasets).index(given.dataset) if given.dataset in datasets else 0,
                           key="pl_dataset")
    correct = c3.selectbox("Final answer", list(correct_options),
                           index=list(correct_options.values()).index(given.correct), key="pl_correct")
    consensus = c4.selectbox("Consensus", CONSENSUS, index=CONSENSUS.index(given.consensus), key="pl_consensus")

    c5, c6, c7, c8, c9 = st.columns([1, 1, 1, 1, 2])
    corrected = c5.checkbox("has correction", value=given.corrected, key="pl_corrected", help="an agent went wrong → right")
    regressed = c6.checkbox("has regression", value=given.regressed, key="pl_regressed", help="an agent went right → wrong")
    wrong_to_wrong = c7.checkbox("wrong → wrong", value=given.wrong_to_wrong, key="pl_w2w",
                                 help="an agent changed one wrong answer for another")
    agents = run_agents(store, chosen_runs)
    agents = agents + ([given.agent] if given.agent and given.agent not in agents else [])
    agent = c8.selectbox("Agent", ["any"] + agents, index=(["any"] + agents).index(given.agent) if given.agent else 0,
                         key="pl_agent", help="problems this agent spoke in; narrows corrections/regressions to it")
    mark = c9.selectbox("Curation", MARK_FILTERS, index=MARK_FILTERS.index(given.mark), key="pl_mark")

    c10, c11, c12 = st.columns([4, 2, 1])
    text = c10.text_input("Search questions and messages", value=given.text, key="pl_text")
    sort = c11.selectbox("Sort by", list(SORTS), index=list(SORTS).index(given.sort), key="pl_sort")
    descending = c12.checkbox("descending", value=given.descending, key="pl_desc")

    narrowing = {k: getattr(given, k) for k in ("transition_round", "tokens_min", "tokens_max") if getattr(given, k) is not None}
    if narrowing:
        shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in narrowing.items())
        n1, n2 = st.columns([5, 1])
        n1.info(f"From the dashboard: {shown}.")
        if n2.button("Clear", key="pl_clear_narrowing"):
            narrowing = {}

    flt = ProblemFilter(
        runs=tuple(chosen_runs), dataset=None if dataset == "any" else dataset, correct=correct_options[correct],
        consensus=consensus, corrected=corrected, regressed=regressed, wrong_to_wrong=wrong_to_wrong,
        agent=None if agent == "any" else agent, text=text, mark=mark, sort=sort, descending=descending, **narrowing,
    )
    link = flt.to_params()
    filter_key = "|".join(f"{k}={v}" for k, v in sorted(link.items()))
    page_size = 50
    first = problem_page(store, flt, 0, page_size)
    page_no = 0
    if first.pages > 1:
        page_no = st.number_input(f"Page (of {first.pages})", min_value=1, max_value=first.pages, value=1,
                                  key=f"pl_page_{filter_key}") - 1
    page = first if page_no == 0 else problem_page(store, flt, page_no, page_size)
    st.query_params.from_dict({**link, **({"page": str(page_no + 1)} if page_no else {})})

    st.caption(f"**{page.total}** problems match · page {page_no + 1} of {page.pages}")
    rows = page.rows.copy()
    rows["open"] = [flt.viewer_link(r.run_id, r.problem_id) for r in rows.itertuples()]
    rows["number"] = rows["idx"] + 1
    rows["run"] = rows["run_id"].map(labels)
    rows["tokens"] = rows["tokens"].map(tokens_text)
    selection = st.dataframe(
        rows[["open", "run", "number", "question", "reference_answer", "final_answer", "is_correct", "consensus",
              "corrections", "regressions", "wrong_to_wrong", "tokens", "mark"]],
        hide_index=True, width="stretch", key=f"pl_table_{filter_key}_{page_no}",
        on_select="rerun", selection_mode="multi-row",
        column_config={
            "open": st.column_config.LinkColumn("open", display_text="view"),
            "consensus": st.column_config.ProgressColumn("consensus", min_value=0.0, max_value=1.0, format="percent"),
            "is_correct": st.column_config.CheckboxColumn("right"),
        },
    )

    st.subheader("Mark problems")
    selected = list(selection.selection.rows) if selection else []
    with st.form("pl_bulk", border=True):
        b1, b2, b3 = st.columns([1, 2, 3])
        bulk_mark = b1.radio("Mark", MARKS, key="pl_bulk_mark", horizontal=True)
        scope = b2.radio("Which problems", [f"selected rows ({len(selected)})", f"all {page.total} matching the filter"],
                         key="pl_bulk_scope")
        note = b3.text_input("Note (optional)", key="pl_bulk_note")
        if st.form_submit_button("Apply", type="primary"):
            if scope.startswith("selected"):
                targets = [(rows.iloc[i].run_id, rows.iloc[i].problem_id) for i in selected]
            else:
                keys = problem_keys(store, flt)
                targets = list(zip(keys.run_id, keys.problem_id))
            who = annotator() or "anonymous"
            written = mark_targets(store, [Mark(r, p, bulk_mark, note=note or None, annotator=who) for r, p in targets])
            st.success(f"Marked {written} problems **{bulk_mark}** (by {md_text(who)}).")
            st.cache_data.clear()
