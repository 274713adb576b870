"""The app's navigation: every page is reachable by its own URL path and never by Streamlit's pages/ fallback.

Streamlit still auto-discovers pages/ next to an entry point that calls st.navigation; a URL path equal to a
page file's discovered name (``7_jobs.py`` -> ``jobs``) makes a deep link run that file on its own, without
app.py's store refresh and sidebar (seen on /compare, /jobs and /train). This test keeps the names apart.
"""
from __future__ import annotations

import ast
import re

from tests.conftest import ROOT


def _pages_in_app() -> list[tuple[str, str]]:
    tree = ast.parse((ROOT / "app.py").read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            path = node.args[0].value
            url = next(k.value.value for k in node.keywords if k.arg == "url_path")
            found.append((path, url))
    return found


def _discovered_name(file_name: str) -> str:
    """The URL name Streamlit's pages/ discovery gives a file: numeric prefix and extension dropped."""
    return re.sub(r"^\d+_?", "", file_name.removesuffix(".py"))


def test_every_page_file_is_in_the_navigation():
    listed = {path for path, _ in _pages_in_app()}
    on_disk = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert listed == on_disk


def test_no_url_path_equals_a_discovered_page_name():
    discovered = {_discovered_name(p.name) for p in (ROOT / "pages").glob("*.py")}
    clashes = [url for _, url in _pages_in_app() if url in discovered]
    assert clashes == [], f"URL paths {clashes} equal a pages/ file's name; rename the file"


def test_the_issue_urls_are_kept():
    urls = {url for _, url in _pages_in_app()}
    assert {"compare", "train", "jobs", "run", "transcript", "label"} <= urls
