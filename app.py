"""AgentArk Studio: the Streamlit entry point (navigation and the shared sidebar).

Run with ``streamlit run app.py``. Pages live in pages/ and only describe screens; the work is in agentark/.
"""
import streamlit as st

from agentark.ui import get_store, sidebar
from agentark.ui.identity import require_login

st.set_page_config(page_title="AgentArk Studio", page_icon=":material/sailing:", layout="wide")
# With login configured, nothing below runs for a session until its person has logged in.
require_login()

# The root shows the Run page, and so does /run, the address the menu, the README and links use: a default
# page's own address is always the root (Streamlit ignores its url_path), hence a hidden twin there.
pages = [
    st.Page("pages/1_run_debates.py", title="Run debates", icon=":material/play_arrow:", url_path="start",
            default=True, visibility="hidden"),
    st.Page("pages/1_run_debates.py", title="Run debates", icon=":material/play_arrow:", url_path="run"),
    st.Page("pages/2_transcripts.py", title="Debate viewer", icon=":material/forum:", url_path="transcript"),
    st.Page("pages/3_dashboard.py", title="Runs dashboard", icon=":material/monitoring:", url_path="runs-dashboard"),
    st.Page("pages/4_problems.py", title="Problems", icon=":material/filter_list:", url_path="problem-list"),
    st.Page("pages/5_label_steps.py", title="Label steps", icon=":material/checklist:", url_path="label"),
    st.Page("pages/6_export.py", title="Export", icon=":material/download:", url_path="exports"),
    st.Page("pages/7_train_models.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page("pages/8_compare_runs.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/9_jobs_table.py", title="Jobs", icon=":material/work_history:", url_path="jobs"),
    st.Page("pages/10_studies.py", title="Studies", icon=":material/science:", url_path="study"),
]
navigation = st.navigation(pages)
store = get_store()
store.refresh()
sidebar(store)
navigation.run()
