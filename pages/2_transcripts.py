"""Transcripts: one problem of one run, rounds as rows and agents as columns, with answers and marks."""
import streamlit as st

from agentark.ui import get_store

store = get_store()
st.title("Transcripts")

runs = store.list_runs()
runs = runs[runs["messages"] > 0]
if runs.empty:
    st.info("No run has finished problems yet. Start one on **Run debates**.")
    st.stop()

run_ids = list(runs["run_id"])
wanted = st.query_params.get("run")
run_id = st.selectbox("Run", run_ids, index=run_ids.index(wanted) if wanted in run_ids else 0, key="tr_run")
problems = store.run_problems(run_id)
problems = problems[problems["final_answer"].notna() | problems["is_correct"].notna()]
if problems.empty:
    st.info("This run has no finished problem yet.")
    st.stop()
labels = {
    r.problem_id: f"#{r.idx + 1} {'✓' if r.is_correct else '✗'} {r.question[:90]}" for r in problems.itertuples()
}
ids = list(labels)
wanted_problem = st.query_params.get("problem")
problem_id = st.selectbox(
    "Problem", ids, index=ids.index(wanted_problem) if wanted_problem in ids else 0,
    format_func=labels.get, key=f"tr_problem_{run_id}",
)
st.query_params.update({"run": run_id, "problem": problem_id})

row = problems[problems["problem_id"] == problem_id].iloc[0]
st.markdown(f"**Question.** {row.question}")
c1, c2, c3, c4 = st.columns(4)
c1.metric("Reference answer", row.reference_answer)
c2.metric("Final answer", row.final_answer if row.final_answer is not None else "—")
c3.metric("Consensus", f"{row.consensus:.0%}" if row.consensus == row.consensus else "—")
c4.metric("Tokens", int((row.prompt_tokens or 0) + (row.completion_tokens or 0)))
st.markdown(":green[:material/check_circle: correct]" if row.is_correct else ":red[:material/cancel: wrong]")

messages = store.messages(run_id, problem_id)
agents = sorted(messages["agent"].unique(), key=lambda a: (a == "aggregator", a))
solver_agents = [a for a in agents if a != "aggregator"]
for rnd in sorted(messages["round"].unique()):
    in_round = messages[messages["round"] == rnd]
    st.markdown(f"#### Round {rnd}")
    shown = [a for a in agents if a in set(in_round["agent"])]
    columns = st.columns(max(len(solver_agents), 1))
    for col, agent in zip(columns, shown):
        msg = in_round[in_round["agent"] == agent].iloc[0]
        mark = (":orange[:material/error: failed]" if msg.error
                else ":green[:material/check_circle:]" if msg.is_correct else ":red[:material/cancel:]")
        with col:
            st.markdown(f"**{agent}** · answer `{msg.answer}` {mark}")
            st.caption(f"{msg.completion_tokens} tokens · {msg.model}")
            with st.container(height=260, border=True):
                st.markdown(msg.error or msg.content)

st.subheader("Accuracy per round")
st.dataframe(store.round_accuracy(run_id), hide_index=True, key=f"tr_acc_{run_id}")
