"""Finding the answer a reply commits to: explicit statements (``\\boxed{}``, ``####``, "The answer is"),
whether the final one names alternatives, and the last number as a fallback.

A message cut off at the token limit has an answer only if it states one explicitly; a final that names two
values ("14 or 15") is ambiguous and has none. Multiple-choice replies are read by
:mod:`agentark.grading.choices`; :func:`agentark.grading.reading.read_answer` picks between the two.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from agentark.grading.text import (NUMBER, SENTENCE_END, WORD, clean, finish, format_fraction, number_token,
                                   parse_number)

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
    return read_free_answer(text, "stop").answer


def explicit_answer(text: str) -> str | None:
    """The answer a text explicitly commits to (a ``\\boxed{}``, ``#### X`` or "The answer is X"), without
    falling back to the last number: a reply cut off mid-sentence ("Step 4", "18 pancakes") has none."""
    answer, _ = _explicit(text)
    return answer


# A finished sentence ends with punctuation, a closing bracket, a formula or emphasis; a reply whose tool did
# not record why it ended and whose last line stops after this many words without one was cut off.
_SENTENCE_CLOSE = re.compile(r"""(?:[.!?:;)\]}$*`"'»”’>|]|=\s*-?[\d.,]+)\s*$""")
_CUT_WORDS = 8


def ends_mid_sentence(text: str) -> bool:
    """Whether a reply stops in the middle of a sentence ("...arrived at the same wrong answer of 18"): its
    last line runs on for ``_CUT_WORDS`` words or more and ends without closing punctuation."""
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    return len(last.split()) >= _CUT_WORDS and not _SENTENCE_CLOSE.search(last)


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


# What a prompt template asks for, copied instead of an answer: \boxed{answer}, \boxed{X}, "(X)".
_PLACEHOLDER = re.compile(r"\s*(?:your\s+|the\s+|final\s+)*(?:answer|x|n|number|value|result|solution)\s*",
                          re.IGNORECASE)
# Arithmetic left undone in a box, "45,000 x 12": a product of numbers is a calculation, not its value.
_CALCULATION = re.compile(r"\d\s*(?:[x×*]|\\times|\\cdot)\s*[$]?\d")
# A box directly followed by a label ("\boxed{4} blue"): each box names a different quantity.
_BOX_LABEL = re.compile(r"\s*(?:\$\s*)?([A-Za-z]{2,})")
# Words that make a later box a correction or the final one rather than another quantity.
_FINAL_WORDS = re.compile(r"\b(?:correct|actually|wait|final|total|so|therefore|thus|hence|answer|instead)",
                          re.IGNORECASE)


def placeholder(span: str) -> bool:
    """Whether a span is a template's placeholder ("answer", "X", "your answer") rather than an answer."""
    return bool(_PLACEHOLDER.fullmatch(clean(span).strip("*. ")))


def _box_problem(text: str) -> str:
    """Why the boxes of a text do not give one answer ("" when they do): the last box is an unevaluated
    calculation or a sentence with several values, or the last two boxes label different quantities."""
    spans = [(a, b) for a, b in _boxed_spans(text) if not placeholder(text[a:b])]
    if not spans:
        return ""
    a, b = spans[-1]
    content = clean(text[a:b])
    if "=" not in content and _CALCULATION.search(content):
        return f"boxes a calculation, not its value: {text[a:b].strip()[:60]}"
    if WORD.search(content) and len(content.split()) >= 3 and "=" not in content:
        values = {number_token(m) for m in NUMBER.finditer(content)}
        if len(values) != 1:
            return f"boxes a sentence, not one value: {text[a:b].strip()[:60]}"
    if len(spans) >= 2:
        (a0, b0), (a1, b1) = spans[-2], spans[-1]
        first, second = finish(text[a0:b0]), finish(text[a1:b1])
        label0, label1 = _BOX_LABEL.match(text, b0 + 1), _BOX_LABEL.match(text, b1 + 1)
        between = text[b0 + 1:a1]
        if (first != second and label0 and label1 and label0.group(1).lower() != label1.group(1).lower()
                and not _FINAL_WORDS.search(between) and not SENTENCE_END.search(clean(between))):
            return (f"boxes values that answer different things: {first} {label0.group(1)}, "
                    f"{second} {label1.group(1)}")
    return ""


def _explicit(text: str) -> tuple[str | None, str]:
    """(explicit answer or None, why the final explicit statement gives none: "" when it is clear)."""
    if not text:
        return None, ""
    problem = _box_problem(text)
    if problem:
        return None, problem
    skipped = False
    for candidate in candidates(text):
        if placeholder(candidate):
            skipped = True
            continue
        if ambiguous(candidate):
            return None, f"names alternatives: {clean(candidate)[:60]}"
        answer = finish(candidate)
        if answer is not None:
            return answer, ""
    return None, ("states the template's placeholder, not an answer" if skipped else "")


# How a message's answer was found, stored with it (``messages.answer_kind``):
#   explicit   stated (\boxed{}, ####, "The answer is", a choice "(B)");
#   implicit   the last number of a message that was not cut off (or whose tool did not record why it ended);
#   cut_off    the message hit the token limit (or, when its tool did not record why it ended, stops
#              mid-sentence) before stating an answer: it has none and counts wrong;
#   ambiguous  the final names alternatives ("14 or 15"), hedges between options, names a value that is no
#              option, boxes an unevaluated calculation, a sentence or a template placeholder, or boxes
#              values that answer different things: ungradable, no answer (the reading keeps the reason);
#   none       nothing that reads as an answer.
ANSWER_KINDS = ("explicit", "implicit", "cut_off", "ambiguous", "none")


@dataclass(frozen=True)
class Reading:
    """A message's answer (None when it has none), how it was found (one of ``ANSWER_KINDS``) and, for a
    reading that is not a plain answer, why ("a hedge between options (C, B, D)", "ends mid-sentence")."""

    answer: str | None
    kind: str
    reason: str = field(default="", compare=False)  # an explanation: two readings with one answer and kind are equal


def read_free_answer(text: str | None, finish_reason: str | None = "stop") -> Reading:
    """The answer of a reply read as mathematics (not as a choice): the explicit one, else (unless the reply
    was cut off) the last number."""
    if not text:
        return Reading(None, "none")
    answer, unclear = _explicit(text)
    if unclear:
        return Reading(None, "ambiguous", unclear)
    if answer is not None:
        return Reading(answer, "explicit")
    if finish_reason == "length":
        return Reading(None, "cut_off", "hit the token limit before stating an answer")
    if finish_reason is None and ends_mid_sentence(text):
        return Reading(None, "cut_off", "ends mid-sentence before stating an answer")
    numbers = list(NUMBER.finditer(clean(text)))
    return Reading(number_token(numbers[-1]), "implicit") if numbers else Reading(None, "none")
