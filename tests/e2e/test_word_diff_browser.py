"""Real browser: the Compare page's word diff on multi-line messages strikes through exactly the deleted words
(before and after line breaks), and never inserted or unchanged text."""
from __future__ import annotations

import pytest

from agentark.runs.traces import word_diff
from agentark.store import Store
from tests.evalstore import add_run, message, outcome

pytestmark = pytest.mark.browser

# The first change ends its line, so the deleted piece carries the blank line after it: the case that struck
# through the whole rest of the message, inserted text included.
OLD = "Step 1: add the apples.\n\n3 + 4 = 7\n\nStep 2: double it.\n\nThe answer is 14."
NEW = "Step 1: add the pears.\n\n3 + 4 = 7\n\nWait, the plums count too.\n\nStep 2: triple it.\n\nThe answer is 21."

STYLES = """() => {
  const root = document.querySelector('.word-diff');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const out = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    // A line-through drawn by any ancestor runs through its descendants (CSS cannot take it off there), so a
    // text node is struck when any element between it and the diff's root draws one.
    let struck = false;
    for (let el = node.parentElement; el && el !== root.parentElement; el = el.parentElement) {
      if (getComputedStyle(el).textDecorationLine.includes('line-through')) struck = true;
    }
    out.push([node.textContent, struck, node.parentElement.tagName]);
  }
  return out;
}"""


def test_word_diff_on_multi_line_messages(app_server, browser):
    with Store() as store:
        for run_id, text, method in (("ref", OLD, "debate"), ("cand", NEW, "cot")):
            final = "14" if run_id == "ref" else "21"
            add_run(store, run_id, method, "m", [message(run_id, "P14", 0, text)],
                    [outcome(run_id, "P14", final, 10, 10, 1, 100.0)], ["P14"], "2026-01-01T00:00:00")
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(app_server)
    page.get_by_role("heading", name="Run debates", exact=True).wait_for(timeout=60_000)
    page.goto(f"{app_server}/compare?runs=ref,cand&roles=cand:student")  # diff: ref (teacher) -> cand
    page.locator(".word-diff").wait_for(timeout=90_000)
    pieces = page.evaluate(STYLES)
    struck = "".join(t for t, strike, _ in pieces if strike).replace("\n", "")
    plain = "".join(t for t, strike, _ in pieces if not strike)
    deleted = "".join(t for op, t in word_diff(OLD, NEW) if op == "delete").replace("\n", "")
    inserted = [t.strip() for op, t in word_diff(OLD, NEW) if op == "insert"]
    assert struck == deleted and "apples." in struck and "double" in struck and "14." in struck
    for text in inserted:  # inserted text after a blank line is shown plain (green), never struck through
        assert text.replace("\n", "") in plain.replace("\n", "")
    assert "The answer is" in plain and "Step 2:" in plain and "21." in plain
    assert all(tag == "INS" for t, strike, tag in pieces if "plums" in t or "pears" in t)
