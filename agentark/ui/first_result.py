"""The Run page's first result: one agent against the team on the run's own problems, and where to go next.

Design decision: the figures come whole from ``agentark.evaluate.team_vs_single`` (the CLI prints the same
sentences); this module only lays them out, and offers the next steps as links that carry the run (the
debate viewer on a problem where the debate changed an answer, the labeling page on this run) and a button
that switches the run form to a served engine.
"""
from __future__ import annotations

import streamlit as st

from agentark.evaluate.team_vs_single import TeamVsSingle, pct, signed
from agentark.generation import SERVED_ENGINE
from agentark.safe_text import md_text


def _use_served_engine(form_prefix: str) -> None:
    st.session_state[f"{form_prefix}_engine"] = SERVED_ENGINE


def show_team_vs_single(result: TeamVsSingle, name: str, form_prefix: str = "run") -> None:
    """Draw the comparison of ``result`` (the run shown as ``name``) and the next steps."""
    st.subheader("One agent vs the team")
    shown = st.success if result.verdict == "better" and result.sure else (
        st.warning if result.verdict == "worse" else st.info)
    shown(result.headline(), icon=":material/groups:")
    cols = st.columns(4)
    cols[0].metric("One agent", pct(result.single.accuracy), help=result.details()[0])
    cols[1].metric("The team", pct(result.team.accuracy), delta=f"{signed(result.difference)} points",
                   help=result.details()[1])
    cols[2].metric("Corrections / regressions", f"{result.corrections} / {result.regressions}",
                   help="Answers that went wrong → right / right → wrong from one round to the next.")
    ratio = (result.team.tokens_per_problem / result.single.tokens_per_problem
             if result.single.tokens_per_problem and result.team.tokens_per_problem else None)
    cols[3].metric("Team tokens per problem", "—" if ratio is None else f"{result.team.tokens_per_problem:,.0f}",
                   delta=None if ratio is None else f"{ratio:.1f}x one agent", delta_color="off")
    for line in result.details():
        st.caption(line)
    st.caption(f"Computed on the {result.problems} finished problems of {md_text(name)}; intervals are 95% bootstraps "
               "over problems.")
    st.markdown("**Next**")
    links = st.columns(3)
    problem = (result.regressed_problem if result.verdict == "worse" else result.corrected_problem) \
        or result.corrected_problem or result.regressed_problem or result.example_problem
    changed = problem in (result.corrected_problem, result.regressed_problem)
    links[0].page_link("pages/2_transcripts.py", label="Look at a debate" + (" where an answer changed" if changed
                                                                                else ""),
                       icon=":material/forum:", query_params={"run": result.run_id, "problem": problem})
    links[1].page_link("pages/5_label_steps.py", label="Label its steps", icon=":material/checklist:",
                       query_params={"run": result.run_id})
    links[2].button("Try a served model", icon=":material/cloud:", key="first_result_served",
                    on_click=_use_served_engine, args=(form_prefix,),
                    help="Switches the form above to an OpenAI-compatible server (vLLM, SGLang, llama.cpp, an API): "
                         "fill in its base URL and model, then Start run.")
