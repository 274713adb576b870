"""Real browser: the app answers on 127.0.0.1, renders the Run page, and shows a stored transcript."""
from __future__ import annotations

from agentark import jobs
from agentark.debate import DebateConfig
from tests.e2e.conftest import screenshot


def test_run_page_renders_in_chromium(app_server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_server)
    page.get_by_role("heading", name="Run debates").wait_for(timeout=30_000)
    page.get_by_text("Start run").wait_for()
    page.get_by_label("Dataset").wait_for()
    page.get_by_text("No run is in progress.").wait_for()
    shot = screenshot(page, "run_page.png")
    assert shot.stat().st_size > 20_000


def test_transcript_of_a_stored_debate_in_chromium(app_server, browser):
    cfg = DebateConfig(limit=2, engine="scripted", model="tests.scripted:first_number")
    run_id, _ = jobs.create_debate_run(cfg)
    jobs.run_debate_job(run_id)
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    # A fresh server only knows st.navigation's pages after app.py's first run (streamlit#8860).
    page.goto(app_server)
    page.get_by_role("heading", name="Run debates").wait_for(timeout=30_000)
    page.goto(f"{app_server}/transcript?run={run_id}")
    page.get_by_role("heading", name="Transcripts").wait_for(timeout=30_000)
    try:
        page.get_by_text("Round 2").wait_for()
    finally:
        screenshot(page, "transcript.png")
    page.get_by_text("Reference answer").wait_for()
    assert page.get_by_text("agent_3").count() >= 2
    assert page.get_by_text("Page not found").count() == 0
    screenshot(page, "transcript.png")
