"""Debate viewer: one problem at a time, rounds as rows and agents as columns, with changes and curation.

The address is the state: ``?run=RUN&problem=PROBLEM`` plus the problem list's filter, so a link opens
the same problem and Next/Previous walk the same filtered list.
"""
import pandas as pd
import streamlit as st

from agentark.labels.corrections import problem_corrections
from agentark.runs.curation import Mark, mark_targets
from agentark.runs.names import RunLabels, tokens_text
from agentark.store import curation_tables, run_tables
from agentark.store.trace_tables import ProblemFilter, agent_order, neighbours, problem_page
from agentark.runs.traces import agent_transitions, vote_tally
from agentark.safe_text import md_code, md_text
from agentark.ui import annotator, errors_shown, get_store
from agentark.ui.marks import agent_dot, correct_mark, diff_html

store = get_store()
st.title("Debate viewer")
PREVIEW_CHARS = 600
# How grading read an answer, when it is worth a note under the message (grading.ANSWER_KINDS).
ANSWER_NOTES = {"implicit": "answer read as the last number (not stated)",
                "ambiguous": "final answer names alternatives: ungradable, counted wrong"}

runs = run_tables.list_runs(store)
runs = runs[runs["messages"] > 0]
if runs.empty:
    st.info("No run has finished problems yet. Start one on **Run debates**.")
    st.stop()


def go_to(run_id: str, problem_id: str) -> None:
    """Move to another problem of the same filtered list (a button callback, so it runs before the page)."""
    st.query_params["run"] = run_id
    st.query_params["problem"] = problem_id
    st.session_state["tr_run"] = run_id


def mark(run_id: str, problem_id: str, value: str, message_id: str | None = None, note_key: str | None = None) -> None:
    note = (st.session_state.get(note_key) or "").strip() or None if note_key else None
    with errors_shown():
        mark_targets(store, [Mark(run_id, problem_id, value, message_id=message_id, note=note, annotator=annotator() or "anonymous")])


