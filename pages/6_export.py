"""Export training sets: R-SFT, trajectory augmentation, PRM step supervision or transcripts, as immutable files."""
import streamlit as st

from agentark.export import DEFAULT_PRECEDENCE, FORMATS, KINDS, ExportConfig, export, list_exports, prepare
from agentark.runs.names import RunLabels
from agentark.store import run_tables
from agentark.ui import errors_shown, get_store

store = get_store()
st.title("Export training sets")

KIND_NAMES = {"rsft": "R-SFT: correct final reasoning per problem", "da": "DA: distinct correct trajectories",
              "prm": "PRM: step supervision", "transcripts": "Transcripts: every message"}
runs = run_tables.list_runs(store)
with st.form("exp_form"):
    kind = st.selectbox("Training set", KINDS, format_func=KIND_NAMES.get, key="exp_kind")
    run_ids = st.multiselect("Runs (none: every run)", list(runs["run_id"]), key="exp_runs",
                             format_func=RunLabels.of(runs).option)
    corrections = st.radio("Problems", ["any", "only", "none"], horizontal=True, key="exp_corrections",
                           format_func={"any": "all", "only": "only problems with a correction",
                                        "none": "only problems without a correction"}.get)
    c1, c2 = st.columns(2)
    fmt = c1.radio("Format", FORMATS, horizontal=True, key="exp_format")
    cap = c2.number_input("DA: trajectories per problem", 1, 64, 4, key="exp_cap")
    st.markdown("**PRM label policy**")
    precedence = st.multiselect("Label sources, winner first", DEFAULT_PRECEDENCE, default=DEFAULT_PRECEDENCE,
                                key="exp_precedence")
    p1, p2 = st.columns(2)
    neutral = p1.radio("A neutral (0) label counts as", ["positive", "negative"], horizontal=True, key="exp_neutral")
    soft = p2.checkbox("Soft labels (Monte-Carlo fraction)", key="exp_soft")
    p3, p4 = st.columns(2)
    first_error = p3.checkbox("First-error convention: steps before a trajectory's first known error count good, "
                              "the rest are dropped; right answers count good throughout", value=True,
                              key="exp_first_error")
    threshold = p4.number_input("Warn when negatives are under this share of steps", 0.0, 0.99, 0.10, 0.05,
                                key="exp_threshold")
    st.markdown("**R-SFT / DA: only answers the model committed to**")
    s1, s2 = st.columns(2)
    finished = s1.checkbox("Leave out messages cut off at the token limit", value=True, key="exp_finished")
    explicit = s2.checkbox("Leave out messages without an explicit final answer", value=True, key="exp_explicit")
    out = st.text_input("Output file (optional; default: the exports folder)", key="exp_out")
    preview = st.form_submit_button("Preview")
    write = st.form_submit_button("Export", type="primary")

if preview or write:
    with errors_shown():
        cfg = ExportConfig(kind=kind, run_ids=list(run_ids), format=fmt, max_per_problem=int(cap),
                           precedence=list(precedence), neutral=neutral, label_type="soft" if soft else "hard",
                           first_error=first_error, balance_threshold=float(threshold), require_finished=finished,
                           require_explicit_answer=explicit, corrections=corrections)
        if write:
            result = export(store, cfg, out.strip() or None)
            st.success(f"Wrote {result.n_rows} rows to `{result.path}` (sha256 `{result.sha256[:16]}…`).")
        rows, summary = prepare(store, cfg)
        st.markdown("  \n".join(summary.lines()))
        if summary.warning():
            st.warning(summary.warning())
        st.caption(f"{len(rows)} rows; the first ones:")
        st.dataframe(rows.head(20).astype(str), hide_index=True, key=f"exp_preview_{kind}")

st.subheader("Past exports")
st.dataframe(list_exports(store), hide_index=True, key="exp_list")
