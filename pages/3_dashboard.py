"""Runs dashboard: does debate help? Accuracy and agreement per round, corrections and regressions, cost.

Every chart point carries the problem-list filter it stands for (as query parameters in its customdata);
clicking it opens the problem list with that filter.
"""
import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from agentark.runs.names import RunLabels, rename, set_tags, tokens_text
from agentark.safe_text import html_text, md_text
from agentark.store.trace_tables import GROUPINGS, ProblemFilter, dashboard
from agentark.ui import errors_shown, evaluate_like_button, finished_runs, get_store

store = get_store()
st.title("Runs dashboard")

runs = finished_runs(store)
labels = RunLabels.of(runs)

KIND_COLOURS = {"corrections": "#009E73", "regressions": "#D55E00", "wrong_to_wrong": "#999999"}
KIND_FILTER = {"corrections": "corrected", "regressions": "regressed", "wrong_to_wrong": "wrong_to_wrong"}


def chart_label(run_id: str) -> str:
    """A run's label in a chart: plotly reads HTML tags in its text, so a name shows escaped."""
    return html_text(labels(run_id))


def link(**fields) -> str:
    return json.dumps(ProblemFilter(**fields).to_params())


def clickable(fig: go.Figure, key: str) -> None:
    """Show a chart; a click on a point or bar opens the problem list filtered to what it counts."""
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2))
    # Tick labels take the room they need below the plot instead of running over it.
    fig.update_xaxes(automargin=True)
    event = st.plotly_chart(fig, key=key, on_select="rerun", selection_mode="points")
    points = event.selection.points if event else []
    if points and points[0].get("customdata"):
        data = points[0]["customdata"]
        st.switch_page("pages/4_problems.py", query_params=json.loads(data[0] if isinstance(data, list) else data))


run_ids = list(runs["run_id"])
wanted = [r for r in st.query_params.get("runs", "").split(",") if r in run_ids]
chosen = st.multiselect("Runs, side by side", run_ids, default=wanted or run_ids[:1], key="db_runs",
                        format_func=labels.option)
if not chosen:
    st.info("Choose at least one run.")
    st.stop()
with st.expander("Name and tags"):
    named = st.selectbox("Run", chosen, format_func=labels.option, key="db_name_run")
    current = runs.set_index("run_id").loc[named]
    new_name = st.text_input("Name", value=current["name"] or "", key=f"db_name_{named}",
                             help=f"Shown instead of the run id ({named}) wherever space is short")
    new_tags = st.text_input("Tags (comma-separated)", value=", ".join(current["tags"]), key=f"db_tags_{named}")
    if st.button("Save name and tags", key="db_name_save"):
        with errors_shown():
            rename(store, named, new_name)
            set_tags(store, named, new_tags)
            st.rerun()
with st.expander("Evaluate on held-out problems"):
    st.caption("Repeat a run's whole method and config (e.g. a teacher debate on the train split) on the test split "
               "of its dataset, so it compares with the base and the students on the same problems.")
    evaluate_like_button(store, chosen, "db_like")
st.query_params.from_dict({"runs": ",".join(chosen)})

