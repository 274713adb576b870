"""Export training sets: every registered kind (R-SFT, trajectory augmentation, PRM step supervision, transcripts,
preference pairs, and any kind a module registers), previewed and written as immutable files.

Files are written under the studio's home (the exports folder) and downloaded from the page; only an admin
chooses another path on the server."""
from pathlib import Path

import pandas as pd
import streamlit as st

from agentark import jobs
from agentark.options import from_values
from agentark.training_sets import ExportConfig, export, export_kinds, list_exports, prepare
from agentark.access import ADMIN, OPERATE
from agentark.ui import errors_shown, get_store
from agentark.ui.identity import may
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
    out = st.text_input("Output file (optional; default: the exports folder)", key="exp_out") if may(ADMIN) else ""
    preview = st.form_submit_button("Preview")
    write = st.form_submit_button("Export", type="primary", disabled=not may(OPERATE),
                                  help=None if may(OPERATE) else "Writing an export needs the operator role.")

if preview or write:
    with errors_shown():
        cfg = from_values(ExportConfig, values)
        if write:
            result = export(store, cfg, out.strip() or None)
            st.success(f"Wrote {result.n_rows} rows to `{result.path}` (sha256 `{result.sha256[:16]}…`).")
            st.session_state["exp_written"] = str(result.path)
        rows, summary = prepare(store, cfg)
        st.markdown("  \n".join(summary.lines()))
        if summary.warning():
            st.warning(summary.warning())
        st.caption(f"{len(rows)} rows; the first ones:")
        st.dataframe(rows.head(20).astype(str), hide_index=True, key=f"exp_preview_{cfg.kind}")

written = st.session_state.get("exp_written")
if written and Path(written).is_file():
    st.download_button(f"Download {Path(written).name}", Path(written).read_bytes(), file_name=Path(written).name,
                       key="exp_download")

st.subheader("Past exports")
st.dataframe(list_exports(store), hide_index=True, key="exp_list")
