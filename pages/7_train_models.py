"""Train: start a PRM, SFT (R-SFT/DA) or PAD job, watch its live charts, cancel or resume it, see the models."""
import plotly.graph_objects as go
import streamlit as st

from agentark import jobs
from agentark.training_sets import list_exports
from agentark.checkpoints import list_models
from agentark.options import from_values, options
from agentark.safe_text import md_text
from agentark.train.train_jobs import job_metrics, training_jobs, training_kinds
from agentark.ui import errors_shown, get_store
from agentark.ui.forms import option_widgets

store = get_store()
st.title("Train")
st.caption("PRM from a PRM export; SFT student from an R-SFT or DA export; PAD: GRPO with the PRM's step scores "
           "and the verifiable reward. Each runs as a job in its own process; charts update while it trains.")

# Metrics charted first, in this order; anything else the trainer logs follows under "more metrics".
CHARTS = ["loss", "learning_rate", "grad_norm", "tokens_per_s", "step_time_s", "step_time", "reward", "reward_std",
          "kl", "completions/mean_length", "parseable_answer_share"]
STATUS = {"stopped": "cancelled"}

KINDS = training_kinds()
kind = st.radio("What to train", list(KINDS), format_func=lambda k: KINDS[k].title, horizontal=True,
                key="train_kind")
cls = KINDS[kind].config
# The pickers (training set, base model, PRM: fields with a named widget) first, every other option folded away.
pickers = tuple(o.name for o in options(cls) if "widget" in o.meta)
rest = tuple(o.name for o in options(cls) if o.name not in pickers)
with st.form(f"train_form_{kind}"):
    values = option_widgets(cls, f"train_{kind}", skip=rest)
    with st.expander("Options", expanded=False):
        values.update(option_widgets(cls, f"train_{kind}", skip=pickers))
    start = st.form_submit_button("Start job", type="primary")

if start:
    with errors_shown():
        job_id = jobs.start(kind, from_values(cls, values), exports=list_exports(store)).job_id
        st.session_state["train_job"] = job_id
        st.success(f"Started {kind} job {job_id}.")

rows = training_jobs()
if not rows:
    st.info("No training jobs yet.")
else:
    shown = {j["job_id"]: f"{j['job_id']} ({STATUS.get(j['status'], j['status'])})" for j in rows}
    ids = list(shown)
    current = st.session_state.get("train_job")
    job_id = st.selectbox("Job", ids, index=ids.index(current) if current in ids else 0, key="train_job_pick",
                          format_func=shown.get)

    @st.fragment(run_every=2)
    def watch(job_id: str) -> None:
        store.refresh()
        job = next((j for j in training_jobs() if j["job_id"] == job_id), None)
        if job is None:
            return
        status = STATUS.get(job["status"], job["status"])
        st.markdown(f"**{job_id}** · {job['kind']} · status **{status}** · step {job['done']}"
                    + (f"/{job['total']}" if job["total"] else "") + f" · {md_text(job.get('stage') or '')}")
        if job.get("error"):
            st.error(job["error"])
        b1, b2, _ = st.columns([1, 1, 6])
        if job["status"] in ("running", "queued") and b1.button("Cancel", key=f"train_cancel_{job_id}"):
            jobs.stop(job_id)
            st.toast("Cancel requested: the job stops after its current step and keeps a checkpoint.")
        if job["status"] in ("stopped", "failed", "interrupted") and b2.button("Resume", key=f"train_resume_{job_id}"):
            with errors_shown():
                jobs.resume(job_id)
                st.toast("Resumed from the last checkpoint.")
        frame = job_metrics(store, job_id)
        if frame.empty:
            st.caption("No metrics yet: the job is loading its model or running its first step.")
            return
        names = [n for n in CHARTS if n in set(frame["name"])]
        names += [n for n in sorted(set(frame["name"])) if n.startswith("rewards/") and n.endswith("/mean")]
        cols = st.columns(3)
        for i, name in enumerate(names):
            series = frame[frame["name"] == name].sort_values("step")
            fig = go.Figure(go.Scatter(x=series["step"], y=series["value"], mode="lines+markers", name=name))
            fig.update_layout(title=name, height=240, margin=dict(l=10, r=10, t=40, b=10), xaxis_title="step")
            with cols[i % 3]:
                st.plotly_chart(fig, key=f"train_chart_{job_id}_{name}", config={"displayModeBar": False})
                st.caption(f"{name}: {len(series)} points, last {series['value'].iloc[-1]:.4g} at step "
                           f"{int(series['step'].iloc[-1])}")
        with st.expander("More metrics"):
            st.dataframe(frame.pivot_table(index="step", columns="name", values="value"), key=f"train_more_{job_id}")

    watch(job_id)

st.subheader("Models the studio trained")
st.caption("Use one by its id wherever a model is asked for: a debate agent's --model, evaluation, the PRM labeler.")
models = list_models(store)
st.dataframe(models.drop(columns=["config_json"], errors="ignore"), hide_index=True, key="train_models")
