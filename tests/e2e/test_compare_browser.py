"""Real browser: open Compare for two runs, walk two differing problems with j/k, see the legend and gates,
and pick a (tiny, trained here) PRM that tints the steps."""
from __future__ import annotations

import re
import shutil

import pytest

from agentark import config
from agentark.checkpoints import read_card, write_card
from agentark.store import Store
from tests.e2e.conftest import readme_image
from tests.evalstore import build_eval_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def tiny_prm(tmp_path) -> None:
    """A studio PRM ``prm-tiny``: the tiny Llama trained two steps, installed like a training job installs one."""
    from agentark.train.prm import PRMConfig, train_prm
    from tests.test_prm import toy_rows, write_jsonl
    from tests.tinylm import build_tiny_llama

    base = build_tiny_llama(tmp_path / "base")
    data = write_jsonl(tmp_path / "toy.jsonl", toy_rows(8))
    final = train_prm(PRMConfig(export=str(data), base_model=str(base), max_steps=2, per_device_batch_size=8,
                                save_steps=100), tmp_path / "prm").model_path
    folder = config.checkpoints_dir() / "prm-tiny"
    shutil.copytree(final, folder)
    write_card(folder, {**(read_card(folder) or {}), "model_id": "prm-tiny", "kind": "prm"})


def test_compare_walks_differing_problems_with_the_keyboard(app_server, browser, tmp_path):
    tiny_prm(tmp_path)
    with Store() as store:  # before the app opens the store: it is one process's file
        build_eval_store(store)
    page = browser.new_page(viewport={"width": 1500, "height": 2600})
    # A fresh server answers the very first request for a non-default page with a "Page not found" modal
    # (streamlit/streamlit#9992); load the main page once, as a user would have.
    page.goto(app_server)
    page.get_by_role("heading", name="Run debates", exact=True).wait_for(timeout=60_000)
    page.goto(f"{app_server}/compare?runs=teacher,student&roles=student:student")
    page.get_by_role("heading", name="Compare", exact=True).wait_for(timeout=60_000)
    # The deep link runs through app.py (its sidebar), not Streamlit's pages/ fallback.
    page.get_by_text("AgentArk Studio").first.wait_for(timeout=30_000)
    page.get_by_text("Problem 1 of 10").wait_for(timeout=60_000)
    page.locator(".prm-legend").first.wait_for(timeout=20_000)
    assert "PRM step score" in page.locator(".prm-legend").first.inner_text()
    gates = page.locator(".gate")
    assert gates.count() == 3
    assert [g.inner_text() for g in gates.all()] == ["FAIL", "PASS", "PASS"]
    assert page.get_by_text("fixed 4, broken 6").count() >= 1
    assert page.locator("mark.selfcorr").count() == 2  # P10: "Wait," and "let me re-check"
    seen = []
    for key, expected in (("j", "Problem 2 of 10"), ("j", "Problem 3 of 10"), ("k", "Problem 2 of 10")):
        page.wait_for_function("() => window.__streamlitShortcutsMap && window.__streamlitShortcutsMap.cmp_next")
        page.locator("h1").first.click()  # focus the page, not a widget
        page.keyboard.press(key)
        page.get_by_text(expected).wait_for(timeout=30_000)
        page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30_000)
        problem = re.search(r"problem=(P\d+)", page.url).group(1)
        question = page.get_by_test_id("stMarkdownContainer").filter(has_text=f"Problem. What is {int(problem[1:])} plus")
        question.first.wait_for(timeout=30_000)
        seen.append(problem)
    assert seen == ["P11", "P12", "P11"]
    page.get_by_text("open in the debate viewer").first.wait_for()
    page.get_by_test_id("stSelectbox").filter(has_text="PRM for step tints").click()
    page.get_by_role("option", name="prm-tiny").click()
    tinted = page.locator('span.prm-step:not([data-score="no score"])')
    tinted.first.wait_for(timeout=60_000)
    assert tinted.count() >= 4  # two steps in each of the two systems
    assert all(0 <= float(s.get_attribute("data-score")) <= 1 for s in tinted.all())
    shot = readme_image(page, "compare.png")
