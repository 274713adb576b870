"""Jobs: every background job of every kind in one table, with stop and resume that work the same for each."""
import pandas as pd
import streamlit as st

from agentark import jobs
from agentark.ui import errors_shown, get_store

store = get_store()
st.title("Jobs")
st.caption("Debate runs, Monte-Carlo labeling, training and evaluation: each is a job folder under the data "
           "folder. Stop ends a job after its current step; Resume continues from its finished work. "
           "`python -m agentark jobs` lists the same table.")

ACTIVE = ("queued", "running")
RESUMABLE = ("stopped", "failed", "interrupted")


@st.fragment(run_every=2)
def job_table() -> None:
    rows = jobs.list_jobs()
    if not rows:
        st.caption("No jobs yet: start a debate on the Run page, or Monte-Carlo labels on the Label page.")
        return
    frame = pd.DataFrame(rows, columns=jobs.COLUMNS)
    frame["progress"] = frame["done"] / frame["total"].clip(lower=1)
    st.dataframe(
        frame[["job_id", "title", "kind", "status", "progress", "done", "total", "stage", "started_at", "ended_at",
               "error"]],
        hide_index=True, width="stretch", key="jobs_table",
        column_config={"title": st.column_config.TextColumn("job"), "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0,
                                                                   format="percent")},
    )
    for row in rows:
        if row["status"] not in ACTIVE + RESUMABLE:
            continue
        cols = st.columns([4, 1])
        cols[0].write(f"**{row['job_id']}** · {row['kind']} · {row['status']} at {row['done']}/{row['total']}")
        with errors_shown():
            if row["status"] in ACTIVE and cols[1].button("Stop", key=f"jobs_stop_{row['job_id']}"):
                jobs.stop(row["job_id"])
                st.rerun()
            if row["status"] in RESUMABLE and cols[1].button("Resume", key=f"jobs_resume_{row['job_id']}"):
                jobs.resume(row["job_id"])
                store.refresh()
                st.rerun()


job_table()
