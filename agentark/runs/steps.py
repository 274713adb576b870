"""A message's reasoning steps: where a message is cut into steps (with character offsets, so a step can be
shown in place), and which steps make a claim. Labels (``agentark.labels.segment`` stores the steps of runs),
the PAD reward and evaluation all cut text the same way through :func:`segment`.

The default segmenter, ``auto``, cuts at ``Step k:`` markers or numbered lines when a message has them (and at
blank lines), otherwise at paragraphs, otherwise at lines: models write "Step 1: ...\nStep 2: ..." on single
line breaks, which ``paragraphs`` would keep as one step. A step that makes no claim (an opening such as
"Let's break down the problem step by step:", or the question restated: no number the question lacks, no
equation, no inference, no answer) is stored with ``claim = false``; labelers never label it and the
first-error convention never stops at it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from agentark.errors import ConfigError

SEGMENTERS = ("auto", "paragraphs", "lines", "markers", "sentences")
DEFAULT_SEGMENTER = "auto"
_MARKER = re.compile(r"(?im)^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*)?step\s*\d+\s*(?:\*\*)?\s*[:.)]")
# A numbered line: "1. ", "2) " at the start of a line (not "3.5 apples").
_NUMBERED = re.compile(r"(?m)^[ \t]*(?:\*\*)?\d{1,2}[.)](?:\*\*)?[ \t]+(?=\S)")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
# What a claim looks like: an equation or arithmetic between numbers, an inference, or a committed answer.
_LEAD = re.compile(r"^\s*(?:#{1,6}\s*)?(?:\*\*)?(?:step\s*\d+|\d{1,2}(?=[.)]))\s*(?:\*\*)?\s*[:.)]?\s*", re.I)
_EQUATION = re.compile(r"=|\d\s*(?:[-+*/×÷^x]|\\times|\\cdot|\\div)\s*[($]?\s*\d|\\frac")
_INFERENCE = re.compile(r"\b(?:therefore|thus|hence|so|because|since|means|implies|gives|equals|makes|leaves)\b|"
                        r"\banswer\s*(?:is|:|=)|\\boxed|####", re.I)
_CLAIM_NUMBER = re.compile(r"(?<![A-Za-z\d.])\d[\d,]*(?:\.\d+)?")
# A sentence ends at . ! or ? followed by white space; "3.5" and "e.g.x" never split.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Step:
    """One step: ``text == content[char_start:char_end]`` of its message."""

    idx: int
    text: str
    char_start: int
    char_end: int


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _CLAIM_NUMBER.findall(text)}


def has_claim(text: str, question: str = "") -> bool:
    """Whether a step claims something a reader could find wrong: a number the question does not hold, an
    equation or arithmetic, an inference word (therefore, so, because, ...) or an answer. An opening ("Let's
    break down the problem step by step:") and the question restated make none. A "Step k:" marker is not a
    claim."""
    body = _LEAD.sub("", text or "", count=1)
    if _EQUATION.search(body) or _INFERENCE.search(body):
        return True
    return bool(_numbers(body) - _numbers(question or ""))


def _spans_between(content: str, cuts: list[int]) -> list[tuple[int, int]]:
    """Pieces between cut points, trimmed of surrounding white space, empty pieces dropped."""
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(content))), len(content)]
    spans = []
    for start, end in zip(bounds, bounds[1:]):
        piece = content[start:end]
        stripped = piece.strip()
        if not stripped:
            continue
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + lead + len(stripped)))
    return spans


def _auto_cuts(content: str) -> list[int]:
    """Markers (two or more) or numbered lines (two or more) with blank lines; else paragraphs; else lines."""
    paragraphs = [m.end() for m in _PARAGRAPH.finditer(content)]
    for pattern in (_MARKER, _NUMBERED):
        starts = [m.start() for m in pattern.finditer(content)]
        if len(starts) >= 2:
            return starts + paragraphs
    if len(_spans_between(content, paragraphs)) > 1:
        return paragraphs
    return [m.end() for m in re.finditer(r"\n", content)]


def segment(content: str, method: str = DEFAULT_SEGMENTER) -> list[Step]:
    """Steps of ``content``: ``auto`` (see the module docstring), ``paragraphs`` (blank lines), ``lines``,
    ``markers`` (``Step k:``) or ``sentences``."""
    if method not in SEGMENTERS:
        raise ConfigError(f"Unknown segmenter '{method}'; choose one of: {', '.join(SEGMENTERS)}.")
    content = content or ""
    if method == "auto":
        cuts = _auto_cuts(content)
    elif method == "paragraphs":
        cuts = [m.end() for m in _PARAGRAPH.finditer(content)]
    elif method == "lines":
        cuts = [m.end() for m in re.finditer(r"\n", content)]
    elif method == "markers":
        cuts = [m.start() for m in _MARKER.finditer(content)]
    else:
        cuts = [m.end() for m in _SENTENCE_END.finditer(content)]
    return [Step(i, content[s:e], s, e) for i, (s, e) in enumerate(_spans_between(content, cuts))]
