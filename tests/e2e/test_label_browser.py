"""Real browser: label three steps with the keyboard shortcuts alone, then see them stored."""
from __future__ import annotations

from agentark.debate import debate_job
from agentark.debate import DebateConfig
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import Store
from tests.e2e.conftest import screenshot


def test_keyboard_labels_three_steps(app_server, browser):
    run_id, _ = debate_job.create_debate_run(DebateConfig(limit=1, engine="scripted", model="tests.scripted_steps:wrong_then_right"))
    debate_job.run_debate_job(run_id)
    with Store() as store:  # before the app opens the store: it is one process's file
        store.refresh()
        segment_runs(store, [run_id], SegmentConfig())
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(app_server)
    page.get_by_role("heading", name="Run debates").wait_for(timeout=30_000)
    page.get_by_role("link", name="Label steps").click()
    page.get_by_text("Step 1 of").wait_for(timeout=30_000)
    page.get_by_role("textbox", name="Annotator").fill("kim")
    page.get_by_role("textbox", name="Annotator").press("Enter")
    page.get_by_text("Step 1 of").wait_for()
    page.get_by_text("Enter your name as").wait_for(state="detached", timeout=20_000)
    for key, nxt in (("g", "Step 2 of"), ("b", "Step 3 of"), ("n", "Step 4 of")):
        # The shortcut listener is installed by a component iframe after each run; wait for it.
        page.wait_for_function("() => window.__streamlitShortcutsMap && window.__streamlitShortcutsMap.lab_good")
        page.locator("h1").click()  # focus the page, not a text field
        page.keyboard.press(key)
        page.get_by_text(nxt).wait_for(timeout=20_000)
        if nxt == "Step 2 of":
            # Typing a note that contains shortcut letters ("b", "n", "g") must not label anything.
            note = page.get_by_role("textbox", name="Note (optional)")
            note.click()
            note.press_sequentially("bang")
            note.press("Enter")
            page.get_by_text("Press Enter to apply").wait_for(state="detached", timeout=20_000)
            assert page.get_by_text("Step 2 of").is_visible()
    page.get_by_role("tab", name="Summary").click()
    page.get_by_text("kim").first.wait_for(state="attached", timeout=20_000)
    screenshot(page, "label_steps.png")
    # A fresh session reads the labels back from the store: three rows by kim, one per step.
    fresh = browser.new_page(viewport={"width": 1400, "height": 1100})
    fresh.goto(app_server)
    fresh.get_by_role("link", name="Label steps").click()
    fresh.get_by_role("tab", name="Summary").click()
    counts = fresh.get_by_test_id("stDataFrame").filter(has_text="kim").first
    counts.wait_for(state="attached", timeout=30_000)
    # The grid draws on a canvas; its accessible table holds the cells: source, annotator, labels, steps.
    rows = [[c.text_content() for c in r.locator("td").all()] for r in counts.locator("tr").all()]
    assert ["human", "kim", "3", "3"] in rows
