"""Multiple choice: the letter of a reference, the options a question lists, and the choice a reply names
(a letter, "(B)", "Answer: C", or the option's text), never the last number of its text.
"""
from __future__ import annotations

import re

from agentark.grading.extract import Reading, ambiguous, candidates, ends_mid_sentence
from agentark.grading.text import SENTENCE_END, clean, to_number

_CHOICE_REFERENCE = re.compile(r"(?:(?i:answer)\s*(?:is)?\s*[:：]?\s*)?(?:\(([A-Ja-j])\)|([A-J])[).]?)")
# An option marker in a question: "A) 45", "(B) 12", "C. 7", "D: 3", at a line start or after a separator.
_OPTION_MARKER = re.compile(r"(?:^|(?<=[\s,;:]))\(?([A-J])[).:]\s+", re.MULTILINE)
# Where the last option's text ends: a line break, a sentence end, or where the prompt's instructions start
# (Du et al.'s "Answer in English only. Explain your answer ...", "Put your answer ...").
_OPTION_END = re.compile(r"\n|(?<=[.?!])\s+(?=[A-Z])|\s+(?=(?:Explain|Answer\s+(?:in|with)|Put\s+your|Please|Make\s+sure"
                         r"|Respond|Give\s+your|Your\s+(?:final\s+)?answer)\b)")
# Du et al.'s template asks for "the form (X)"; replies write the placeholder and then their choice after it:
# "(X) B) ...", "(X) (D) ...", "(X) 16 hours would be ...".
_PLACEHOLDER = re.compile(r"\(X\)")
# What may precede the placeholder on its line for it to be the template's and not a chromosome "(X)": nothing
# but markup, a finished sentence, or a short lead about the answer ("Final answer:", "So my answer is").
_PLACEHOLDER_LEAD = re.compile(r"[\s*#>_`-]*|.*[.!?:]\s+|[^()]{0,60}\b(?:answer|choice|option|form|response)\b[^()]{0,30}",
                               re.IGNORECASE)
# Another option named beside the first: "(C and (B+D))", "B or C", "A/B", "C & D".
_HEDGE = re.compile(r"^\s*(?:\)\s*)?(?:and|or|and/or|\+|&|/|,)\s*\(?\s*([A-J])(?![a-z])")
# A choice stated as such: "(B)" anywhere; "B)" or "B." or a bare "B" at the start of an answer span.
_PAREN_CHOICE = re.compile(r"\(([A-J])\)")
_LEADING_CHOICE = re.compile(r"\s*\(?([A-J])(?:\)|\.|:|$|\s|,)")
# "(D)" ends a reply when at most this many characters follow it on its line ("(D) 45." does).
_CHOICE_TAIL = 40


def choice_letter(reference: str | None) -> str | None:
    """The letter of a multiple-choice reference ("D", "(D)", "Answer: D"), else None."""
    if not reference:
        return None
    m = _CHOICE_REFERENCE.fullmatch(reference.strip())
    return (m.group(1) or m.group(2)).upper() if m else None


def choice_options(question: str) -> dict[str, str]:
    """The options a multiple-choice question lists, letter -> option text, from markers "A) ..", "(B) ..",
    "C. ..", read in letter order from A; {} when it lists fewer than two."""
    markers = list(_OPTION_MARKER.finditer(question or ""))
    chain: list[re.Match[str]] = []
    for m in markers:
        if m.group(1) == chr(ord("A") + len(chain)) and (not chain or m.start() >= chain[-1].end()):
            chain.append(m)
    if len(chain) < 2:
        return {}
    options = {}
    for m, nxt in zip(chain, chain[1:] + [None]):
        body = question[m.end(): nxt.start() if nxt else len(question)]
        if nxt is None:
            body = _OPTION_END.split(body, 1)[0]
        options[m.group(1)] = body.strip().rstrip(",;").strip()
    return options


def answer_choices(reference: str | None, question: str) -> dict[str, str] | None:
    """What ``read_answer`` needs to grade against ``reference``: the question's options when the reference
    is a choice letter ({} if the question lists none), else None (the answer is read as math)."""
    return choice_options(question) if choice_letter(reference) else None


def _option_key(text: str) -> str:
    return re.sub(r"[\s.,;:!?*()]+", " ", clean(text)).strip().lower()


def _choice_in(span: str, choices: dict[str, str]) -> str | None:
    """The choice an answer span names: a leading letter ("B", "(B)", "B) 45") or an option's text."""
    letters = set(choices) or {chr(c) for c in range(ord("A"), ord("K"))}
    s = clean(span).replace("**", "").strip()
    m = _LEADING_CHOICE.match(s)
    if m and m.group(1) in letters:
        return m.group(1)
    paren = _PAREN_CHOICE.search(SENTENCE_END.split(s, 1)[0])
    if paren and paren.group(1) in letters:
        return paren.group(1)
    stated = _option_key(SENTENCE_END.split(s, 1)[0])
    if not stated:
        return None
    hits = [k for k, v in choices.items() if _option_key(v) == stated]
    if not hits:
        value = to_number(stated)
        hits = [k for k, v in choices.items() if value is not None and to_number(v) == value]
    return hits[0] if len(hits) == 1 else None


