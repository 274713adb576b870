"""A lab at work on one studio: many people labelling while jobs ingest and someone runs the CLI.

For ``--minutes`` (default 10) the benchmark starts the Studio (``python -m agentark app``) on 127.0.0.1 over a
store of synthetic debates and, at the same time:

- ``--sessions`` (default 8) browser sessions, each its own annotator, label on the labeling card with "g" at one
  key a second each (headless Chromium, one browser context per session);
- 2 CLI label loops (``python -m agentark label STEP --value 1 --annotator cli-N``), one label after another;
- a debate job on the scripted engine (``python -m agentark debate --engine scripted``), run again when it ends;
- an import ingesting (``python -m agentark import --format du2023``), a new file of problems each time one ends;
- another browser session reloading the dashboard, the problem list and Compare, one after another.

At the end it waits until every session says its labels are saved, then prints: page exceptions (Streamlit's
exception boxes seen on any page, and CLI commands that failed), labels sent vs stored per source (each must be
stored exactly once), the time from a key to its label in the store (the card's acknowledgement, sent once the
label is committed) p50/p95/max, the CLI label command's time, and page load p50/p95 (navigation to the page's
heading). Goals: 0 exceptions, nothing lost or doubled, label in the store p95 <= 2 s.

``--smoke`` runs a few seconds with 2 sessions, to check the benchmark itself runs (tests/test_team_load.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from agentark.store import Store
from bench import smoke
from bench.label_latency import STATE, build
from tests.browser import chromium_path, launch
from tests.live_app import live_app

RELOADED = (("runs-dashboard", "Runs dashboard"), ("problem-list", "Problems"), ("compare", "Compare"))
EXCEPTION = '[data-testid="stException"]'
KEY_PACE_S = 1.0


@dataclass
class Tally:
    """What the load did and saw, filled by the workers' threads."""

    exceptions: list[str] = field(default_factory=list)
    page_loads_ms: list[float] = field(default_factory=list)
    keys: dict[str, int] = field(default_factory=dict)  # annotator -> keys pressed, then labels the card sent
    pressed: int = 0
    card_ms: list[float] = field(default_factory=list)  # key -> label in the store (acknowledged)
    cli_sent: dict[str, list[str]] = field(default_factory=dict)  # annotator -> steps labelled by the CLI
    cli_ms: list[float] = field(default_factory=list)
    jobs: dict[str, int] = field(default_factory=dict)  # debate / import -> commands that completed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def failed(self, what: str) -> None:
        with self.lock:
            self.exceptions.append(what[-600:])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)] if ordered else float("nan")


def _figures(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"p50 {statistics.median(values):.0f} ms, p95 {percentile(values, 0.95):.0f} ms, max {max(values):.0f} ms "
            f"(n={len(values)})")


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AGENTARK_HOME=str(home), PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "agentark", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def _seen_exceptions(page, where: str, tally: Tally) -> None:
    boxes = page.locator(EXCEPTION)
    for i in range(boxes.count()):
        tally.failed(f"{where}: {boxes.nth(i).inner_text()}")


