"""Finding the answer a reply commits to: explicit statements (``\\boxed{}``, ``####``, "The answer is"),
whether the final one names alternatives, and the last number as a fallback.

A message cut off at the token limit has an answer only if it states one explicitly; a final that names two
values ("14 or 15") is ambiguous and has none. Multiple-choice replies are read by
:mod:`agentark.grading.choices`; :func:`agentark.grading.reading.read_answer` picks between the two.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from agentark.grading.text import NUMBER, SENTENCE_END, clean, finish, format_fraction, number_token, parse_number

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_HASHES = re.compile(r"####[ \t]*(?:\n\s*)?([^\n]*)")
# The span is captured in a lookahead so two phrases on one line ("The answer is 5. Wait... The answer is 6.")
# are both found and the later one wins.
_ANSWER_PHRASE = re.compile(r"\banswer\s*(?:is|would\s+be|:|=)[ \t:]*(?=((?:\n\s*)?[^\n]*))", re.IGNORECASE)


def extract_answer(text: str) -> str | None:
    """The final answer a model gave in free text, cleaned; None when the text commits to nothing.

    Priority: the last ``\\boxed{}``, then ``#### X``, then the last "The answer is X" / "Final Answer: X" /
    "Answer: X", then the last number anywhere. Numbers come back without currency, separators or units
    ("$1,234.50" -> "1234.50", "72 apples" -> "72", "45%" stays "45%", "\\frac{1}{2}" -> "1/2"). An
    ambiguous final ("\\boxed{14 or 15}") is no answer. Grading a message uses ``read_answer``, which also
    knows whether the message was cut off.
    """
    return read_free_answer(text, None).answer


def explicit_answer(text: str) -> str | None:
    """The answer a text explicitly commits to (a ``\\boxed{}``, ``#### X`` or "The answer is X"), without
    falling back to the last number: a reply cut off mid-sentence ("Step 4", "18 pancakes") has none."""
    answer, _ = _explicit(text)
    return answer


# Two values offered as the answer: "14 or 15", "(B) or (C)", "14 and/or 15".
_ALTERNATIVE = re.compile(r"\s(?:or|and/or)\s", re.IGNORECASE)


def ambiguous(candidate: str) -> bool:
    """Whether a candidate span offers alternatives ("14 or 15") rather than one answer: two different
    values joined by "or" in its first sentence. "5 (or 5.0)" names one value and is not ambiguous."""
    s = SENTENCE_END.split(clean(candidate), 1)[0]
    parts = _ALTERNATIVE.split(s)
    if len(parts) < 2:
        return False
    values = set()
    for part in parts:
        part = part.strip().strip("().,;:*").strip()
        number = NUMBER.search(part)
        parsed = parse_number(number_token(number)) if number else None
        if parsed is not None:
            values.add(format_fraction(parsed[0]))
        elif re.fullmatch(r"\(?[A-Za-z]\)?", part):
            values.add(part.strip("()").upper())
    return len(values) >= 2


def _boxed_spans(text: str) -> list[tuple[int, int]]:
    """(start of content, end of content) of every ``\\boxed{...}`` in order, nested braces included."""
    found = []
    for m in _BOXED.finditer(text):
        depth = 1
        for j in range(m.end(), len(text)):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    found.append((m.end(), j))
                    break
    return found


def candidates(text: str) -> list[str]:
    """Explicit answer spans, most authoritative first: boxes (last first), ``####`` lines, answer phrases.
    Two boxes joined by "or" ("\\boxed{14} or \\boxed{15}") come back as one span "14 or 15"."""
    spans = _boxed_spans(text)
    boxes = [text[a:b] for a, b in spans]
    if len(spans) >= 2 and re.fullmatch(r"\}?\s*\$*\s*(?:or|and/or)\s*\$*\s*\\(?:boxed|fbox)\s*\{?",
                                        text[spans[-2][1]:spans[-1][0]], re.IGNORECASE):
        boxes[-1] = f"{boxes[-2]} or {boxes[-1]}"
    hashes = [m.group(1) for m in _HASHES.finditer(text)]
    unbolded = text.replace("**", "")  # "**Answer:** 72" must read as "Answer: 72"
    phrases = [m.group(1) for m in _ANSWER_PHRASE.finditer(unbolded)]
    # Later boxes/phrases are later thoughts: the model's final commitment is the last one that holds an answer.
    return boxes[::-1] + hashes[::-1] + phrases[::-1]


def _explicit(text: str) -> tuple[str | None, bool]:
    """(explicit answer or None, whether the final explicit statement is ambiguous)."""
    if not text:
        return None, False
    for candidate in candidates(text):
        if ambiguous(candidate):
            return None, True
        answer = finish(candidate)
        if answer is not None:
            return answer, False
    return None, False


# How a message's answer was found, stored with it (``messages.answer_kind``):
#   explicit   stated (\boxed{}, ####, "The answer is", a choice "(B)");
#   implicit   the last number of a message that was not cut off (or whose tool did not record why it ended);
#   cut_off    the message hit the token limit before stating an answer: it has none and counts wrong;
#   ambiguous  the final names alternatives ("14 or 15"): ungradable, no answer;
#   none       nothing that reads as an answer.
ANSWER_KINDS = ("explicit", "implicit", "cut_off", "ambiguous", "none")


@dataclass(frozen=True)
class Reading:
    """A message's answer (None when it has none) and how it was found (one of ``ANSWER_KINDS``)."""

    answer: str | None
    kind: str


def read_free_answer(text: str | None, finish_reason: str | None = "stop") -> Reading:
    """The answer of a reply read as mathematics (not as a choice): the explicit one, else (unless the reply
    was cut off) the last number."""
    if not text:
        return Reading(None, "none")
    answer, unclear = _explicit(text)
    if unclear:
        return Reading(None, "ambiguous")
    if answer is not None:
        return Reading(answer, "explicit")
    if finish_reason == "length":
        return Reading(None, "cut_off")
    numbers = list(NUMBER.finditer(clean(text)))
    return Reading(number_token(numbers[-1]), "implicit") if numbers else Reading(None, "none")
