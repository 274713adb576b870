"""``runs``, ``import``, ``regrade``, ``mark`` and ``datasets``: what is stored, getting runs in, graded and marked.

Design decision: each command opens the store for one operation and refreshes it first, so what it prints
includes every shard a job has finished.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from agentark.cli.common import add_home, print_table, run_id_arg
from agentark.options import add_arguments, from_namespace
from agentark.runs.formats import TranscriptImportConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``runs``, ``import``, ``regrade``, ``mark`` and ``datasets`` commands."""
    r = sub.add_parser("runs", help="list runs with method, model, problems, status and final accuracy")
    add_home(r)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_runs)

    i = sub.add_parser("import", help="import transcripts from another tool (or an export) into the store")
    add_home(i)
    add_arguments(i, TranscriptImportConfig)
    i.set_defaults(func=cmd_import)

    g = sub.add_parser("regrade", help="grade stored runs again by the current rule (cut-off messages, ambiguous "
                                       "finals, choice answers, vote ties); the dashboard's figures follow")
    add_home(g)
    g.add_argument("run_ids", nargs="*", type=run_id_arg, metavar="RUN_ID", help="runs to re-grade (default: all)")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=cmd_regrade)

    mk = sub.add_parser("mark", help="mark a problem of a run (or one message with --message) keep or exclude")
    add_home(mk)
    mk.add_argument("run_id", type=run_id_arg, metavar="RUN_ID")
    mk.add_argument("problem_id", metavar="PROBLEM_ID")
    choice = mk.add_mutually_exclusive_group(required=True)
    choice.add_argument("--keep", dest="mark", action="store_const", const="keep")
    choice.add_argument("--exclude", dest="mark", action="store_const", const="exclude")
    mk.add_argument("--message", default=None, metavar="MESSAGE_ID", help="mark this transcript turn only")
    mk.add_argument("--note", default=None)
    mk.add_argument("--annotator", default=None, help="who marks (default: $USER)")
    mk.set_defaults(func=cmd_mark)

    s = sub.add_parser("datasets", help="list the dataset names the studio understands")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_datasets)


def cmd_runs(args: argparse.Namespace) -> int:
    from agentark.store import Store, run_tables

    with Store() as store:
        store.refresh()
        frame = run_tables.list_runs(store)
    rows = json.loads(frame.to_json(orient="records", date_format="iso"))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            row["tags"] = ", ".join(row.get("tags") or [])
        print_table(rows, ["run_id", "name", "tags", "method", "model", "dataset", "problems", "done", "status",
                           "accuracy", "ties"])
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from agentark.store import Store
    from agentark.runs.formats import import_transcripts

    cfg = from_namespace(TranscriptImportConfig, args)
    with Store() as store:
        report = import_transcripts(store, cfg)
    for where in report.rejection_lines():
        print(f"rejected: {args.path} {where}", file=sys.stderr)
    for warning in report.warning_lines():
        print(f"warning: {args.path} {warning}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_regrade(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from agentark.runs.regrade import regrade
    from agentark.store import Store

    with Store() as store:
        store.refresh()
        done = regrade(store, args.run_ids or None)
    if args.json:
        print(json.dumps([asdict(r) for r in done], indent=2))
    else:
        for r in done:
            print(r.report())
        if not done:
            print("No runs to re-grade.")
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from agentark.tasks.problems import BUILTIN_NOTE, DATASETS

    if args.json:
        print(json.dumps(list(DATASETS)))
        return 0
    width = max(map(len, DATASETS))
    for name, what in DATASETS.items():
        print(f"{name:<{width}}  {what}")
    print(f"\n{BUILTIN_NOTE}\nAlso: math, metamathqa, hf:NAME[:CONFIG], or a .jsonl/.json/.parquet/.csv file.")
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    from agentark.runs.curation import Mark, mark_targets
    from agentark.store import Store

    annotator = args.annotator or os.environ.get("USER") or "cli"
    with Store() as store:
        store.refresh()
        mark = Mark(args.run_id, args.problem_id, args.mark, message_id=args.message, note=args.note, annotator=annotator)
        mark_targets(store, [mark])
    target = f"message {args.message}" if args.message else f"problem {args.problem_id}"
    print(f"{args.mark}: {target} of run {args.run_id} (by {annotator})")
    return 0
