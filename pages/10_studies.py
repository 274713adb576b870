"""Study: declare an experiment (teacher, data arms, training, evaluation), run it as a job, read its result table."""
import pandas as pd
import streamlit as st

from agentark import jobs
from agentark.errors import AgentArkError
from agentark.options import from_values
from agentark.safe_text import md_text
from agentark.studies.arms import arm_title
from agentark.studies.study_config import StudyConfig, builtin_study, parse_study
from agentark.studies.study_job import list_studies
from agentark.studies.study_report import html_report, study_result, table_rows, teacher_line, text_report
from agentark.ui import errors_shown, get_store
from agentark.ui.forms import option_widgets

store = get_store()
st.title("Studies")
st.caption("Does distilling the team's debate teach the student more than cheaper data? A study runs the teacher, "
           "the data arms (debate R-SFT, debate DA, single-agent self-distillation of matched volume, corrections "
           "only, PAD) and their evaluations as jobs; a rerun reuses every step whose inputs did not change. "
           "`python -m agentark study run FILE` does the same from a terminal.")

with st.expander("New study", expanded=not list_studies()):
    uploaded = st.file_uploader("Start from a study file (TOML); otherwise the built-in study", type=["toml"],
                                key="study_file")
    start_from = builtin_study()
    if uploaded is not None:
        with errors_shown():
            start_from = parse_study(uploaded.getvalue().decode("utf-8"), uploaded.name)
    with st.form("study_form"):
        st.caption("The study's own settings; each part of it (teacher, arms, students, training, evaluation) is the "
                   "config its steps run, below.")
        values = option_widgets(StudyConfig, "study", defaults=start_from, by_part=True)
        start = st.form_submit_button("Start study", type="primary")
    if start:
        with errors_shown():
            started = jobs.start("study", from_values(StudyConfig, values))
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
status = folder.status()
cols = st.columns([4, 1])
cols[0].write(f"**{folder.meta().get('name')}** · {status} · {folder.progress().get('stage') or ''}")
with errors_shown():
    if status in ("queued", "running") and cols[1].button("Stop", key="study_stop"):
        jobs.stop(picked)
        st.rerun()
    if status in ("stopped", "failed", "interrupted") and cols[1].button("Resume", key="study_resume"):
        jobs.resume(picked)
        st.rerun()
if folder.progress().get("error"):
    st.error(folder.progress()["error"])

try:
    result = study_result(store, picked)
except AgentArkError as exc:
    st.error(str(exc))
    st.stop()
st.markdown(md_text(teacher_line(result)))
rows = table_rows(result)
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"study_table_{picked}")
else:
    st.caption("No arm has been evaluated yet.")
for arm, error in sorted(result.errors.items()):
    st.warning(f"{arm_title(arm)}: {md_text(error)}")
st.caption("Accuracy: mean over seeds; intervals: 95% percentile bootstrap over problems; lift and 'vs single': "
           "paired differences on the problems both arms finished, decided by one rule: the exact sign test (McNemar "
           "with one seed) and the exact interval that agrees with it, or 'too few discordant pairs' when too few "
           "problems differ to decide. Every evaluation went through the held-out check of its model's training problems.")
with st.expander("Behind each row: runs, exports, jobs, models"):
    for line in text_report(result)[2:]:
        st.text(line)
    st.caption("Open a run on **Debate viewer** or **Compare**, a job on **Jobs**, a model on **Train**.")
st.download_button("Download the result (HTML)", html_report(result), file_name=f"{picked}.html",
                   mime="text/html", key="study_html")