def label_sessions(url: str, sessions: int, stop: threading.Event, tally: Tally, ready: threading.Event) -> None:
    """``sessions`` annotators on the card, one key a second each, then wait for every label to be saved."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            pages = []
            for n in range(sessions):
                page = browser.new_context(viewport={"width": 1300, "height": 1000}).new_page()
                page.goto(f"{url}/label")
                page.get_by_text("Step 1 of").wait_for(timeout=600_000)
                name = page.get_by_role("textbox", name="Annotator")
                name.fill(f"bench-{n}")
                name.press("Enter")
                page.get_by_text("Enter your name as").wait_for(state="hidden", timeout=120_000)
                page.locator("h1").first.click()  # the keys go to the page, not a text field
                pages.append((f"bench-{n}", page))
                tally.keys[f"bench-{n}"] = 0
            ready.set()
            tick = time.monotonic()
            while not stop.is_set():
                for annotator, page in pages:
                    page.keyboard.press("g")
                    tally.keys[annotator] += 1
                tick += KEY_PACE_S
                time.sleep(max(0.0, tick - time.monotonic()))
            for annotator, page in pages:
                page.get_by_text("Every label is saved.").wait_for(timeout=300_000)
                # A label given is acknowledged once (after its commit): what the card sent. A key pressed while
                # the card waits for more steps gives no label, so keys pressed are counted apart.
                acked = page.evaluate(f"{STATE}.ackTimings")
                tally.card_ms += acked
                tally.pressed += tally.keys[annotator]
                tally.keys[annotator] = len(acked)
                _seen_exceptions(page, f"label page of {annotator}", tally)
        except Exception as exc:  # a session that cannot go on is a failure of the load, reported with the rest
            tally.failed(f"labeling sessions: {exc!r}")
            ready.set()
        finally:
            browser.close()


def reload_pages(url: str, stop: threading.Event, tally: Tally) -> None:
    """The dashboard, the problem list and Compare, loaded one after another until ``stop``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        n = 0
        try:
            while not stop.is_set():
                path, heading = RELOADED[n % len(RELOADED)]
                n += 1
                started = time.perf_counter()
                page.goto(f"{url}/{path}")
                page.get_by_role("heading", name=heading).first.wait_for(timeout=120_000)
                tally.page_loads_ms.append(1000 * (time.perf_counter() - started))
                page.wait_for_load_state("networkidle")
                _seen_exceptions(page, f"/{path}", tally)
        except Exception as exc:
            tally.failed(f"page reloads: {exc!r}")
        finally:
            browser.close()


def cli_labels(home: Path, annotator: str, steps: list[str], stop: threading.Event, tally: Tally) -> None:
    """Label ``steps`` one after another with the CLI until ``stop``."""
    tally.cli_sent[annotator] = []
    for step in steps:
        if stop.is_set():
            break
        started = time.perf_counter()
        out = _cli(home, "label", step, "--value", "1", "--annotator", annotator)
        if out.returncode != 0:
            tally.failed(f"agentark label {step}: {out.stderr.strip()}")
            continue
        tally.cli_ms.append(1000 * (time.perf_counter() - started))
        tally.cli_sent[annotator].append(step)


