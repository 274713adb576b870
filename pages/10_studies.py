"""Study: declare an experiment (teacher, data arms, training, evaluation), run it as a job, read its result table.

An uploaded study file fills the form (its widgets are reset to the file's values when a new file arrives); the
chosen study's status, progress and table are a fragment that reruns every few seconds while the study runs, so
the page follows it without a reload.
"""
import hashlib

import pandas as pd
import streamlit as st

from agentark import jobs
from agentark.errors import AgentArkError, JobError
from agentark.options import from_values
from agentark.safe_text import md_text
from agentark.studies.arms import arm_title
from agentark.studies.study_config import StudyConfig, builtin_study, parse_study
from agentark.studies.study_job import StudyFolder, list_studies
from agentark.studies.study_report import (
    METHOD,
    html_report,
    setup_lines,
    study_result,
    table_rows,
    teacher_line,
    text_report,
)
from agentark.access import OPERATE
from agentark.ui import annotator, errors_shown, get_store
from agentark.ui.identity import allowed, may
from agentark.ui.forms import option_widgets

# Session keys of this page that are not the form's widgets (an uploaded file resets only the widgets).
KEEP = ("study_file", "study_file_loaded", "study_pick")
# Seconds between the fragment's reruns while the chosen study runs.
FOLLOW_EVERY_S = 2.0

store = get_store()
st.title("Studies")
st.caption("Does distilling the team's debate teach the student more than cheaper data? A study runs the teacher, "
           "the data arms (debate R-SFT, debate DA, single-agent self-distillation and the teacher alone, both of "
           "matched volume, corrections only, PAD) and their evaluations as jobs; a rerun reuses every step whose "
           "inputs did not change. The teacher may be debates you already have (Teacher runs: run ids or Du et al., "
           "MASLab or transcript files), read and not re-run. "
           "`python -m agentark study run FILE` does the same from a terminal.")

with st.expander("New study", expanded=not list_studies()):
    if allowed(OPERATE, "Starting a study"):
        uploaded = st.file_uploader("Start from a study file (TOML); otherwise the built-in study", type=["toml"],
                                    key="study_file")
        start_from = builtin_study()
        if uploaded is not None:
            with errors_shown():
                start_from = parse_study(uploaded.getvalue().decode("utf-8"), uploaded.name)
                # A new file's values replace what the form's widgets hold (they keep their state otherwise).
                loaded = hashlib.sha256(uploaded.getvalue()).hexdigest()
                if st.session_state.get("study_file_loaded") != loaded:
                    for key in [k for k in st.session_state if str(k).startswith("study_") and k not in KEEP]:
                        del st.session_state[key]
                    st.session_state["study_file_loaded"] = loaded
                st.caption(md_text(f"The form holds {uploaded.name} (study '{start_from.name}')."))
        with st.form("study_form"):
            st.caption("The study's own settings; each part of it (teacher, arms, students, training, evaluation) is the "
                       "config its steps run, below.")
            values = option_widgets(StudyConfig, "study", defaults=start_from, by_part=True)
            start = st.form_submit_button("Start study", type="primary")
        if start:
            with errors_shown():
                started = jobs.start("study", from_values(StudyConfig, values), by=annotator() or None)
                st.session_state["study_pick"] = started.job_id
                st.success(f"Study {started.job_id} started; its steps appear on the Jobs page.")

studies = list_studies()
if not studies:
    st.info("No study yet: start the built-in one above (about 30 minutes on two CPU cores).")
    st.stop()

ids = [f.job_id for f in reversed(studies)]
if st.session_state.get("study_pick") not in ids:
    st.session_state["study_pick"] = ids[0]
picked = st.selectbox("Study", ids, key="study_pick")
folder = next(f for f in studies if f.job_id == picked)


def step_progress(progress: dict) -> str:
    """The current phase's own progress: the step job in flight, its done / total and stage."""
    step = progress.get("step_job")
    if not step:
        return ""
    try:
        _, job = jobs.find(step)
    except JobError:
        return ""
    own = job.progress()
    total = own.get("total")
    return (f"current step {step}: {own.get('done') or 0} / {total or '?'}"
            + (f" · {own['stage']}" if own.get("stage") else ""))


@st.fragment(run_every=FOLLOW_EVERY_S if folder.status() in ("queued", "running") else None)
def show_study(folder: StudyFolder) -> None:
    """The study's status, progress and table; rerun on its own while the study runs."""
    picked = folder.job_id
    status, progress = folder.status(), folder.progress()
    cols = st.columns([4, 1])
    cols[0].write(f"**{folder.meta().get('name')}** · {status} · {progress.get('stage') or ''}"
                  + (f" · started by {folder.meta()['started_by']}" if folder.meta().get("started_by") else ""))
    cols[0].caption(f"steps done: {progress.get('done') or 0} / {progress.get('total') or '?'}"
                    + (f" · {step_progress(progress)}" if step_progress(progress) else ""))
    with errors_shown():
        if may(OPERATE) and status in ("queued", "running") and cols[1].button("Stop", key="study_stop"):
            jobs.stop(picked)
            st.rerun()
        if may(OPERATE) and status in ("stopped", "failed", "interrupted") and cols[1].button(
                "Resume", key="study_resume"):
            jobs.resume(picked)
            st.rerun()
    if progress.get("error"):
        st.error(progress["error"])
    try:
        result = study_result(store, picked)
    except AgentArkError as exc:
        st.error(str(exc))
        return
    st.markdown(md_text(teacher_line(result)))
    rows = table_rows(result)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"study_table_{picked}")
    else:
        st.caption("No arm has been evaluated yet.")
    for arm, error in sorted(result.errors.items()):
        st.warning(f"{arm_title(arm)}: {md_text(error)}")
    for a in result.arms:
        for warning in a.warnings:
            st.warning(f"{arm_title(a.arm)}: {md_text(warning)}")
        if "NOT matched" in a.note:
            st.warning(f"{arm_title(a.arm)}: {md_text(a.note)}")
    if result.verdicts:
        st.markdown("**Verdicts**\n" + "\n".join(f"- {md_text(v)}" for v in result.verdicts))
    st.caption(METHOD)
    with st.expander("Setup, and what is behind each row: runs, exports, jobs, models"):
        for line in setup_lines(result) + text_report(result)[2:]:
            st.text(line)
        st.caption("Open a run on **Debate viewer** or **Compare**, a job on **Jobs**, a model on **Train**.")
    st.download_button("Download the result (HTML)", html_report(result), file_name=f"{picked}.html",
                       mime="text/html", key="study_html")


show_study(folder)
