"""``jobs``, ``stop``, ``resume`` and ``worker``: every kind of job, listed and controlled the same way.

Design decision: these commands read and write job folders only, never the store, so they work while
another process holds it and show a job's state the moment its worker writes it.
"""
from __future__ import annotations

import argparse
import json
import sys

from agentark.cli.common import add_home, job_id_arg, print_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``jobs``, ``stop``, ``resume`` and ``worker`` commands."""
    j = sub.add_parser("jobs", help="every job of every kind: status, place in the queue, progress, started and ended")
    add_home(j)
    j.add_argument("--kind", default=None, help="only jobs of this kind (debate, mc_label, ...)")
    j.add_argument("--json", action="store_true")
    j.set_defaults(func=cmd_jobs)

    s = sub.add_parser("stop", help="stop a job at its next step (its finished work stays; resume continues it)")
    add_home(s)
    s.add_argument("job_id", type=job_id_arg, metavar="JOB_ID")
    s.set_defaults(func=cmd_stop)

    r = sub.add_parser("resume", help="start a stopped, failed or interrupted job again in the background")
    add_home(r)
    r.add_argument("job_id", type=job_id_arg, metavar="JOB_ID")
    r.set_defaults(func=cmd_resume)

    w = sub.add_parser("worker", help="(internal) run a job of any kind in this process")
    add_home(w)
    w.add_argument("job_id", type=job_id_arg, metavar="JOB_ID")
    w.set_defaults(func=cmd_worker)


def cmd_jobs(args: argparse.Namespace) -> int:
    from agentark.jobs import COLUMNS, get_kind, list_jobs

    if args.kind:
        get_kind(args.kind)
    rows = [r for r in list_jobs() if args.kind in (None, r["kind"])]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows, [c for c in COLUMNS if c not in ("title", "pid", "error", "queued_at", "resumed_at")])
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from agentark.jobs import stop

    if stop(args.job_id):
        print(f"stop requested: {args.job_id} ends after its current step; resume with "
              f"`python -m agentark resume {args.job_id}`")
        return 0
    print(f"{args.job_id} is not running", file=sys.stderr)
    return 1


def cmd_resume(args: argparse.Namespace) -> int:
    from agentark.jobs import resume

    pid = resume(args.job_id)
    print(f"resumed {args.job_id} in the background (pid {pid})")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from agentark.jobs import worker_main

    return worker_main(args.job_id)
