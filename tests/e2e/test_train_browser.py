"""Real browser: start a PRM job from the Train page, watch its loss chart grow, cancel it."""
from __future__ import annotations

import re
import time

import pandas as pd
import pytest

from tests.e2e.conftest import screenshot
from tests.tinylm import build_tiny_llama

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _loss_step(page) -> int:
    """The newest step the loss chart shows (from its caption), or -1 before the chart exists."""
    caption = page.get_by_text(re.compile(r"^loss: \d+ points")).first
    if not caption.count():
        return -1
    return int(re.search(r"at step (\d+)", caption.text_content()).group(1))


def test_prm_job_started_from_the_train_page_updates_its_loss_chart(app_server, browser, tmp_path):
    base = build_tiny_llama(tmp_path / "tiny")
    rows = [{"prompt": f"What is {i} + 4?", "completions": [f"Add {i} and 4.", f"The answer is {i + 4 + i % 2}."],
             "labels": [True, i % 2 == 0]} for i in range(16)]
    export = tmp_path / "prm.parquet"
    pd.DataFrame(rows).to_parquet(export)

    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    # A fresh server answers the very first request for a non-default page with a "Page not found" modal
    # (streamlit/streamlit#9992); load the main page once, as a user would have.
    page.goto(app_server)
    page.get_by_role("heading", name="Run debates", exact=True).wait_for(timeout=60_000)
    page.goto(f"{app_server}/train")
    page.get_by_role("heading", name="Train", exact=True).wait_for(timeout=60_000)
    page.get_by_text("AgentArk Studio").first.wait_for(timeout=30_000)  # through app.py, not pages/ alone
    page.get_by_role("textbox", name="…or a file path").fill(str(export))
    page.get_by_role("textbox", name="…or a folder / hub id").fill(str(base))
    page.get_by_text("Options", exact=True).click()
    page.get_by_role("textbox", name="max steps").fill("400")
    page.get_by_role("button", name="Start job").click()
    page.get_by_text(re.compile(r"Started prm job prm-")).wait_for(timeout=60_000)

    deadline = time.time() + 180
    first = -1
    while time.time() < deadline and first < 0:
        first = _loss_step(page)
        time.sleep(0.5)
    assert first >= 1, "the loss chart never appeared"
    # The plotly chart itself, titled "loss", is drawn (its title is SVG text).
    page.locator("text.gtitle").filter(has_text=re.compile(r"^loss$")).first.wait_for(state="attached", timeout=60_000)
    later = first
    while time.time() < deadline and later <= first:
        later = _loss_step(page)
        time.sleep(0.5)
    assert later > first, f"the loss chart stayed at step {first}"
    page.get_by_text("Models the studio trained").scroll_into_view_if_needed()  # static: outside the live fragment
    screenshot(page, "train_prm_loss.png")

    cancel = page.get_by_role("button", name="Cancel")
    if cancel.count():
        cancel.click()
        page.get_by_text(re.compile(r"status (cancelled|done)")).wait_for(timeout=120_000)
