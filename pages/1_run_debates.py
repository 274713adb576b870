"""Run debates: choose a dataset, a method and a model, start a background run, watch it progress.

Watching is cheap: a fragment reads the run folders' progress files every few seconds and reruns the page
(which refreshes the store) only when a run appears, stores a shard or ends.
"""
import streamlit as st

from agentark import jobs
from agentark.debate import DebateConfig, first_run_config
from agentark.debate.debate_job import RunFolder
from agentark.debate.debate_job import runs_in_flight
from agentark.evaluate.team_vs_single import has_both_sides, team_vs_single
from agentark.options import from_values
from agentark.progress import format_eta
from agentark.runs.names import RunLabels, tokens_text
from agentark.runs.formats import TranscriptImportConfig, format_names, import_transcripts, upload_config
from agentark.safe_text import md_text
from agentark.store import run_tables
from agentark.store.transcript_tables import run_costs
from agentark.ui import errors_shown, get_store
from agentark.ui.first_result import show_team_vs_single
from agentark.ui.forms import option_widgets

store = get_store()
st.title("Run debates")

with st.form("new_run", border=True):
    st.caption("The defaults finish within a minute on 2 CPU cores with the embedded model, then compare one agent "
               "with the team on the same problems.")
    values = option_widgets(DebateConfig, "run", defaults=first_run_config())
    submitted = st.form_submit_button("Start run", type="primary")

if submitted:
    with errors_shown():
        cfg = from_values(DebateConfig, values)
        started = jobs.start("debate", cfg)
        run_id, report = started.job_id, started.info
        store.refresh()  # registers the run, so the app lists it at once
        st.session_state["last_run"] = run_id
        st.success(f"Started run **{run_id}** on {len(report.problems)} problems.")
        for line, reason in report.rejected:
            st.warning(f"{md_text(report.source)} line {line} skipped: {md_text(reason)}")
        for line, reason in report.warnings:
            st.warning(f"{md_text(report.source)} line {line}: {md_text(reason)}")

with st.expander("Import transcripts from another tool", expanded=False):
    st.caption("Du et al. llm_multiagent_debate JSON, MASLab/AgentArk-reference JSONL, or an AgentArk transcript "
               "export (`python -m agentark export transcripts`). Good records are kept; the rest are listed.")
    with st.form("import_form", border=False):
        upload = st.file_uploader("File", type=["json", "jsonl"], key="import_file")
        import_values = option_widgets(TranscriptImportConfig, "import", skip=("path",),
                                       defaults=TranscriptImportConfig(format_names()[0]))
        do_import = st.form_submit_button("Import")
    if do_import:
        with errors_shown():
            if upload is None:
                st.error("Choose a file to import first.")
            else:
                cfg = upload_config(from_values(TranscriptImportConfig, import_values), upload.name, upload.getvalue())
                report = import_transcripts(store, cfg)
                st.success(md_text(report.summary()))
                for where in report.rejection_lines():
                    st.warning(f"rejected: {md_text(where)}")
                for warning in report.warning_lines():
                    st.warning(f"imported, but {md_text(warning)}")


def show_progress(active) -> None:
    st.subheader("In progress")
    if not active:
        st.caption("No run is in progress.")
    for run in active:
        st.progress(run.fraction, text=f"{run.run_id}: {run.done}/{run.total} problems · {run.stage} · "
                                       f"{format_eta(run.eta_s)}")
        if st.button("Stop", key=f"stop_{run.run_id}"):
            jobs.stop(run.run_id)


def watch_runs() -> None:
    """Every few seconds: progress from the run folders; a page rerun only when the store has news."""
    active, signature = runs_in_flight()
    if signature != st.session_state.get("runs_signature"):
        st.rerun(scope="app")
    show_progress(active)


active, st.session_state["runs_signature"] = runs_in_flight()
# Poll often while something runs; otherwise just often enough to notice a run started from the CLI.
st.fragment(run_every=3 if active else 10)(watch_runs)()

runs = run_tables.list_runs(store)
interrupted = runs[runs["status"].isin(["interrupted", "failed", "stopped"])]
for row in interrupted.itertuples():
    cols = st.columns([4, 1])
    error = RunFolder(row.run_id).progress().get("error")
    cols[0].warning(f"{row.run_id} {row.status} at {row.done}/{row.problems}" + (f": {error}" if error else ""))
    if cols[1].button("Resume", key=f"resume_{row.run_id}"):
        with errors_shown():
            jobs.resume(row.run_id)
            store.refresh()
            st.rerun()
st.subheader("Runs")
if runs.empty:
    st.caption("No runs yet: start one above, or from the CLI with `python -m agentark debate`.")
else:
    st.dataframe(
        runs[["run_id", "name", "method", "model", "dataset", "problems", "done", "status", "accuracy", "created_at"]],
        hide_index=True, width="stretch", key="runs_table",
        column_config={"accuracy": st.column_config.ProgressColumn("final accuracy", min_value=0.0, max_value=1.0, format="percent")},
    )
    costs = run_costs(store)
    if not costs.empty:
        st.caption("Cost per finished problem (tokens from the engine's usage; time: its share of the engine calls, each call's wall time split over its requests)")
        # Runs imported without usage figures recorded no tokens: "—", not 0.
        tokens = ["prompt_tokens_per_problem", "completion_tokens_per_problem"]
        costs = costs.assign(**{c: costs[c].map(tokens_text) for c in tokens})
        st.dataframe(costs, hide_index=True, width="stretch", key="run_costs_table",
                     column_config={"wall_s_per_problem": st.column_config.NumberColumn("wall s / problem", format="%.2f")})
    last = st.session_state.get("last_run")
    if last and last in set(runs["run_id"]):
        acc = run_tables.round_accuracy(store, last)
        if not acc.empty:
            st.caption(f"Accuracy per round of {last}")
            st.dataframe(acc, hide_index=True, key=f"round_acc_{last}")
    # The question every run answers: did the team beat one agent? Shown for the run started here once it is
    # finished, else for the latest finished run that has a team.
    done = runs[(runs["status"] == "done") & runs["method"].map(has_both_sides).astype(bool)]
    shown = last if last in set(done["run_id"]) else (None if last in set(runs["run_id"]) or done.empty
                                                      else done["run_id"].iloc[0])
    result = team_vs_single(store, shown) if shown else None
    if result is not None:
        show_team_vs_single(result, RunLabels.of(runs).option(shown))
