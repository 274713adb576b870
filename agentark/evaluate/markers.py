"""Self-correction markers: the phrases with which a message checks or revises its own earlier step.

Design decision: a marker is a named, case-insensitive regular expression over the message text, matched
on word boundaries, and a message "self-corrects" when at least one marker matches. The list is data
(``MARKERS``) so the definition is explicit, testable phrase by phrase, and the same spans drive the
self-correction rate and the highlighting on the Compare page and in the HTML report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MARKERS: dict[str, str] = {
    # "Wait," / "Wait." / "wait a second", not "we wait 5 minutes".
    "wait": r"\bwait(?=\s*[,.!:;\u2014-])|\bwait a (?:moment|second|minute)\b",
    "actually": r"\bactually\b",
    "re-check": r"\blet me (?:re-?check|double[- ]check|verify|check (?:again|that|this|my \w+))\b",
    "reconsider": r"\blet me (?:reconsider|re-?evaluate|redo|recalculate|recompute|correct (?:that|this|it))\b",
    "mistake": r"\b(?:I made (?:a |an )?(?:mistake|error)|my (?:mistake|error)|that was (?:wrong|a mistake))\b",
    "wrong-step": r"\b(?:that's|that is|this is) (?:wrong|incorrect|not right)\b",
    "oops": r"\boops\b",
}
_COMPILED = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in MARKERS.items()]


@dataclass(frozen=True)
class Marker:
    """One matched phrase: ``text[start:end]`` is the phrase, ``name`` the marker it matched."""

    name: str
    start: int
    end: int
    phrase: str


def find_markers(text: str | None) -> list[Marker]:
    """Every marker in ``text``, in order; where two overlap, the earlier (then longer) one is kept."""
    found = sorted(
        (Marker(name, m.start(), m.end(), m.group(0)) for name, rx in _COMPILED for m in rx.finditer(text or "")),
        key=lambda m: (m.start, -(m.end - m.start)),
    )
    kept: list[Marker] = []
    for m in found:
        if not kept or m.start >= kept[-1].end:
            kept.append(m)
    return kept


def self_corrects(text: str | None) -> bool:
    """Whether a message checks or revises its own earlier reasoning (at least one marker)."""
    return bool(find_markers(text))
