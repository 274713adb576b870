"""What the open app costs a running job: the same small debate with the app closed and open in a browser.

The job is a CLI debate on the embedded model (4 problems x 3 agents x 2 rounds, 64 new tokens by
default) whose home is a folder inside the project (as the default ``./data`` is), so that its writes land
where Streamlit's file watcher would look. "Open" means ``streamlit run app.py`` started from the project
root (so .streamlit/config.toml applies) with the Run page shown in headless Chromium for the whole job, its
progress polling included. The two conditions alternate, ``--repeats`` times each, and the last line prints
the ratio of the median times (target: 1.05x or less) and the app's CPU time while the job ran.
``--watcher auto`` runs the app with Streamlit's default file watcher instead, to show what the project's
setting saves.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator

from bench import smoke
from tests.browser import chromium_path, launch
from tests.live_app import live_app

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


@contextmanager
def app_in_browser(home: Path, watcher: str | None) -> Iterator[int]:
    """The app serving ``home``, with its Run page open in headless Chromium; yields the server's pid."""
    from playwright.sync_api import sync_playwright

    flags = ["--server.fileWatcherType", watcher] if watcher else []
    with live_app(home, *flags, timeout=120) as (server, port):
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("heading", name="Run debates").wait_for(timeout=120_000)
            try:
                yield server.pid
            finally:
                browser.close()


def run_job(home: Path, args: argparse.Namespace) -> float:
    env = dict(os.environ, AGENTARK_HOME=str(home), PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "agentark", "debate", "--dataset", args.dataset, "--limit", str(args.problems),
               "--agents", "3", "--rounds", "2", "--max-tokens", str(args.max_tokens),
               *(["--model", args.model] if args.model else [])]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--dataset", default="builtin:arithmetic-onestep")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--watcher", default=None, choices=("auto", "watchdog", "poll", "none"),
                        help="override the project's server.fileWatcherType for the open app")
    parser.add_argument("--model", default=None, help="the job's model (default: the embedded model)")
    args = smoke.parse(parser, problems=1, max_tokens=4, repeats=1, model=smoke.tiny_model)
    if chromium_path() is None:
        sys.exit("Chromium is missing: install Debian's chromium package.")
    os.environ.setdefault("AGENTARK_MODEL_CACHE", str(ROOT / "data" / "models"))
    (ROOT / "data").mkdir(exist_ok=True)
    closed, opened, app_cpu = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-app-overhead-", dir=ROOT / "data") as tmp:
        home = Path(tmp)
        if not args.smoke:
            run_job(home, args)  # warm: the model's files in the page cache, Python's bytecode compiled
        for i in range(args.repeats):
            closed.append(run_job(home, args))
            print(f"app closed: {closed[-1]:.1f} s", flush=True)
            with app_in_browser(home, args.watcher) as server:
                before = cpu_seconds(server)
                opened.append(run_job(home, args))
                app_cpu.append(cpu_seconds(server) - before)
            print(f"app open:   {opened[-1]:.1f} s (the app used {app_cpu[-1]:.2f} s of CPU meanwhile)", flush=True)
        shutil.rmtree(home / "runs", ignore_errors=True)
    ratio = statistics.median(opened) / statistics.median(closed)
    print(f"job {args.problems} problems x 3 agents x 2 rounds, {args.max_tokens} tokens: app open "
          f"{statistics.median(opened):.1f} s / app closed {statistics.median(closed):.1f} s = {ratio:.2f}x "
          f"(target <= 1.05x); app CPU while the job ran {statistics.median(app_cpu):.2f} s "
          f"= {100 * statistics.median(app_cpu) / statistics.median(opened):.1f}% of one core")


if __name__ == "__main__":
    main()
