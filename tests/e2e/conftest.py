"""A live Streamlit server on 127.0.0.1 (tests/live_app.py) and headless Debian Chromium driven by Playwright.

Outside CI the browser tests skip, with the reason, when /usr/bin/chromium is absent; in CI (CI=true)
they fail instead, because .ci/run installs Chromium. Playwright's own browser download is never used.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import chromium_path, launch
from tests.live_app import live_app

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
README_IMAGES = ROOT / "docs" / "images"


@pytest.fixture
def browser():
    exe = chromium_path()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install Debian's chromium package.")
        pytest.skip("No Chromium at /usr/bin/chromium: install it with `apt-get install chromium` to run browser tests.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw, exe)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def app_server(agentark_home):
    """``streamlit run app.py`` on a free loopback port with the test's AGENTARK_HOME; yields its URL."""
    with live_app(agentark_home, "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false") as (_, port):
        yield f"http://127.0.0.1:{port}"


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def readme_image(page, name: str) -> Path:
    """One of the README's images, taken from the current app: written to docs/images/ (where the README shows it
    from) each time the test runs, so a change to a page shows in the README once the suite has run
    (tests/test_readme_images.py checks that every image the README shows has a test that writes it)."""
    README_IMAGES.mkdir(parents=True, exist_ok=True)
    path = README_IMAGES / name
    page.screenshot(path=str(path), full_page=True)
    return path