with errors_shown():
    params = st.query_params.to_dict()
    run_ids = list(runs["run_id"])
    linked_run = params.get("run") if params.get("run") in run_ids else run_ids[0]
    if st.session_state.get("tr_run") not in run_ids:
        st.session_state["tr_run"] = linked_run
    run_id = st.selectbox("Run", run_ids, key="tr_run", format_func=RunLabels.of(runs).option)
    flt = ProblemFilter.from_params(params)
    if run_id != linked_run or not flt.runs:
        # A run chosen here (or a bare link) browses that run in run order.
        flt = ProblemFilter(runs=(run_id,)) if run_id != linked_run else flt.replace(runs=(run_id,))
    problem_id = params.get("problem") if run_id == linked_run else None
    if not problem_id or not run_tables.has_outcome(store, run_id, problem_id):
        first = problem_page(store, flt, 0, 1).rows
        if first.empty:
            st.info("No finished problem matches this filter. Widen it on **Problems**.")
            st.stop()
        run_id, problem_id = first.iloc[0].run_id, first.iloc[0].problem_id
    st.query_params.from_dict({**flt.to_params(), "run": run_id, "problem": problem_id})

    around = neighbours(store, flt, run_id, problem_id)
    nav = st.columns([1, 1, 4])
    nav[0].button("◀ Previous", key="tr_prev", disabled=around["prev"] is None, width="stretch",
                  on_click=go_to, args=around["prev"] or ("", ""))
    nav[1].button("Next ▶", key="tr_next", disabled=around["next"] is None, width="stretch",
                  on_click=go_to, args=around["next"] or ("", ""))
    where = f"problem {around['position']} of {around['total']} in the current filter" if around["position"] else \
        "this problem is outside the current filter"
    nav[2].caption(f"{where} · link: " + md_code(f"?run={run_id}&problem={problem_id}"))

    problem = run_tables.problem(store, problem_id)
    outcome = run_tables.run_problems(store, run_id).set_index("problem_id").loc[problem_id]
    messages = run_tables.messages(store, run_id, problem_id)
    records = messages.to_dict("records")
    transitions = {(t.agent, t.to_round): t for t in agent_transitions(records)}
    marks = curation_tables.latest_marks(store, run_id)
    marks = marks[marks["problem_id"] == problem_id]
    problem_mark = marks[marks["message_id"].isna()]
    message_marks = marks[marks["message_id"].notna()].set_index("message_id")
    corrections = problem_corrections(store, run_id, problem_id)

    st.markdown(f"**Question.** {md_text(problem['question'])}")
    solvers = messages[messages["role"] == "solver"]
    last_round = int(solvers["round"].max()) if not solvers.empty else 0
    tally = vote_tally(solvers.loc[solvers["round"] == last_round, "answer"])
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("Reference answer", problem["reference_answer"])
    c2.metric("Final vote", outcome.final_answer if outcome.final_answer is not None else "—",
              delta="right" if outcome.is_correct else "wrong", delta_color="normal" if outcome.is_correct else "inverse")
    c3.metric("Consensus", f"{outcome.consensus:.0%}" if outcome.consensus == outcome.consensus else "—")
    kinds = [t.kind for t in transitions.values()]
    c4.metric("Corrections / regressions", f"{kinds.count('correction')} / {kinds.count('regression')}")
    # An imported outcome may not say its tokens (NA, which `or 0` cannot test).
    c5.metric("Tokens", tokens_text(sum(int(t) for t in (outcome.prompt_tokens, outcome.completion_tokens)
                                        if not pd.isna(t))))
    st.caption("Final-round votes: " + (" · ".join(f"{md_code(a)} ×{n}" for a, n in tally) or "no answers"))

    with st.container(border=True):
        m1, m2, m3, m4 = st.columns([3, 1, 1, 3])
        m1.text_input("Note for this problem", key=f"tr_note_{run_id}_{problem_id}", label_visibility="collapsed",
                      placeholder="note for this problem (optional)")
        m2.button("Keep problem", key="tr_keep", width="stretch", on_click=mark,
                  args=(run_id, problem_id, "keep", None, f"tr_note_{run_id}_{problem_id}"))
        m3.button("Exclude problem", key="tr_exclude", width="stretch", on_click=mark,
                  args=(run_id, problem_id, "exclude", None, f"tr_note_{run_id}_{problem_id}"))
        if problem_mark.empty:
            m4.caption("Not marked yet.")
        else:
            pm = problem_mark.iloc[0]
            m4.markdown(f"Marked **{md_text(pm['mark'])}** by {md_text(pm['annotator'] or 'anonymous')} at "
                        f"{pm['created_at']:%Y-%m-%d %H:%M}" + (f" — _{md_text(pm['note'])}_" if pm["note"] else ""))

    show_diff = st.toggle("Word diff against the agent's previous round", key="tr_diff")
    agents = agent_order(messages["agent"])
    solver_agents = [a for a in agents if a != "aggregator"]
    previous: dict[str, str] = {}
    for rnd in sorted(messages["round"].unique()):
        in_round = messages[messages["round"] == rnd]
        is_aggregator = set(in_round["role"]) == {"aggregator"}
        st.markdown("#### Aggregator" if is_aggregator else f"#### Round {rnd}")
        shown = [a for a in agents if a in set(in_round["agent"])]
        columns = st.columns(max(len(solver_agents), 1))
        for col, agent in zip(columns, shown):
            msg = in_round[in_round["agent"] == agent].iloc[0]
            verdict = ":orange[:material/error: failed]" if msg.error else correct_mark(msg.is_correct)
            with col:
                # The only HTML here is the dot (a palette colour); the name and answer are escaped text.
                st.markdown(f"{agent_dot(agent)} **{md_text(agent)}** · answer {md_code(msg.answer)} {verdict}",
                            unsafe_allow_html=True)
                st.caption(f"{tokens_text(msg.completion_tokens)} tokens · {md_text(msg.model or '—')}")
                if msg.get("finish_reason") == "length":
                    st.markdown(":orange[:material/content_cut: cut off at the token limit]"
                                + (" · no answer stated" if msg.get("answer_kind") == "cut_off" else ""))
                if msg.get("answer_kind") in ANSWER_NOTES:
                    st.caption(ANSWER_NOTES[msg.get("answer_kind")])
                change = transitions.get((agent, int(rnd)))
                if change and change.kind in ("correction", "regression", "wrong_to_wrong"):
                    text = {"correction": ":green[↗ correction]", "regression": ":red[↘ regression]",
                            "wrong_to_wrong": ":orange[↔ changed, still wrong]"}[change.kind]
                    st.markdown(f"{text} {md_code(change.prev_answer)} → {md_code(change.answer)}")
                content = msg.error or msg.content or ""
                with st.container(border=True):
                    if show_diff and agent in previous:
                        st.html(diff_html(previous[agent], content))
                    elif len(content) > PREVIEW_CHARS:
                        st.markdown(md_text(content[:PREVIEW_CHARS].rsplit(" ", 1)[0]) + " …")
                        with st.expander(f"Show the whole message ({len(content)} characters)"):
                            st.markdown(md_text(content))
                    else:
                        st.markdown(md_text(content))
                previous[agent] = content
                for fix in corrections[corrections["message_id"] == msg.message_id].itertuples():
                    step = f"step {fix.step_idx + 1}" if fix.step_idx >= 0 else "a step since segmented again"
                    with st.container(border=True):
                        st.markdown(f":violet[:material/edit: corrected] {step} by {md_text(fix.annotator)} at "
                                    f"{fix.created_at:%Y-%m-%d %H:%M}")
                        st.html(diff_html(fix.original_text, fix.text))
                        if fix.rest:
                            st.caption("Rest of the solution, as corrected:")
                            st.text(fix.rest)
                current = message_marks["mark"].get(msg.message_id) if not message_marks.empty else None
                b1, b2 = st.columns(2)
                b1.button("keep" + (" ✓" if current == "keep" else ""), key=f"tr_keep_{msg.message_id}",
                          width="stretch", on_click=mark, args=(run_id, problem_id, "keep", msg.message_id))
                b2.button("exclude" + (" ✓" if current == "exclude" else ""), key=f"tr_exclude_{msg.message_id}",
                          width="stretch", on_click=mark, args=(run_id, problem_id, "exclude", msg.message_id))
