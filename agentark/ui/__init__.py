"""Streamlit glue shared by app.py and the pages: the cached store, the sidebar and the error boundary.

The store object is a ``st.cache_resource``, but it holds no connection: every query opens the file, runs and
closes it (see ``agentark.store``), so the app never keeps the CLI out between reruns. Domain errors are shown once with ``st.error`` at the page
boundary, never swallowed.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pandas as pd
import streamlit as st

import agentark.jobs.builtin  # noqa: F401  (registers every job kind's ingester: the app's refresh ingests them all)
from agentark import config
from agentark.access import ADMIN, OPERATE
from agentark.errors import AgentArkError, as_label
from agentark.store import Store, run_tables
from agentark.ui import identity


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    return Store(path)


def get_store() -> Store:
    """The app's store; a file held by another process past the wait stops the page with the message that says why."""
    try:
        return _open_store(str(config.store_path()))
    except AgentArkError as exc:
        st.error(exc.worded(as_label))
        st.stop()


@contextmanager
def errors_shown() -> Iterator[None]:
    """Show a domain error's message (which names the fix) instead of a traceback."""
    try:
        yield
    except AgentArkError as exc:
        st.error(exc.worded(as_label))


def finished_runs(store: Store) -> pd.DataFrame:
    """The runs with finished problems, which the dashboard and the problem list filter; without any, the page
    stops with where to start one."""
    runs = run_tables.list_runs(store)
    runs = runs[runs["messages"] > 0]
    if runs.empty:
        st.info("No run has finished problems yet. Start one on **Run debates**.")
        st.stop()
    return runs


def active_model() -> str:
    return st.session_state.get("active_model") or config.EMBEDDED_MODEL


def sidebar(store: Store) -> None:
    with st.sidebar:
        st.markdown("### AgentArk Studio")
        st.caption(f"Store: `{store.path}`  \nSchema v{store.schema_version()}")
        if identity.may(ADMIN):
            st.text_input(
                "Active model",
                value=st.session_state.get("active_model", config.EMBEDDED_MODEL),
                key="active_model",
                help="embedded:smollm2-135m, a checkpoint folder, or a model id in your Hugging Face cache",
            )
        identity.sidebar_identity()
        if st.button("Refresh from run folders", key="sidebar_refresh"):
            store.refresh()
            st.cache_data.clear()


def annotator() -> str:
    """Who is labelling and marking: the logged-in person, else the name typed in the sidebar (else the OS
    user), stored with every human label, mark, name and job."""
    return identity.name()


# Single-key shortcuts must not fire while someone types a note: stop such keydowns at the window (capture
# phase) before the shortcut listener on the document sees them. Typing itself is the default action,
# which stopping propagation leaves alone.
_GUARD = """<script>
const w = window.parent;
if (!w.__agentarkTypingGuard) {
  w.__agentarkTypingGuard = true;
  w.addEventListener('keydown', (e) => {
    const t = e.target;
    const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
    if (typing && !e.ctrlKey && !e.altKey && !e.metaKey && e.key !== 'Enter' && e.key !== 'Escape') {
      e.stopPropagation();
    }
  }, true);
}
</script>"""


def guard_shortcuts_while_typing() -> None:
    import streamlit.components.v1 as components

    components.html(_GUARD, height=0, width=0)


def evaluate_like_button(store: Store, run_ids: list[str], key: str) -> str | None:
    """A run picker and a button that evaluates the run's method and whole config on the test split of its
    dataset (``eval --like RUN``), so a teacher that debated the train split answers held-out problems too;
    returns the new run's id once started."""
    from agentark import jobs
    from agentark.evaluate.run import like_eval_config

    if not run_ids or not identity.allowed(OPERATE, "Starting an evaluation"):
        return None
    left, right = st.columns([3, 2])
    run_id = left.selectbox("Run to repeat on held-out problems", run_ids, key=f"{key}_run")
    if not right.button("Evaluate its method on the test split", key=f"{key}_go",
                        help="The same method, engine, model, speakers and settings, on the test split of its "
                             "dataset: an evaluation run that compares with the base and the students"):
        return None
    with errors_shown():
        started = jobs.start("eval", like_eval_config(store, run_id), store=store, by=annotator() or None)
        report, overlap = started.info
        store.refresh()
        if overlap.overlapping:
            st.warning(f"{overlap.message}: not a held-out evaluation.")
        st.success(f"Started {started.job_id}: {run_id}'s method on {len(report.problems)} test problems; it "
                   "appears in the run lists once problems finish.")
        return started.job_id
    return None
