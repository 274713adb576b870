"""Two jobs on one machine: the same two debate jobs started together vs one after the other.

Each job is a background debate on the embedded model (6 problems x 3 agents x 1 round, 48 new tokens by
default: the case issue 18 measured at 4.8x before jobs took slots), started with ``jobs.start`` as the Run
page and the CLI start them. "After": start one, wait until it ends, start the other. "Together": start both
at once and wait for both. With one CPU slot (the default) the second job waits queued and starts by itself
when the first ends, so together should cost what one after the other does (target: 1.1x or less). The
conditions alternate ``--repeats`` times; the last line prints the ratio of the median times.
``--slots cpu=2`` runs both at once with the cores split between them, to compare.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import statistics
import tempfile
import time

from agentark import jobs
from agentark.debate import DebateConfig
from bench import smoke


def wait_all(job_ids: list[str], poll_s: float = 0.2) -> None:
    """Until every job ended; a job that did not end done stops the benchmark with its error."""
    while True:
        states = {j: jobs.find(j)[1] for j in job_ids}
        if all(f.status() in jobs.FINISHED for f in states.values()):
            break
        time.sleep(poll_s)
    for job_id, folder in states.items():
        if folder.status() != "done":
            raise SystemExit(f"{job_id} ended {folder.status()}: {folder.progress().get('error')}; "
                             f"log {folder.log_path}")


def timed(cfg: DebateConfig, together: bool) -> float:
    started = time.perf_counter()
    if together:
        wait_all([jobs.start("debate", cfg).job_id, jobs.start("debate", cfg).job_id])
    else:
        for _ in range(2):
            wait_all([jobs.start("debate", cfg).job_id])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=6, help="problems per job")
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=1, help="times each condition runs (alternating)")
    parser.add_argument("--slots", default=None, help="AGENTARK_SLOTS for the jobs (default: one per device)")
    parser.add_argument("--model", default=None, help="the model of every agent (default: the embedded model)")
    args = smoke.parse(parser, limit=1, agents=2, max_tokens=4, model=smoke.tiny_model)
    os.environ["AGENTARK_HOME"] = tempfile.mkdtemp(prefix="agentark-bench-jobs-")
    if args.slots:
        os.environ["AGENTARK_SLOTS"] = args.slots
    cfg = DebateConfig(method="debate", model=args.model, agents=args.agents, rounds=args.rounds, limit=args.limit,
                       max_tokens=args.max_tokens, temperature=0.0)
    times: dict[str, list[float]] = {"after": [], "together": []}
    for repeat in range(args.repeats):
        for condition in ("after", "together"):
            seconds = timed(cfg, together=condition == "together")
            times[condition].append(seconds)
            print(f"repeat {repeat + 1}: {condition:8s} {seconds:7.1f} s", flush=True)
    after, together = statistics.median(times["after"]), statistics.median(times["together"])
    print(f"two jobs of {args.limit} problems x {args.agents} agents x {args.rounds} round(s), {args.max_tokens} "
          f"tokens, {os.cpu_count()} cores, slots {os.environ.get('AGENTARK_SLOTS', 'default')}: one after the "
          f"other {after:.1f} s, together {together:.1f} s, ratio {together / after:.2f}x (target <= 1.1x)")


if __name__ == "__main__":
    main()
