"""Headless Debian Chromium, for the browser tests (tests/e2e) and the benchmarks that drive the app in one.

Playwright's own browser download is never used: the system's /usr/bin/chromium (or $CHROMIUM) is launched with
flags that keep it off the network and the GPU.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    """Where Chromium is: $CHROMIUM, /usr/bin/chromium or the PATH; None when it is absent."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def launch(playwright, exe: str | None = None):
    """A headless Chromium browser from a started ``sync_playwright()``."""
    exe = exe or chromium_path()
    if exe is None:
        raise SystemExit("Chromium is missing: install Debian's chromium package (apt-get install chromium).")
    return playwright.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS, headless=True)
