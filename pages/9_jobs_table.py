"""Jobs: every background job of every kind in one table, with stop and resume that work the same for each."""
import pandas as pd
import streamlit as st

from agentark import jobs
from agentark.runs.names import run_labels
from agentark.ui import errors_shown, get_store

store = get_store()
st.title("Jobs")
st.caption("Debate runs, evaluations, Monte-Carlo and PRM labeling, training: each is a job folder under the data "
           "folder. A job waits, queued, until a slot on the device it needs is free (one heavy job per device by "
           "default; AGENTARK_SLOTS sets more), then starts by itself. Stop ends a job after its current "
           "micro-batch; Resume continues from its finished work. `python -m agentark jobs` lists the same table.")

ACTIVE = ("queued", "running")
RESUMABLE = ("stopped", "failed", "interrupted")


@st.cache_data(ttl=10, show_spinner=False)
def run_names(_store, store_path: str) -> dict[str, str]:
    """Run id -> the words shown for it (its name, else a short id); cached so a 2-second poll does not open
    the store each time, and keyed by the store's file so another store's names are never shown."""
    return dict(run_labels(_store).labels)


def job_names(rows: list[dict]) -> dict[str, str]:
    """A run's name (or short id) for jobs that are runs; other jobs keep their id."""
    labels = run_names(store, str(store.path))
    return {r["job_id"]: labels.get(r["job_id"], r["job_id"]) for r in rows}


@st.fragment(run_every=2)
def job_table() -> None:
    rows = jobs.list_jobs()
    if not rows:
        st.caption("No jobs yet: start a debate on the Run page, or Monte-Carlo labels on the Label page.")
        return
    names = job_names(rows)
    frame = pd.DataFrame(rows, columns=jobs.COLUMNS)
    frame.insert(0, "name", frame["job_id"].map(names))
    # Done of total as the job counts it; empty (not 0% or 200%) while the total is not known yet.
    frame["progress"] = frame["percent"] / 100.0
    st.dataframe(
        frame[["name", "title", "kind", "status", "queue", "progress", "done", "total", "stage", "needs", "started_at",
               "ended_at", "error", "job_id"]],
        hide_index=True, width="stretch", key="jobs_table",
        column_config={
            "title": st.column_config.TextColumn("job"),
            "queue": st.column_config.NumberColumn("place in queue", format="%d",
                                                   help="1 = starts next, when a slot on its device frees"),
            "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0, format="percent"),
        },
    )
    for row in rows:
        if row["status"] not in ACTIVE + RESUMABLE:
            continue
        cols = st.columns([4, 1])
        where = f"{row['queue']} in the queue" if row["queue"] else f"{row['done']}/{row['total'] or '?'}"
        cols[0].write(f"**{names[row['job_id']]}** · {row['title']} · {row['status']} · {where}")
        with errors_shown():
            if row["status"] in ACTIVE and cols[1].button("Stop", key=f"jobs_stop_{row['job_id']}"):
                jobs.stop(row["job_id"])
                st.rerun()
            if row["status"] in RESUMABLE and cols[1].button("Resume", key=f"jobs_resume_{row['job_id']}"):
                jobs.resume(row["job_id"])
                store.refresh()
                st.rerun()


job_table()
