"""A newcomer's first run: the Run page's defaults, clicked in a browser, against the same run from the CLI.

The app (served as ``make run`` serves it) opens in headless Chromium on a fresh home; the benchmark presses
**Start run** with the page's defaults (``agentark.debate.first_run_config``) and times from the click to the
finished result on the page (the "One agent vs the team" section). Then the same configuration runs from the
CLI (``python -m agentark debate`` with the flags that rebuild those defaults) on another fresh home, timed
from the command to its exit. Both print wall seconds and the CPU seconds of the process that did the work
(the app's background worker, the CLI process): on a machine shared with other work the wall time follows
the load, while CPU time is close to what a quiet machine needs (a lower bound of its wall time when the work
runs on one core, an upper bound of the two-core wall time when it uses both). The last line is the ratio of
the app's time to the CLI's. ``--screenshots DIR`` also saves the pages of the tour (Run page with the result,
the debate viewer through the result's link, the labeling page, the dashboard) for the README.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import resource
import subprocess
import tempfile
import threading
import time

from bench import smoke
from tests.browser import chromium_path, launch
from tests.live_app import live_app

ROOT = Path(__file__).resolve().parent.parent
RESULT = "One agent vs the team"


def first_run_flags() -> list[str]:
    """The ``debate`` flags that rebuild the Run page's defaults (the fields where they differ from the CLI's)."""
    from agentark.debate import DebateConfig, first_run_config
    from agentark.options import options

    first, plain = first_run_config(), DebateConfig()
    flags: list[str] = []
    for opt in options(DebateConfig):
        value = getattr(first, opt.name)
        if value == getattr(plain, opt.name):
            continue
        if opt.kind in ("group", "list", "bool"):
            raise SystemExit(f"first_run_config sets {opt.name}; teach first_run_flags its flag")
        flags += [opt.flag, str(value)]
    return flags


class CpuWatch(threading.Thread):
    """Follows a process's user + system CPU time from /proc until it exits; ``seconds`` is the last reading."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.seconds = pid, 0.0

    def run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while True:
            try:
                fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return
            if fields[0] == "Z":
                return
            self.seconds = sum(int(f) for f in fields[11:15]) / tick
            time.sleep(0.2)


def worker_pid(home: Path, timeout: float = 60) -> int | None:
    """The pid of the run's worker, from its progress file (the Run page starts it in the background)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for progress in (home / "runs").glob("*/progress.json"):
            try:
                pid = json.loads(progress.read_text()).get("pid")
            except (OSError, ValueError):
                pid = None
            if pid:
                return int(pid)
        time.sleep(0.05)
    return None


def run_in_app(home: Path, screenshots: Path | None, timeout_s: float, changes: dict[str, str]) -> tuple[float, float, str]:
    """Click Start run on a fresh app (with ``changes``, label -> value, typed into the form first); return
    (seconds to the result, worker CPU seconds, run id)."""
    from playwright.sync_api import sync_playwright

    with live_app(home, "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                  timeout=180) as (_, port):
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/run")
            start = page.get_by_role("button", name="Start run")
            start.wait_for(timeout=180_000)
            form = page.get_by_test_id("stForm").first  # the run's form, not the transcript import's below it
            for label, value in changes.items():
                form.get_by_label(label, exact=True).fill(value)
            clicked = time.perf_counter()
            start.click()
            pid = worker_pid(home)
            watch = CpuWatch(pid) if pid else None
            if watch:
                watch.start()
            page.get_by_text(RESULT, exact=True).wait_for(timeout=timeout_s * 1000)
            seconds = time.perf_counter() - clicked
            if watch:
                watch.join(timeout=30)
            run_id = next((home / "runs").iterdir()).name
            if screenshots:
                tour(page, port, home, run_id, screenshots)
            browser.close()
    return seconds, watch.seconds if watch else float("nan"), run_id


def tour(page, port: int, home: Path, run_id: str, folder: Path) -> None:
    """The README's screenshots, each after the page has drawn what it shows."""
    folder.mkdir(parents=True, exist_ok=True)
    page.get_by_text(RESULT, exact=True).scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(folder / "run_page.png"), full_page=True)
    page.get_by_role("link", name="Look at a debate").first.click()
    page.get_by_text("Round 2", exact=False).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(folder / "debate_viewer.png"), full_page=True)
    env = dict(os.environ, AGENTARK_HOME=str(home), PYTHONPATH=str(ROOT))
    for command in (["segment", "--run", run_id], ["autolabel", "--run", run_id]):
        subprocess.run([sys.executable, "-m", "agentark", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    page.goto(f"http://127.0.0.1:{port}/label?run={run_id}")
    page.get_by_role("tab", name="Label").first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="Label").first.click()
    page.wait_for_timeout(3000)
    page.screenshot(path=str(folder / "label_steps.png"), full_page=True)
    page.goto(f"http://127.0.0.1:{port}/runs-dashboard?runs={run_id}")
    page.get_by_role("heading", name="Runs dashboard").wait_for(timeout=60_000)
    page.wait_for_timeout(4000)
    page.screenshot(path=str(folder / "dashboard.png"), full_page=True)


def run_in_cli(home: Path, changes: dict[str, str]) -> tuple[float, float, str]:
    """The same run from the CLI; return (wall seconds, the command's CPU seconds, its last lines)."""
    env = dict(os.environ, AGENTARK_HOME=str(home), PYTHONPATH=str(ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    flags = first_run_flags() + [part for label, value in changes.items() for part in ("--" + label.replace(" ", "-"), value)]
    done = subprocess.run([sys.executable, "-m", "agentark", "debate", *flags], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screenshots", type=Path, default=None, help="save the tour's screenshots here")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the result in the app")
    parser.add_argument("--model", default=None, help="type this model into the form (default: the page's own)")
    parser.add_argument("--max-tokens", default=None, help="type this into the form (default: the page's own)")
    args = smoke.parse(parser, model=smoke.tiny_model, max_tokens="8", timeout=300)
    # Typed into the form by label, and given to the CLI as the flag of the same name.
    changes = {label: str(value) for label, value in (("model", args.model), ("max tokens", args.max_tokens)) if value}
    if chromium_path() is None:
        sys.exit("Chromium is missing: install Debian's chromium package.")
    os.environ.setdefault("AGENTARK_MODEL_CACHE", str(ROOT / "data" / "models"))
    from agentark.debate import first_run_config

    cfg = first_run_config()
    print(f"first run: {cfg.dataset}, {cfg.limit} problems, method {cfg.method}, {cfg.agents} agents x "
          f"{cfg.rounds} rounds, {cfg.max_tokens} new tokens; CLI flags: {' '.join(first_run_flags())}")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-first-run-") as tmp:
        app_s, app_cpu, _ = run_in_app(Path(tmp) / "app", args.screenshots, args.timeout, changes)
        print(f"app: click to finished result {app_s:.1f} s (the worker used {app_cpu:.1f} s of CPU)", flush=True)
        cli_s, cli_cpu, out = run_in_cli(Path(tmp) / "cli", changes)
        print(f"cli: command to exit {cli_s:.1f} s ({cli_cpu:.1f} s of CPU)", flush=True)
    print("the CLI's report:\n" + "\n".join("  " + line for line in out.strip().splitlines()))
    print(f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs")
    print(f"first run: app {app_s:.1f} s / CLI {cli_s:.1f} s = {app_s / cli_s:.2f}x; "
          f"CPU: app worker {app_cpu:.1f} s, CLI {cli_cpu:.1f} s")


if __name__ == "__main__":
    main()
