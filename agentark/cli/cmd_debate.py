"""``debate``: start, resume or run a debate job from the command line.

Design decision: the command writes the run folder first and then either runs the job in this process
(with a progress bar) or starts it in the background; when another process holds the store, it still runs
and reports accuracy straight from the run's shards.
"""
from __future__ import annotations

import argparse
import sys

from agentark.cli.common import (add_executor, add_home, fmt, open_store_or_none, print_place, print_table, run_id_arg,
                                 submit_if_slurm)
from agentark.options import add_arguments, from_namespace


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``debate`` command: one flag per ``DebateConfig`` option, and what a job needs besides."""
    from agentark.debate import DebateConfig

    d = sub.add_parser("debate", help="run (or resume) a multi-agent debate and store every message")
    add_home(d)
    add_arguments(d, DebateConfig)
    d.add_argument("--run-id", type=run_id_arg, default=None, help="resume this run instead of starting a new one")
    d.add_argument("--name", default=None,
                   help="a name for the run, shown instead of its id and usable in its place (unique among runs)")
    d.add_argument("--background", action="store_true", help="start the run as a background job and return")
    add_executor(d)
    d.set_defaults(func=cmd_debate)


def cmd_debate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from agentark import jobs
    from agentark.debate import debate_job
    from agentark.cli.cmd_names import check_name_free, name_run
    from agentark.debate.debate_job import RunFolder

    name = check_name_free(args.name) if args.name else None
    if args.run_id:
        folder = RunFolder(args.run_id).require()
        run_id = args.run_id
        print(f"resuming run {run_id} ({len(folder.done_problem_ids())} problems already done)")
    else:
        from agentark.debate import DebateConfig

        cfg = from_namespace(DebateConfig, args)
        run_id, report = debate_job.create_debate_run(cfg)
        for line, reason in report.rejected:
            print(f"warning: {report.source} line {line} skipped: {reason}", file=sys.stderr)
        for line, reason in report.warnings:
            print(f"warning: {report.source} line {line}: {reason}", file=sys.stderr)
        print(f"run {run_id}: {len(report.problems)} problems, method {cfg.method}, "
              f"{cfg.agents} agents x {cfg.rounds} rounds, model {', '.join(cfg.models())}")
    if name:
        name_run(run_id, name)
        print(f"named '{name}'")
    if submit_if_slurm(args, run_id):
        return 0
    if args.background:
        pid = jobs.spawn("debate", run_id)
        print(f"started in the background (pid {pid}); follow it with `python -m agentark jobs`, "
              f"stop it with `python -m agentark stop {run_id}`")
        return 0
    bar = tqdm(total=None, unit="problem", desc=run_id, file=sys.stderr)

    folder = RunFolder(run_id)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(folder.progress().get("stage", ""), refresh=False)
        bar.refresh()

    final = debate_job.run_debate_job(run_id, on_progress=progress, on_wait=print_place)
    bar.close()
    _report_rounds(run_id)
    if final["status"] == "failed":
        print(f"warning: {final['error']}: python -m agentark debate --run-id {run_id}", file=sys.stderr)
        return 1
    if final["status"] == "stopped":
        print(f"stopped; resume with `python -m agentark debate --run-id {run_id}`", file=sys.stderr)
    return 0


def _report_rounds(run_id: str) -> None:
    from agentark.debate.debate_job import RunFolder
    from agentark.evaluate.team_vs_single import team_vs_single
    from agentark.store import run_tables

    result = None
    store = open_store_or_none()
    if store is not None:
        with store:
            store.refresh()
            table = run_tables.round_accuracy(store, run_id)
            final = run_tables.final_accuracy(store, run_id)
            result = team_vs_single(store, run_id)
    else:
        from agentark.store.shards import shard_report

        # The store is held by another process: read the same numbers straight from the finished shards,
        # each problem's latest one (a retry supersedes the failed attempt, as in the store).
        folder = RunFolder(run_id)
        if not folder.finished_shards():
            print("no problem has finished yet")
            return
        table, final = shard_report([folder.shard_paths(name) for name in folder.finished_shards()], run_id)
    print("accuracy per round (agent = mean over agents' answers, vote = majority vote):")
    print_table(table.to_dict("records"), ["round", "problems", "messages", "agent_accuracy", "vote_accuracy"])
    print(f"final accuracy: {fmt(final)}")
    if result is not None:
        print("one agent vs the team:")
        for line in [result.headline(), *result.details()]:
            print(f"  {line}")