with errors_shown():
    board = dashboard(store, chosen)
    summary, rounds = board.summary, board.rounds

    st.subheader("Per run")
    # Runs imported without usage figures stored no tokens: they show "—", not 0.
    no_tokens = set(summary.loc[summary["tokens_per_problem"].fillna(0) == 0, "run_id"])
    shown = summary.assign(tokens_per_problem=summary["tokens_per_problem"].map(tokens_text),
                           tokens_p90=summary["tokens_p90"].map(tokens_text))
    shown.insert(0, "run", summary["run_id"].map(labels))
    st.dataframe(shown, hide_index=True, key="db_summary", column_config={
        "accuracy": st.column_config.ProgressColumn("final accuracy", min_value=0.0, max_value=1.0, format="percent"),
        "ties": st.column_config.NumberColumn("vote ties", help="Finished problems whose final answer came from a "
                                              "tied majority vote: the first agent's answer was taken"),
        "cut_off": st.column_config.NumberColumn("cut off", help="Messages that hit the token limit before stating "
                                                 "an answer: no answer, counted wrong"),
        "ambiguous": st.column_config.NumberColumn("ambiguous", help="Messages whose final answer names "
                                                   "alternatives (\\boxed{14 or 15}): no answer, counted wrong"),
        "unanimous": st.column_config.NumberColumn("unanimous", format="percent"),
        "tokens_per_problem": st.column_config.TextColumn("tokens / problem"),
        "tokens_p90": st.column_config.TextColumn("tokens p90"),
        "seconds_per_problem": st.column_config.NumberColumn("s / problem", format="%.2f"),
    })

    for r in summary.itertuples():
        if pd.isna(r.ties) or pd.isna(r.cut_off):
            st.caption(f"{md_text(labels(r.run_id))} was graded before ties and cut-off answers were recorded: "
                       f"`python -m agentark regrade {r.run_id}` grades it again.")
        elif r.ties:
            st.warning(f"{md_text(labels(r.run_id))}: {int(r.ties)} of {int(r.problems)} final answers came from a tied vote "
                       "(the first agent's answer was taken).")

    st.subheader("Per round")
    st.dataframe(rounds.assign(run_id=rounds["run_id"].map(labels)).rename(columns={"run_id": "run"}),
                 hide_index=True, key="db_rounds")

    left, right = st.columns(2)
    with left:
        fig = go.Figure()
        for run_id, part in rounds.groupby("run_id", sort=False):
            for column, dash in (("agent_accuracy", "dot"), ("vote_accuracy", "solid")):
                fig.add_scatter(
                    x=part["round"], y=part[column], mode="lines+markers", line=dict(dash=dash),
                    name=f"{chart_label(run_id)} · {'agents' if column == 'agent_accuracy' else 'vote'}",
                    customdata=[[link(runs=(run_id,))] for _ in part["round"]],
                )
        fig.update_layout(title="Accuracy per round (does debate help?)", yaxis=dict(range=[0, 1], tickformat=".0%"),
                          xaxis=dict(dtick=1, title="round"))
        clickable(fig, "db_accuracy")
    with right:
        fig = go.Figure()
        for run_id, part in rounds.groupby("run_id", sort=False):
            fig.add_scatter(x=part["round"], y=part["agreement"], mode="lines+markers", name=chart_label(run_id),
                            customdata=[[link(runs=(run_id,), consensus="unanimous")] for _ in part["round"]])
        fig.update_layout(title="Agreement per round (share of agents with the plurality answer)",
                          yaxis=dict(range=[0, 1], tickformat=".0%"), xaxis=dict(dtick=1, title="round"))
        clickable(fig, "db_agreement")

    left, right = st.columns(2)
    with left:
        moved = rounds[rounds["round"] > 1]
        fig = go.Figure()
        for kind, colour in KIND_COLOURS.items():
            fig.add_bar(
                x=[f"{chart_label(r.run_id)} · {r.round - 1}→{r.round}" for r in moved.itertuples()], y=moved[kind],
                name=kind.replace("_", " → ").replace("wrong → to → wrong", "wrong → wrong"), marker_color=colour,
                customdata=[[link(runs=(r.run_id,), transition_round=int(r.round), **{KIND_FILTER[kind]: True})]
                            for r in moved.itertuples()],
            )
        fig.update_layout(title="Answer changes between rounds (per agent)", barmode="group",
                          xaxis=dict(tickangle=-30))
        clickable(fig, "db_transitions")
    with right:
        fig = go.Figure()
        for label, right_answer, colour in (("right", True, "#009E73"), ("wrong", False, "#D55E00")):
            fig.add_bar(
                x=summary["run_id"].map(chart_label), y=summary["problems"] * (summary["accuracy"] if right_answer else 1 - summary["accuracy"]),
                name=f"final answer {label}", marker_color=colour,
                customdata=[[link(runs=(r,), correct=right_answer)] for r in summary["run_id"]],
            )
        fig.update_layout(title="Final answers", barmode="stack")
        clickable(fig, "db_final")

    st.subheader("Accuracy by method, model and dataset")
    columns = st.columns(len(GROUPINGS))
    for column, by in zip(columns, GROUPINGS):
        frame = board.by[by]
        members = {g: tuple(summary.loc[summary[by] == g, "run_id"]) for g in frame["group"]}
        fig = go.Figure(go.Bar(x=frame["group"].astype(str).map(html_text), y=frame["accuracy"], marker_color="#0072B2",
                               customdata=[[link(runs=members[g])] for g in frame["group"]]))
        fig.update_layout(title=f"by {by}", yaxis=dict(range=[0, 1], tickformat=".0%"))
        with column:
            clickable(fig, f"db_by_{by}")

    st.subheader("Cost per problem")
    left, right = st.columns(2)
    with left:
        fig = go.Figure()
        for run_id, part in board.tokens.groupby("run_id", sort=False):
            if run_id in no_tokens:
                continue
            fig.add_bar(x=(part["tokens_min"] + part["tokens_max"]) / 2, y=part["problems"], name=chart_label(run_id),
                        customdata=[[link(runs=(run_id,), tokens_min=int(r.tokens_min), tokens_max=int(r.tokens_max))]
                                    for r in part.itertuples()])
        fig.update_layout(title="Tokens per problem", xaxis=dict(title="tokens (prompt + completion)"), barmode="overlay")
        fig.update_traces(opacity=0.7)
        clickable(fig, "db_tokens")
        if no_tokens:
            st.caption("No token counts recorded for " + md_text(", ".join(sorted(labels(r) for r in no_tokens))) + ".")
    with right:
        fig = go.Figure()
        fig.add_bar(x=summary["run_id"].map(chart_label), y=summary["seconds_per_problem"], name="mean", marker_color="#56B4E9",
                    customdata=[[link(runs=(r,), sort="time", descending=True)] for r in summary["run_id"]])
        fig.add_bar(x=summary["run_id"].map(chart_label), y=summary["seconds_p90"], name="p90", marker_color="#0072B2",
                    customdata=[[link(runs=(r,), sort="time", descending=True)] for r in summary["run_id"]])
        fig.update_layout(title="Seconds per problem (engine time)", barmode="group")
        clickable(fig, "db_time")
