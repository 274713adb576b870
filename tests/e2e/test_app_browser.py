"""Real browser: the app answers on 127.0.0.1, renders the Run page, and walks a stored debate in the viewer."""
from __future__ import annotations

import re

import pytest

from agentark.debate import debate_job
from agentark.debate import DebateConfig, first_run_config
from tests.e2e.conftest import readme_image, screenshot

SCRIPTED_TEACHER = "tests.study_script:teacher"

pytestmark = pytest.mark.browser


@pytest.mark.slow
def test_run_page_renders_and_shows_the_first_result_in_chromium(app_server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_server)
    page.get_by_role("heading", name="Run debates", exact=True).wait_for(timeout=30_000)
    page.get_by_text("Start run").wait_for()
    page.get_by_role("combobox", name="dataset").wait_for()
    page.get_by_text("No run is in progress.").wait_for()
    # The first run with the page's defaults, its speakers scripted (tests/study_script.py: right in the last
    # round on additions) so the result reads like a model's and comes in seconds.
    form = page.get_by_test_id("stForm").first  # the run's form, not the transcript import's below it
    form.get_by_role("combobox", name="engine").click()
    page.get_by_role("option", name="scripted", exact=True).click()
    form.get_by_label("model", exact=True).fill(SCRIPTED_TEACHER)
    page.get_by_role("button", name="Start run").click()
    page.get_by_text("One agent vs the team", exact=True).wait_for(timeout=120_000)
    page.get_by_role("link", name=re.compile("^Look at a debate")).first.wait_for(timeout=30_000)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30_000)
    # Streamlit scrolls inside its own container, so the image is the window: show the result in it.
    page.set_viewport_size({"width": 1400, "height": 1400})
    page.get_by_text("One agent vs the team", exact=True).scroll_into_view_if_needed()
    shot = readme_image(page, "run_page.png")
    assert shot.stat().st_size > 20_000


def test_debate_viewer_moves_to_the_next_problem_in_chromium(app_server, browser):
    cfg = DebateConfig(dataset=first_run_config().dataset, limit=3, engine="scripted", model=SCRIPTED_TEACHER)
    run_id, report = debate_job.create_debate_run(cfg)
    debate_job.run_debate_job(run_id)
    first, second = report.problems[0], report.problems[1]
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    # A fresh server answers the very first request for a non-default page with a "Page not found" modal
    # over the right page (streamlit/streamlit#9992); load the main page once, as a user would have.
    page.goto(app_server)
    page.get_by_role("heading", name="Run debates", exact=True).wait_for(timeout=30_000)
    page.goto(f"{app_server}/transcript?run={run_id}&problem={first.problem_id}")
    page.get_by_role("heading", name="Debate viewer", exact=True).wait_for(timeout=30_000)
    try:
        page.get_by_text("Round 2").wait_for()
        page.get_by_text("problem 1 of 3 in the current filter").wait_for()
        page.get_by_role("button", name="Next ▶").click()
        page.get_by_text("problem 2 of 3 in the current filter").wait_for(timeout=30_000)
        page.wait_for_function(f"() => window.location.search.includes('problem={second.problem_id}')")
        page.get_by_text("Round 2").wait_for()
    finally:
        screenshot(page, "debate_viewer.png")
    # The caption and the URL change before the rest of the page has rerun: wait for the second question itself.
    page.get_by_text(second.question[:40]).first.wait_for(timeout=30_000)
    # Agents as columns: each round row names all three agents, side by side.
    assert page.get_by_text("agent_3").count() >= 2
    row = [page.get_by_text("agent_1", exact=True).first.bounding_box(), page.get_by_text("agent_3", exact=True).first.bounding_box()]
    assert row[1]["x"] > row[0]["x"] and abs(row[1]["y"] - row[0]["y"]) < 5
    round1, round2 = page.get_by_text("Round 1").first.bounding_box(), page.get_by_text("Round 2").first.bounding_box()
    assert round2["y"] > round1["y"]
    readme_image(page, "debate_viewer.png")
