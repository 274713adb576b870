"""Stored text shown as text: the one HTML escaper and the one Markdown escaper every face uses.

Questions, messages, steps, answers, agent and model names, run names, tags and notes come from people and
from other tools' files, so they are untrusted: an answer ``\\boxed{a`<iframe srcdoc=...>`=}`` closed the code
span around it and ran script in the Debate viewer, and ``[x](javascript:...)``, ``![](...)`` or ``**`` in
a name is markup too. Every page and report puts such text through one of these two functions, never into
an f-string of HTML or Markdown as it is.

Design decision: ``md_text`` backslash-escapes every ASCII punctuation character (CommonMark lets any of
them be escaped, and Streamlit's ``$`` maths, ``:colour[...]`` directives and raw HTML all start with one),
keeps line breaks as hard breaks, and turns leading spaces into no-break spaces so that an indented line is
not read as a code block (whose backslashes would then show). The text then reads exactly as stored, only
never as markup. ``md_code`` is the same promise for text shown as code (answers): a fence
longer than any backtick run inside.
"""
from __future__ import annotations

import html
import re

# Every ASCII punctuation character but an underscore between two letters or digits, which CommonMark never
# reads as emphasis (so ``agent_1`` stays as it is in the Markdown source).
_MD_PUNCT = re.compile(r"([!-/:-@\[-^`{-~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
_LEADING_SPACES = re.compile(r"^[ \t]+", re.MULTILINE)


def html_text(value: object) -> str:
    """``value`` as text inside HTML (an element's content or a quoted attribute): ``& < > " '`` escaped."""
    return html.escape("" if value is None else str(value), quote=True)


def md_text(value: object) -> str:
    """``value`` as literal text inside Streamlit Markdown (st.markdown, st.caption, st.info, labels):
    every Markdown, HTML, LaTeX and directive character escaped, line breaks kept."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _MD_PUNCT.sub(r"\\\1", text)
    text = _LEADING_SPACES.sub(lambda m: "\u00a0" * len(m.group(0).expandtabs(4)), text)
    return text.replace("\n", "  \n")


def md_code(value: object) -> str:
    """``value`` as a Markdown code span whatever it holds: the fence is one backtick longer than the longest
    run of backticks inside, so a backtick in the value cannot close the span (nothing in a span is markup)."""
    text = ("" if value is None else str(value)).replace("\r", " ").replace("\n", " ")
    if not text.strip():
        return md_text(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