def du2023_file(path: Path, problems: int, first: int) -> Path:
    data = {}
    for i in range(first, first + problems):
        question = f"A crate holds {i} boxes of 7 apples. How many apples are in the crate?"
        answer = f"Step 1: {i} boxes of 7 apples.\nStep 2: {i} x 7 = {7 * i}.\nThe answer is {7 * i}."
        data[question] = [[[{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
                           for _ in range(2)], str(7 * i)]
    path.write_text(json.dumps(data))
    return path


def jobs(home: Path, work: Path, stop: threading.Event, tally: Tally, kind: str, size: int) -> None:
    """A debate (scripted engine) or an import, started again each time one ends, until ``stop``."""
    n = 0
    while not stop.is_set():
        if kind == "debate":
            out = _cli(home, "debate", "--engine", "scripted", "--model", "tests.scripted:slow_first_number",
                       "--dataset", "builtin:arithmetic", "--limit", str(size), "--agents", "2", "--rounds", "2")
        else:
            out = _cli(home, "import", "--format", "du2023", str(du2023_file(work / f"import-{n}.json", size,
                                                                               n * size)))
        n += 1
        if out.returncode != 0:
            tally.failed(f"{kind} #{n}: {out.stderr.strip()[-400:]}")
        else:
            tally.jobs[kind] = tally.jobs.get(kind, 0) + 1


def run(minutes: float, sessions: int, steps: int, import_size: int, debate_size: int) -> dict:
    """Run the load; return its figures (and print them)."""
    if chromium_path() is None:
        raise SystemExit("No Chromium at /usr/bin/chromium: install it (`apt-get install chromium`).")
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        home, work = Path(tmp) / "home", Path(tmp) / "work"
        home.mkdir()
        work.mkdir()
        build(home / "agentark.duckdb", steps)
        store = Store(home / "agentark.duckdb")
        # The CLI loops label the queue's last steps; the card sessions walk it from the front.
        last = [r[0] for r in store.con.execute("SELECT step_id FROM steps ORDER BY step_id DESC LIMIT 2000").fetchall()]
        with live_app(home, "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                      timeout=120) as (_, port):
            url = f"http://127.0.0.1:{port}"
            ready, stop = threading.Event(), threading.Event()
            labelling = threading.Thread(target=label_sessions, args=(url, sessions, stop, tally, ready))
            # The sessions open first (each loads the labeling page); the clock starts when all are in.
            labelling.start()
            ready.wait()
            threads = [
                threading.Thread(target=reload_pages, args=(url, stop, tally)),
                threading.Thread(target=cli_labels, args=(home, "cli-0", last[0::2], stop, tally)),
                threading.Thread(target=cli_labels, args=(home, "cli-1", last[1::2], stop, tally)),
                threading.Thread(target=jobs, args=(home, work, stop, tally, "debate", debate_size)),
                threading.Thread(target=jobs, args=(home, work, stop, tally, "import", import_size)),
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            time.sleep(60 * minutes)  # the load's duration
            stop.set()
            for thread in [labelling, *threads]:
                thread.join()
            elapsed = time.monotonic() - started
        stored = dict(store.con.execute(
            "SELECT annotator, count(*) FROM step_labels WHERE source = 'human' GROUP BY annotator").fetchall())
        doubled = int(store.scalar(
            """SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM step_labels WHERE source = 'human'
               AND (annotator LIKE 'bench-%' OR annotator LIKE 'cli-%') GROUP BY annotator, step_id)"""))
    sent = {**tally.keys, **{k: len(v) for k, v in tally.cli_sent.items()}}
    lost = sum(max(0, n - stored.get(a, 0)) for a, n in sent.items())
    extra = sum(max(0, stored.get(a, 0) - n) for a, n in sent.items())
    figures = {
        "minutes": elapsed / 60, "sessions": sessions, "exceptions": tally.exceptions,
        "card_sent": sum(tally.keys.values()), "pressed": tally.pressed, "card_stored": sum(stored.get(a, 0) for a in tally.keys),
        "cli_sent": sum(len(v) for v in tally.cli_sent.values()),
        "cli_stored": sum(stored.get(a, 0) for a in tally.cli_sent), "lost": lost, "extra": extra,
        "doubled": doubled, "label_ms": tally.card_ms, "cli_ms": tally.cli_ms, "page_ms": tally.page_loads_ms,
        "jobs": dict(tally.jobs),
    }
    report(figures)
    return figures


def report(f: dict) -> None:
    print(f"team load: {f['sessions']} card sessions at 1 key/s, 2 CLI label loops, a debate job, an import, "
          f"page reloads; {f['minutes']:.1f} min on {os.cpu_count()} cores")
    print(f"page exceptions and failed commands: {len(f['exceptions'])}")
    for what in f["exceptions"][:20]:
        print(f"  {what}")
    print(f"card keys pressed: {f['pressed']} (a key while the card waits for more steps gives no label)")
    print(f"labels sent vs stored: card {f['card_sent']} sent, {f['card_stored']} stored; CLI {f['cli_sent']} sent, "
          f"{f['cli_stored']} stored; lost {f['lost']}, extra {f['extra']}, doubled {f['doubled']}")
    print(f"label in the store (key to committed, card): {_figures(f['label_ms'])}")
    print(f"CLI label command (start to exit): {_figures(f['cli_ms'])}")
    print(f"page load (dashboard, problems, compare): {_figures(f['page_ms'])}")
    print(f"jobs completed meanwhile: {', '.join(f'{k} {v}' for k, v in sorted(f['jobs'].items())) or 'none'}")


def main() -> None:
    parser = smoke.sized(__doc__, minutes=(10.0, 0.15), sessions=(8, 2), steps=(30_000, 3000),
                         import_size=(2000, 50), debate_size=(20, 2))
    args = smoke.parse(parser)
    figures = run(args.minutes, args.sessions, args.steps, args.import_size, args.debate_size)
    ok = not figures["exceptions"] and not figures["lost"] and not figures["extra"] and not figures["doubled"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
