"""Export training sets: every registered kind (R-SFT, trajectory augmentation, PRM step supervision, transcripts,
preference pairs, and any kind a module registers), previewed and written as immutable files."""
import pandas as pd
import streamlit as st

from agentark import jobs
from agentark.options import from_values
from agentark.training_sets import ExportConfig, export, export_kinds, list_exports, prepare
from agentark.ui import errors_shown, get_store
from agentark.ui.forms import option_widgets

store = get_store()
st.title("Export training sets")

with st.expander("What each training set holds"):
    trainers = jobs.kinds().values()
    st.dataframe(pd.DataFrame(
        [{"kind": k.name, "holds": k.description, "columns": ", ".join(k.columns),
          "trained by": ", ".join(t.title or t.name for t in trainers if k.name in t.export_kinds)}
         for k in export_kinds().values()]), hide_index=True, key="exp_kinds")

with st.form("exp_form"):
    values = option_widgets(ExportConfig, "exp", columns=2)
    out = st.text_input("Output file (optional; default: the exports folder)", key="exp_out")
    preview = st.form_submit_button("Preview")
    write = st.form_submit_button("Export", type="primary")

if preview or write:
    with errors_shown():
        cfg = from_values(ExportConfig, values)
        if write:
            result = export(store, cfg, out.strip() or None)
            st.success(f"Wrote {result.n_rows} rows to `{result.path}` (sha256 `{result.sha256[:16]}…`).")
        rows, summary = prepare(store, cfg)
        st.markdown("  \n".join(summary.lines()))
        if summary.warning():
            st.warning(summary.warning())
        st.caption(f"{len(rows)} rows; the first ones:")
        st.dataframe(rows.head(20).astype(str), hide_index=True, key=f"exp_preview_{cfg.kind}")

st.subheader("Past exports")
st.dataframe(list_exports(store), hide_index=True, key="exp_list")
