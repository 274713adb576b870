"""The README's images come from the current app: each one it shows is written to docs/images/ by a browser test
(``readme_image(page, NAME)`` in tests/e2e), so running the browser tests redraws them."""
from __future__ import annotations

import re

from tests.conftest import ROOT

WRITES = re.compile(r"""readme_image\(\s*page\s*,\s*["']([\w.-]+\.png)["']\s*\)""")


def written_by_browser_tests() -> dict[str, list[str]]:
    """Image name -> the browser test files that write it."""
    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests" / "e2e").glob("test_*.py")):
        for name in WRITES.findall(path.read_text()):
            out.setdefault(name, []).append(path.name)
    return out


def test_every_image_the_readme_shows_is_written_by_a_browser_test():
    shown = re.findall(r"\]\(docs/images/([\w.-]+)\)", (ROOT / "README.md").read_text())
    assert shown, "the README shows no image from docs/images: the check below would be vacuous"
    written = written_by_browser_tests()
    missing = [name for name in shown if name not in written]
    assert not missing, f"README images no browser test writes (use readme_image in tests/e2e): {missing}"
    assert all((ROOT / "docs" / "images" / name).is_file() for name in shown)


def test_every_image_a_browser_test_writes_is_one_the_readme_or_docs_show():
    docs = "\n".join(p.read_text() for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
    unused = [name for name in written_by_browser_tests() if f"images/{name}" not in docs]
    assert not unused, f"browser tests write images nothing shows: {unused}"
