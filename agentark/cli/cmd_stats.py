"""``stats``: the runs dashboard's numbers as tables or JSON.

It prints exactly what ``agentark.store.trace_tables.dashboard`` returns, the same call the dashboard page
makes, so the page and the CLI cannot disagree.
"""
from __future__ import annotations

import argparse
import json

import pandas as pd

from agentark.cli.common import add_home, fmt, run_id_arg
from agentark.runs.names import tokens_text
from agentark.store import Store
from agentark.store.trace_tables import dashboard

SUMMARY_COLUMNS = ["run_id", "method", "model", "problems", "accuracy", "ties", "unanimous", "corrections",
                   "regressions", "wrong_to_wrong", "tokens_per_problem", "seconds_per_problem"]
ROUND_COLUMNS = ["run_id", "round", "problems", "agent_accuracy", "vote_accuracy", "agreement", "corrections",
                 "regressions", "wrong_to_wrong"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``stats`` command."""
    st = sub.add_parser("stats", help="the runs dashboard's numbers: accuracy and agreement per round, corrections, cost")
    add_home(st)
    st.add_argument("run_ids", type=run_id_arg, nargs="+", metavar="RUN_ID")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_stats)


def cmd_stats(args: argparse.Namespace) -> int:
    with Store() as store:
        store.refresh()
        print_stats(store, args.run_ids, as_json=args.json)
    return 0


def format_table(frame: pd.DataFrame, columns: list[str]) -> str:
    """A plain aligned text table of some columns of a frame."""
    rows = [[fmt(v) for v in row] for row in frame[columns].itertuples(index=False)]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def print_stats(store: Store, run_ids: list[str], as_json: bool = False) -> None:
    board = dashboard(store, run_ids)
    if as_json:
        print(json.dumps(board.to_json(), indent=2, default=str))
        return
    print("runs (accuracy = final answer; corrections = wrong->right, regressions = right->wrong per agent and round):")
    # A run imported without usage figures recorded no tokens: "—", not 0.
    summary = board.summary.assign(tokens_per_problem=board.summary["tokens_per_problem"].map(tokens_text))
    print(format_table(summary, SUMMARY_COLUMNS))
    print()
    print("per round (transitions counted into the round):")
    print(format_table(board.rounds, ROUND_COLUMNS))
    for by, frame in board.by.items():
        print()
        print(f"accuracy by {by}:")
        print(format_table(frame, ["group", "runs", "problems", "accuracy"]))
