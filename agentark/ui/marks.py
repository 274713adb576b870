"""How the pages mark things: an answer's correctness, an agent's colour, a word diff drawn as HTML.

Design decision: the domain hands over data (``is_correct``, agent names, ``agentark.runs.traces.word_diff``
pieces) and only this module turns it into Streamlit markdown or HTML, so every page marks the same thing
the same way and no domain module knows how a page looks.
"""
from __future__ import annotations

import re

import pandas as pd

from agentark.runs.traces import word_diff
from agentark.safe_text import html_text

# Colour-blind-safe palette (Okabe–Ito order); agent_N always gets the N-th colour.
AGENT_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
AGGREGATOR_COLOUR = "#6B6B6B"
_DIFF_STYLE = {
    "delete": "background:#fde2e1;color:#8a1c1c;text-decoration:line-through",
    "insert": "background:#dcf5e3;color:#14532d;text-decoration:none",
}


def correct_mark(value: object) -> str:
    """A green check or red cross (Streamlit markdown icons, which need no emoji font) for a message's
    correctness; nothing when unknown (imported sets without a reference)."""
    if value is None or pd.isna(value):
        return ""
    return ":green[:material/check_circle:]" if bool(value) else ":red[:material/cancel:]"


def agent_colour(agent: str) -> str:
    """The agent's colour, the same on every page and every problem."""
    m = re.fullmatch(r"agent_(\d+)", agent)
    if not m:
        return AGGREGATOR_COLOUR
    return AGENT_COLOURS[(int(m.group(1)) - 1) % len(AGENT_COLOURS)]


def agent_dot(agent: str) -> str:
    """The agent's colour as a dot, HTML holding nothing but a palette colour (never the name itself)."""
    return f'<span style="color:{agent_colour(agent)};font-size:1.3em">●</span>'


def diff_html(old: str, new: str) -> str:
    """The word diff as escaped HTML: deletions struck through in red, insertions in green.

    Line breaks become ``<br>`` between pieces and no tag spans one: a raw blank line inside the HTML ends
    a Markdown HTML block, and a ``<del>`` left open there struck through the rest of the message, inserted
    text included."""
    parts = []
    for op, text in word_diff(old, new):
        for i, line in enumerate(text.split("\n")):
            if i:
                parts.append("<br>")
            if not line:
                continue
            escaped = html_text(line)
            if op == "equal":
                parts.append(escaped)
            else:
                tag = "del" if op == "delete" else "ins"
                parts.append(f'<{tag} style="{_DIFF_STYLE[op]}">{escaped}</{tag}>')
    return '<div class="word-diff" style="white-space:pre-wrap;font-size:0.9em">' + "".join(parts) + "</div>"
