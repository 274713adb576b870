"""``label-prm``: label stored steps with a trained studio PRM (the ``auto:prm`` source) as a resumable job.

Design decision: like ``label-mc``, the command freezes the steps in a ``prm_label`` job folder and runs it
in this process (or in the background with ``--background``); the store is held only to create the job and
to ingest its shards at the end, so the app stays usable while the PRM scores.
"""
from __future__ import annotations

import argparse
import sys

from agentark.cli.common import add_home, job_id_arg, print_place, refreshed_store
from agentark.options import add_arguments, from_namespace


def register(sub: argparse._SubParsersAction) -> None:
    """Add the PRM labeling command: the ``PRMLabelConfig`` options, and resuming or backgrounding the job."""
    from agentark.labels.prm_labeler import PRMLabelConfig

    p = sub.add_parser("label-prm", help="label steps with a trained PRM (source auto:prm, with confidence) as a job")
    add_home(p)
    add_arguments(p, PRMLabelConfig)
    p.add_argument("--job-id", type=job_id_arg, default=None, help="resume this job instead of starting a new one")
    p.add_argument("--background", action="store_true", help="run in a background process")
    p.set_defaults(func=cmd_label_prm)


def cmd_label_prm(args: argparse.Namespace) -> int:
    from agentark import jobs
    from agentark.labels.prm_labeler import KIND, SOURCE, PRMLabelConfig, PRMLabelFolder
    from agentark.store import label_tables as q

    if args.job_id:
        job_id = PRMLabelFolder(args.job_id).require().job_id
    else:
        cfg = from_namespace(PRMLabelConfig, args)
        with refreshed_store() as store:
            job_id = jobs.create(KIND, cfg, store=store).job_id
        print(f"PRM labeling job {job_id}: {PRMLabelFolder(job_id).progress().get('total')} trajectories")
    if args.background:
        pid = jobs.spawn(KIND, job_id)
        print(f"started in the background (pid {pid}); follow it with `python -m agentark jobs`")
        return 0
    final = jobs.run_job(job_id, on_progress=lambda d, t: print(f"\r{d}/{t} trajectories", end="", file=sys.stderr),
                         on_wait=print_place)
    print(file=sys.stderr)
    with refreshed_store() as store:
        labels = q.count_labels(store, SOURCE)
    print(f"{final.get('status')}: {labels} auto:prm labels stored")
    return 0