def _text_option(stated: str, choices: dict[str, str]) -> str | None:
    """The option whose text a span starts with ("16 hours would be the correct solution" -> the option
    "16 hours"), the longest when one option's text starts another's; else the one option of equal value."""
    key = _option_key(stated)
    if not key:
        return None
    hits = [k for k, v in choices.items() if _option_key(v) and (key == _option_key(v)
                                                                or key.startswith(_option_key(v) + " "))]
    if len(hits) > 1:
        longest = max(len(_option_key(choices[k])) for k in hits)
        hits = [k for k in hits if len(_option_key(choices[k])) == longest]
    if not hits:
        first = to_number(key.split(" ", 1)[0])
        hits = [k for k, v in choices.items() if first is not None and to_number(_option_key(v).split(" ", 1)[0]) == first
                and len(_option_key(v).split()) <= 1 + len(key.split())]
    return hits[0] if len(hits) == 1 else None


def _after_placeholder(rest: str, choices: dict[str, str]) -> Reading | None:
    """What follows Du et al.'s "(X)" placeholder: a letter ("B) ...", "(D) ..."), an option's text, or a
    hedge / a value that is no option (ambiguous, with the reason); None when nothing follows it."""
    letters = set(choices) or {chr(c) for c in range(ord("A"), ord("K"))}
    s = clean(rest).replace("**", "").strip().lstrip(":=-–— ").strip()
    if not s:
        return None
    lead = _LEADING_CHOICE.match(s)
    if lead and lead.group(1) in letters:
        letter, tail = lead.group(1), s[lead.end():]
        hedge = _HEDGE.match(tail)
        if hedge and hedge.group(1) in letters and hedge.group(1) != letter:
            return Reading(None, "ambiguous", f"a hedge between options: {s[:60]}")
        named = _text_option(tail, choices) if choices else None
        if named is not None and named != letter and _text_option(tail, {letter: choices[letter]}) is None:
            return Reading(None, "ambiguous", f"letter {letter} with option {named}'s text: {s[:60]}")
        return Reading(letter, "explicit")
    named = _text_option(s, choices) if choices else None
    if named is not None:
        return Reading(named, "explicit")
    # "(X) The answer is B.": the placeholder, then a statement read by the usual rules.
    for candidate in candidates(s):
        letter = _choice_in(candidate, choices)
        if letter is not None:
            return Reading(letter, "explicit")
    # "(X) <an explanation> ... (C)": the choice that ends the line.
    stated = [m for m in _PAREN_CHOICE.finditer(s) if m.group(1) in letters]
    if stated and len(s[stated[-1].end():]) <= _CHOICE_TAIL:
        return Reading(stated[-1].group(1), "explicit")
    return Reading(None, "ambiguous", f"names no option: {s[:60]}")


def read_choice(text: str, finish_reason: str | None, choices: dict[str, str]) -> Reading:
    """The choice a reply names, by the rules of ``read_answer`` for a multiple-choice reference."""
    last_line = text.rstrip().rsplit("\n", 1)[-1]
    marks = [m for m in _PLACEHOLDER.finditer(last_line) if _PLACEHOLDER_LEAD.fullmatch(last_line[:m.start()])]
    if marks:
        # The final line fills in the template's "(X)": that is the reply's last word, whatever it said before.
        reading = _after_placeholder(last_line[marks[-1].end():], choices)
        if reading is not None:
            return reading
    for candidate in candidates(text):
        candidate = _PLACEHOLDER.sub(" ", candidate)
        if ambiguous(candidate):
            return Reading(None, "ambiguous", f"names alternatives: {clean(candidate)[:60]}")
        letter = _choice_in(candidate, choices)
        if letter is not None:
            return Reading(letter, "explicit")
    letters = set(choices) or {chr(c) for c in range(ord("A"), ord("K"))}
    if ambiguous(last_line) and len(_PAREN_CHOICE.findall(last_line)) >= 2:
        return Reading(None, "ambiguous", f"names alternatives: {clean(last_line)[:60]}")
    # A last line that is a choice ("D) 45", "(D)", "D") states it; the form Du et al. ask for, "(X)" at the
    # end of the response, too.
    line = clean(last_line).replace("**", "").strip()
    lead = _LEADING_CHOICE.match(line)
    if lead and lead.group(1) in letters and _option_key(line[lead.end():]) in ("", _option_key(choices.get(lead.group(1), ""))):
        return Reading(lead.group(1), "explicit")
    stated = [m for m in _PAREN_CHOICE.finditer(text) if m.group(1) in letters]
    tail = text.rstrip()[stated[-1].end():] if stated else ""
    if stated and len(tail) <= _CHOICE_TAIL and not SENTENCE_END.search(tail.rstrip(".")):
        return Reading(stated[-1].group(1), "explicit")
    if finish_reason == "length":
        return Reading(None, "cut_off", "hit the token limit before stating an answer")
    if finish_reason is None and ends_mid_sentence(text) and not _LEADING_CHOICE.match(line):
        return Reading(None, "cut_off", "ends mid-sentence before stating an answer")
    if stated:  # an option named earlier in a finished reply: the last one, marked as not stated at the end
        return Reading(stated[-1].group(1), "implicit")
    return Reading(None, "cut_off" if finish_reason == "length" else "none")
