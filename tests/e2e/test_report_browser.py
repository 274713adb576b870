"""Real browser: the HTML report's charts hold every bar (no bar clipped off the figure's box) with 2, 3 and
many runs, long run ids included, and plotly.js is in the file once."""
from __future__ import annotations

from pathlib import Path

import plotly

import pytest

from agentark.evaluate.compare import compare
from agentark.evaluate.report import write_report
from agentark.store import Store
from tests.evalstore import add_run, build_eval_store, message, outcome

pytestmark = pytest.mark.browser

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
BARS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(div => {
  const box = div.getBoundingClientRect();
  const bars = [...div.querySelectorAll('.bars .point path')].map(p => p.getBoundingClientRect());
  return {id: div.id, box: [box.left, box.right, box.top, box.bottom],
          bars: bars.map(r => [r.left, r.right, r.top, r.bottom, r.width, r.height])};
})"""


def long_runs(store: Store, n: int) -> list[str]:
    """``n`` cot runs with long ids on P00..P03, run k right on the first k problems."""
    ids = []
    for k in range(n):
        run_id = f"eval-cot-2026-01-0{k + 1}-student-with-a-long-name-{k}"
        pids = ["P00", "P01", "P02", "P03"]
        msgs = [message(run_id, p, 0, f"The answer is {i if i < k + 1 else 99}.") for i, p in enumerate(pids)]
        outs = [outcome(run_id, p, str(i if i < k + 1 else 99), 10, 10, 1, 100.0) for i, p in enumerate(pids)]
        add_run(store, run_id, "cot", "m", msgs, outs, pids, f"2026-02-0{k + 1}T00:00:00")
        ids.append(run_id)
    return ids


def test_every_bar_of_the_report_is_visible(browser, tmp_path):
    width = 1400  # the window the issue saw bars cut off in: plotly drew the figure wider than its box
    with Store() as store:
        build_eval_store(store)
        reports = {
            "two": compare(store, ["teacher", "student"], roles={"student": "student"}),
            "three": compare(store, ["teacher", "student", "sc"], roles={"student": "student"}),
            "six": compare(store, long_runs(store, 6)),
        }
        paths = {name: write_report(c, tmp_path / f"{name}.html") for name, c in reports.items()}
    page = browser.new_page(viewport={"width": width, "height": 900})
    for name, path in paths.items():
        text = path.read_text()
        # plotly.js once (every figure after the first reuses it); beyond it the report is small.
        assert text.count("plotly.js v") == 1
        assert len(text.encode()) < PLOTLY_JS.stat().st_size + 300_000
        page.goto(path.as_uri())
        page.wait_for_selector("#fig0 .bars .point path", timeout=30_000)
        figures = {f["id"]: f for f in page.evaluate(BARS)}
        acc = figures["fig0"]
        runs = len(reports[name].run_ids)
        assert len(acc["bars"]) == runs, (name, acc)
        left, right, top, bottom = acc["box"]
        for bar in acc["bars"]:
            b_left, b_right, b_top, b_bottom, w, h = bar
            assert w > 5 and h >= 0, (name, bar)
            assert left <= b_left and b_right <= right and top <= b_top and b_bottom <= bottom, (name, acc)
        # The figure's box is inside the page (not clipped by the window either, once scrolled to).
        assert right - left <= max(width, 120 + 110 * runs) + 1
