"""Real browser: a store full of hostile transcripts (tests/hostile.py), opened on every page and in the HTML
report, runs no script, injects no element and writes no row.

Every payload, had it been read as markup, would set ``window.__pwned`` and the title, log ``PWNED``, leave an
element with ``data-pwn``, a ``javascript:`` link, an image of ``pwn.png`` or a marker word alone in an element;
the checks look for each in the page and in every frame inside it. Rows of every table are counted before the
first page opens and after the last one: opening a page writes nothing.
"""
from __future__ import annotations

import pytest

from agentark.evaluate.compare import compare
from agentark.evaluate.report import write_report
from agentark.store import Store
from tests.hostile import MARKER_WORDS, TRACES_JS, build_hostile_store, row_counts

pytestmark = pytest.mark.browser

HEADINGS = {"run": "Run debates", "transcript": "Debate viewer", "runs-dashboard": "Runs dashboard",
            "problem-list": "Problems", "label": "Label steps", "exports": "Export training sets", "train": "Train",
            "compare": "Compare", "jobs": "Jobs", "study": "Studies"}
DONE = "() => document.querySelector('[data-test-script-state]')?.getAttribute('data-test-script-state') === 'notRunning'"

# Streamlit loads its chart code and draws plotly charts after the script ends; their labels are text a payload
# could turn into markup, so a page is checked once all of its charts (as many as CHARTS says) are drawn.
CHARTS = {"runs-dashboard": 9, "compare": 2}
CHARTS_DRAWN = ("(n) => { const charts = [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')];"
                " return charts.length >= n && charts.every(c => c.querySelector('.main-svg .xtick')); }")


def traces(page) -> list[dict]:
    """What a payload that acted would have left, in the page and in each frame inside it."""
    found = []
    for frame in page.frames:
        found.append({"frame": frame.url[:80], **frame.evaluate(TRACES_JS, list(MARKER_WORDS))})
    return found


def assert_clean(page, where: str, console: list[str], dialogs: list[str]) -> None:
    for trace in traces(page):
        assert not trace["pwned"] and trace["title"] != "PWNED", (where, trace)
        assert trace["injected"] == trace["js_links"] == trace["images"] == trace["srcdoc"] == 0, (where, trace)
        assert not trace["isolated"], (where, trace)
    assert not [m for m in console if "PWNED" in m], (where, console)
    assert not dialogs, (where, dialogs)


def test_hostile_corpus_is_text_on_every_page_and_in_the_report(app_server, browser, tmp_path):
    with Store() as store:
        run_ids = build_hostile_store(store, tmp_path)
        problem = store.df("SELECT problem_id FROM run_problems ORDER BY ALL LIMIT 1")["problem_id"].iloc[0]
        report = write_report(compare(store, run_ids), tmp_path / "report.html")
        before = row_counts(store)
    runs = ",".join(run_ids)
    addresses = ([("run", "")] + [("transcript", f"?run={r}&problem={problem}") for r in run_ids]
                 + [("runs-dashboard", f"?runs={runs}"), ("problem-list", f"?runs={runs}"), ("label", ""),
                    ("exports", ""), ("train", ""), ("compare", f"?runs={runs}"), ("jobs", ""), ("study", "")])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path, query in addresses:
        page.goto(f"{app_server}/{path}{query}")
        page.get_by_role("heading", name=HEADINGS[path], exact=True).wait_for(timeout=60_000)
        page.wait_for_function(DONE, timeout=60_000)
        page.wait_for_function(CHARTS_DRAWN, arg=CHARTS.get(path, 0), timeout=60_000)
        assert not page.locator("[data-testid='stException']").count(), (path, page.locator(
            "[data-testid='stException']").first.text_content())
        assert_clean(page, f"/{path}{query}", console, dialogs)
    page.goto(report.as_uri())
    page.wait_for_selector("#fig0 .main-svg", timeout=30_000)
    assert_clean(page, "report", console, dialogs)
    with Store() as store:
        assert row_counts(store) == before
