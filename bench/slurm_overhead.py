"""What running a job on Slurm costs over running it here: the same debate job, local and on the cluster.

Two figures per executor, each the median over ``--repeats`` jobs (the conditions alternate):

- submit -> first progress: from ``jobs.start`` returning to the worker's first progress in the job's folder
  (status ``running``: it was scheduled, started Python, imported the studio and took the job);
- last shard -> store: from the job's last shard reaching its final name to ``Store.refresh`` having its rows, with
  the studio polling the folder as the app does (every ``--poll-s`` seconds).

The job is a scripted debate (no model, no GPU), so what is measured is the executor's own overhead. Goal: under
5 s each on the one-node cluster ``.ci/run`` starts. ``--smoke`` runs one tiny job each way (the local one alone
where no Slurm answers) to prove the script works.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import statistics
import subprocess
import tempfile
import time

from agentark import jobs
from agentark.debate import DebateConfig
from agentark.jobs import slurm
from agentark.store import Store


def slurm_answers() -> bool:
    if not slurm.available():
        return False
    done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return done.returncode == 0 and any(s.rstrip("*") in ("idle", "mixed", "allocated") for s in done.stdout.split())


def measure(cfg: DebateConfig, executor: str, poll_s: float) -> tuple[float, float]:
    """(submit -> first progress, last shard -> store) seconds of one job."""
    started = jobs.start("debate", cfg, executor=jobs.ExecutorConfig(executor=executor, cpus=1))
    submitted = time.perf_counter()
    folder = jobs.find(started.job_id)[1]
    while folder.progress().get("status") != "running" and folder.status() not in jobs.FINISHED:
        time.sleep(0.02)
    first = time.perf_counter() - submitted
    with Store() as store:
        while True:
            # The app's loop: poll, and refresh when the folder changed.
            if folder.status() in jobs.FINISHED:
                store.refresh()
                break
            time.sleep(poll_s)
        if folder.status() != "done":
            raise SystemExit(f"{started.job_id} ended {folder.status()}: {folder.progress().get('error')}; "
                             f"log {folder.log_path}")
        stored = store.scalar("SELECT count(*) FROM outcomes WHERE run_id = ?", [started.job_id])
    assert stored == cfg.limit, (stored, cfg.limit)
    last_shard = max(p.stat().st_mtime for p in folder.shards.glob("*.parquet"))
    return first, time.time() - last_shard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=4, help="problems per job")
    parser.add_argument("--repeats", type=int, default=3, help="jobs per executor (alternating)")
    parser.add_argument("--poll-s", type=float, default=0.5, help="how often the studio looks at the folder")
    parser.add_argument("--smoke", action="store_true", help="one tiny job each way")
    args = parser.parse_args()
    if args.smoke:
        args.limit, args.repeats = 1, 1
    executors = ["local", "slurm"] if slurm_answers() else ["local"]
    if "slurm" not in executors and not args.smoke:
        raise SystemExit("No Slurm cluster answers `sinfo` here; .ci/run starts a one-node cluster "
                         "(docs/cluster.md), or run with --smoke for the local figures alone.")
    cfg = DebateConfig(dataset="builtin:arithmetic", limit=args.limit, engine="scripted",
                       model="tests.scripted:first_number", agents=2, rounds=1)
    with tempfile.TemporaryDirectory(prefix="slurm-bench-", dir=os.environ.get("AGENTARK_BENCH_DIR")) as home:
        # The cluster's nodes read the jobs' folders: on a real cluster, set AGENTARK_BENCH_DIR to a shared path.
        os.environ["AGENTARK_HOME"] = home
        figures: dict[str, list[tuple[float, float]]] = {e: [] for e in executors}
        for _ in range(args.repeats):
            for executor in executors:
                figures[executor].append(measure(cfg, executor, args.poll_s))
    medians = {}
    for executor, runs in figures.items():
        first = statistics.median(r[0] for r in runs)
        store = statistics.median(r[1] for r in runs)
        medians[executor] = (first, store)
        print(f"{executor:5}: submit -> first progress {first:.2f} s, last shard -> store {store:.2f} s "
              f"(median of {len(runs)}, {args.limit} problems, poll {args.poll_s} s)")
    def figure(executor: str, index: int) -> str:
        return f"{medians[executor][index]:.2f} s" if executor in medians else "absent"

    print(f"submit -> first progress: slurm {figure('slurm', 0)}, local {figure('local', 0)}; last shard -> store: "
          f"slurm {figure('slurm', 1)}, local {figure('local', 1)} (goal: under 5 s each)")

if __name__ == "__main__":
    main()
