"""Run debates: choose a dataset, a method and a model, start a background run, watch it progress."""
import streamlit as st

from agentark import jobs
from agentark.debate import METHODS, DebateConfig
from agentark.runfolder import RunFolder
from agentark.tasks import dataset_choices
from agentark.ui import active_model, errors_shown, get_store

store = get_store()
st.title("Run debates")

FILE_OPTION = "a file on this machine…"

with st.form("new_run", border=True):
    left, right = st.columns(2)
    with left:
        dataset = st.selectbox("Dataset", dataset_choices() + [FILE_OPTION], key="run_dataset")
        path = st.text_input("File path (.jsonl / .json / .parquet / .csv)", key="run_path",
                             help="Used when the dataset is a file; GSM8K-style question/answer columns.")
        limit = st.number_input("Problems", min_value=1, max_value=100_000, value=8, key="run_limit")
        method = st.selectbox("Method", sorted(METHODS), index=sorted(METHODS).index("debate"), key="run_method")
        model = st.text_input("Model", value=active_model(), key="run_model")
    with right:
        agents = st.number_input("Agents", min_value=1, max_value=16, value=3, key="run_agents")
        rounds = st.number_input("Rounds", min_value=1, max_value=10, value=2, key="run_rounds")
        temperature = st.slider("Temperature", 0.0, 1.5, 0.7, 0.05, key="run_temperature")
        max_tokens = st.number_input("Max new tokens", min_value=16, max_value=4096, value=256, step=16, key="run_max_tokens")
        seed = st.number_input("Seed", min_value=0, value=0, key="run_seed")
        aggregator = st.checkbox("Aggregator call decides the final answer", key="run_aggregator")
    submitted = st.form_submit_button("Start run", type="primary")

if submitted:
    with errors_shown():
        single = method == "cot"
        cfg = DebateConfig(
            method=method,
            dataset=path.strip() if dataset == FILE_OPTION else dataset,
            limit=int(limit),
            agents=None if single else int(agents),
            rounds=None if single else int(rounds),
            temperature=float(temperature),
            max_tokens=int(max_tokens),
            seed=int(seed),
            aggregator=bool(aggregator),
            model=model.strip(),
        )
        run_id, report = jobs.launch_debate(store, cfg)
        st.session_state["last_run"] = run_id
        st.success(f"Started run **{run_id}** on {len(report.problems)} problems.")
        for line, reason in report.rejected:
            st.warning(f"{report.source} line {line} skipped: {reason}")


@st.fragment(run_every=2)
def live_runs() -> None:
    store.refresh()
    runs = store.list_runs()
    active = runs[runs["status"].isin(["queued", "running"])]
    st.subheader("In progress")
    if active.empty:
        st.caption("No run is in progress.")
    for row in active.itertuples():
        progress = RunFolder(row.run_id).progress()
        done, total = int(progress.get("done", 0)), int(progress.get("total", row.problems) or 1)
        stage = progress.get("stage", "starting")
        st.progress(done / max(total, 1), text=f"{row.run_id}: {done}/{total} problems · {stage}")
        if st.button("Stop", key=f"stop_{row.run_id}"):
            jobs.stop(row.run_id)
    interrupted = runs[runs["status"].isin(["interrupted", "failed"])]
    for row in interrupted.itertuples():
        cols = st.columns([4, 1])
        error = RunFolder(row.run_id).progress().get("error")
        cols[0].warning(f"{row.run_id} {row.status} at {row.done}/{row.problems}" + (f": {error}" if error else ""))
        if cols[1].button("Resume", key=f"resume_{row.run_id}"):
            with errors_shown():
                jobs.resume_background(store, row.run_id)
                st.rerun()
    st.subheader("Runs")
    if runs.empty:
        st.caption("No runs yet: start one above, or from the CLI with `python -m agentark debate`.")
        return
    st.dataframe(
        runs[["run_id", "method", "model", "dataset", "problems", "done", "status", "accuracy", "created_at"]],
        hide_index=True, width="stretch", key="runs_table",
        column_config={"accuracy": st.column_config.ProgressColumn("final accuracy", min_value=0.0, max_value=1.0, format="percent")},
    )
    last = st.session_state.get("last_run")
    if last and last in set(runs["run_id"]):
        acc = store.round_accuracy(last)
        if not acc.empty:
            st.caption(f"Accuracy per round of {last}")
            st.dataframe(acc, hide_index=True, key=f"round_acc_{last}")


live_runs()
