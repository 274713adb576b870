"""Real browser: label steps by keys on the card that holds the queue in the browser; nothing shown as labelled is
lost when the tab is closed mid-way or the server restarts; a correction written on a wrong step is stored."""
from __future__ import annotations

import pytest

from agentark.debate import DebateConfig, debate_job
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import Store
from tests.e2e.conftest import readme_image
from tests.live_app import live_app

pytestmark = pytest.mark.browser

KEYS = "gbnggggbnggbgngggbgnggbgg"  # 25 labels: good, wrong (bad), neutral
STATE = "window.__agentarkLabelCard"


def _steps(n_problems: int = 4) -> int:
    run_id, _ = debate_job.create_debate_run(
        DebateConfig(limit=n_problems, engine="scripted", model="tests.scripted_steps:wrong_then_right"))
    debate_job.run_debate_job(run_id)
    with Store() as store:  # before the app opens the store: it is one process's file
        store.refresh()
        segment_runs(store, [run_id], SegmentConfig())
        return int(store.scalar("SELECT count(*) FROM steps"))


def _open_card(page, url: str, name: str | None = "kim") -> None:
    page.goto(url)
    page.get_by_role("heading", name="Run debates", exact=True).wait_for(timeout=30_000)
    page.get_by_role("link", name="Label steps").click()
    page.get_by_text("Step 1 of").wait_for(timeout=30_000)
    if name:
        page.get_by_role("textbox", name="Annotator").fill(name)
        page.get_by_role("textbox", name="Annotator").press("Enter")
        page.get_by_text("Enter your name as").wait_for(state="hidden", timeout=20_000)
    page.locator("h1").click()  # focus the page, not a text field


def _press(page, keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)


def _saved(page) -> None:
    page.get_by_text("Every label is saved.").wait_for(timeout=20_000)


def _human_labels(store: Store) -> tuple[int, int, int]:
    row = store.df("""SELECT count(*) FILTER (WHERE value IS NOT NULL) AS valued, count(*) AS rows,
                             count(DISTINCT step_id) AS steps FROM step_labels WHERE source = 'human'""").iloc[0]
    return int(row["valued"]), int(row["rows"]), int(row["steps"])


def test_fifty_keys_fifty_labels_after_a_tab_closed_mid_way(app_server, browser):
    assert _steps() >= 60
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    _open_card(page, app_server)
    _press(page, KEYS)
    page.get_by_text(f"Step {len(KEYS) + 1} of").wait_for(timeout=5_000)
    unsent = page.evaluate(f"{STATE}.pending.length")
    page.close()  # at once: the last labels were shown as given but not acknowledged yet
    assert unsent > 0
    # A new tab of the same browser sends what the closed one kept; once they are stored, its queue opens again
    # (they were stored after it opened), so the 25 keys that follow label 25 other steps.
    page = context.new_page()
    _open_card(page, app_server)
    _saved(page)
    _press(page, KEYS)
    _saved(page)
    readme_image(page, "label_steps.png")
    timings = page.evaluate(f"{STATE}.timings")
    assert len(timings) >= len(KEYS)
    context.close()
    with Store() as store:
        valued, rows, steps = _human_labels(store)
    assert (valued, rows, steps) == (50, 50, 50)


@pytest.mark.slow
def test_nothing_lost_across_a_server_restart_and_a_correction_is_stored(agentark_home, browser):
    _steps()
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    flags = ("--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false")
    with live_app(agentark_home, *flags) as (_, port):
        url = f"http://127.0.0.1:{port}"
        _open_card(page, url)
        _press(page, "gggb")
        _saved(page)
        # The wrong step: go back to it and write the step that should have been there.
        _press(page, "k")
        page.get_by_role("button", name="Correct this step").click()
        page.get_by_role("textbox", name="Corrected step").fill("Ben has 3 * 4 = 12 apples.")
        page.get_by_role("textbox", name="Rest of the solution (optional)").fill("So 12 - 2 = 10.\n\nThe answer is 10.")
        page.get_by_role("textbox", name="Rest of the solution (optional)").press("Control+Enter")
        page.get_by_text("→ Ben has 3 * 4 = 12 apples.").wait_for(timeout=5_000)
        _saved(page)
        page.locator("h1").click()
        _press(page, "j")
    # The server is gone: keys still label, and the labels wait in the browser.
    _press(page, "gggfgn")  # "f" marks a step unsure and stays on it: the next key labels it too
    assert page.evaluate(f"{STATE}.pending.length") == 6
    with Store() as store:
        assert _human_labels(store)[1] == 4
    with live_app(agentark_home, *flags, port=port):
        _saved(page)  # the page reconnects on its own and sends them
    context.close()
    with Store() as store:
        valued, rows, steps = _human_labels(store)
        fixes = store.df("SELECT annotator, text, rest, original_text FROM step_corrections")
    assert (valued, rows, steps) == (9, 10, 9)
    assert fixes[["annotator", "text"]].values.tolist() == [["kim", "Ben has 3 * 4 = 12 apples."]]
    assert fixes["rest"].iloc[0].endswith("The answer is 10.") and fixes["original_text"].iloc[0]
