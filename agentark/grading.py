"""Answer extraction and equivalence for math answers.

Model output is never evaluated as code: numbers are parsed into ``fractions.Fraction`` (exact for
integers, decimals, percentages and simple fractions), and anything else is compared as normalized text.
"""
from __future__ import annotations

import re
from fractions import Fraction

_NUM = r"[-−]?\s*(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-−]?\.\d+"
_NUMBER_RE = re.compile(_NUM)
# "answer" counts only when followed by "is", ":" or "=": "the part of the answer that is ..." is no answer.
_PHRASES = re.compile(r"answer\s*(?:is\s*[:=]?|[:=])\s*", re.IGNORECASE)


def _last_boxed(text: str) -> str | None:
    starts = [m.end() for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text)]
    if not starts:
        return None
    start = starts[-1]
    depth, i = 1, start
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start : i - 1] if depth == 0 else text[start:]


def _leading_answer(fragment: str) -> str | None:
    """The answer at the start of a fragment: a number (with its fraction/percent) or a short expression."""
    fragment = _strip_markup(fragment).strip()
    if not fragment:
        return None
    frac = re.match(r"[-−]?\s*\\[dt]?frac\s*\{[^{}]*\}\s*\{[^{}]*\}", fragment)
    if frac:
        return frac.group(0)
    m = re.match(r"[$€£]?\s*(" + _NUM + r")(?:\s*/\s*(\d+))?\s*(%|\\%| percent)?", fragment)
    if m and m.group(1):
        value = m.group(1) + (f"/{m.group(2)}" if m.group(2) else "") + ("%" if m.group(3) else "")
        return value
    # Non-numeric answers (a letter choice, an expression): up to the end of the line or sentence.
    word = re.match(r"([^\n.;,]{1,40})", fragment)
    return word.group(1).strip() if word else None


def _strip_markup(text: str) -> str:
    text = text.replace("**", "").replace("\\$", "$").replace("\\!", "").replace("\\,", "")
    text = re.sub(r"\\text\s*\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\(?:left|right)\s*", "", text)
    text = text.strip().strip("$").strip()
    return text


def extract_answer(text: str) -> str | None:
    """The final answer stated in free text, or None when there is none.

    Priority: the last ``\\boxed{}``, then ``#### X``, then the last "the answer is X" / "Final Answer: X" /
    "Answer: X", then the last number anywhere.
    """
    if not text:
        return None
    boxed = _last_boxed(text)
    if boxed is not None:
        return _strip_markup(boxed) or None
    hashes = text.rsplit("####", 1)
    if len(hashes) == 2:
        found = _leading_answer(hashes[1])
        if found:
            return _clean(found)
    phrases = list(_PHRASES.finditer(text))
    for m in reversed(phrases):
        found = _leading_answer(text[m.end() :])
        if found and _NUMBER_RE.search(found):
            return _clean(found)
    for m in reversed(phrases):
        found = _leading_answer(text[m.end() :])
        if found:
            return _clean(found)
    numbers = list(re.finditer(r"(" + _NUM + r")(?:\s*/\s*(\d+))?(\s*%)?", _strip_markup(text)))
    if numbers:
        m = numbers[-1]
        return _clean(m.group(1) + (f"/{m.group(2)}" if m.group(2) else "") + ("%" if m.group(3) else ""))
    return None


def _clean(answer: str) -> str:
    answer = answer.replace("−", "-").strip().rstrip(".").strip()
    answer = re.sub(r"^-\s+", "-", answer)
    return answer.lstrip("$€£").strip()


def to_number(answer: str | None) -> Fraction | None:
    """Parse an answer as an exact rational, or None when it is not a plain number."""
    if answer is None:
        return None
    s = _strip_markup(str(answer)).replace("−", "-").replace(" ", "").lstrip("$€£").rstrip(".")
    s = s.replace("$", "")
    percent = s.endswith("%") or s.endswith("\\%")
    s = s.rstrip("%").rstrip("\\")
    m = re.fullmatch(r"(-?)\\[dt]?frac\{(-?\d+)\}\{(-?\d+)\}", s)
    if m:
        value = Fraction(int(m.group(2)), int(m.group(3))) if int(m.group(3)) else None
        if value is None:
            return None
        return -value if m.group(1) else value
    s = re.sub(r"(?<=\d),(?=\d{3}(?:\D|$))", "", s)
    try:
        if re.fullmatch(r"-?\d+/\d+", s):
            num, den = s.split("/")
            return Fraction(int(num), int(den)) if int(den) else None
        if re.fullmatch(r"-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?", s, re.IGNORECASE):
            value = Fraction(s)
            return value  # percent keeps its number: "45%" compares equal to 45
    except (ValueError, ZeroDivisionError):
        return None
    return None


def normalize_answer(answer: str | None) -> str | None:
    """A canonical form: exact rationals as "72" or "7/2"; other answers as compact lower-case text."""
    if answer is None:
        return None
    number = to_number(answer)
    if number is not None:
        return str(number.numerator) if number.denominator == 1 else f"{number.numerator}/{number.denominator}"
    text = _strip_markup(str(answer)).lower()
    text = re.sub(r"\\[,;:! ]|\s+", "", text)
    return text or None


def answers_equal(a: str | None, b: str | None, rel_tol: float = 1e-6) -> bool:
    """Numeric equivalence (exact, or within ``rel_tol`` for long decimals), else equal normalized text."""
    if a is None or b is None:
        return False
    x, y = to_number(a), to_number(b)
    if x is not None and y is not None:
        if x == y:
            return True
        return abs(float(x) - float(y)) <= rel_tol * max(abs(float(x)), abs(float(y)))
    na, nb = normalize_answer(a), normalize_answer(b)
    return na is not None and na == nb


def is_correct(answer: str | None, reference: str) -> bool:
    return answers_equal(answer, reference)


def majority_vote(answers: list[str | None]) -> tuple[str | None, float]:
    """The most common answer up to equivalence (first seen wins a tie) and its share of all answers."""
    groups: list[list[str]] = []
    for a in answers:
        if a is None:
            continue
        for g in groups:
            if answers_equal(g[0], a):
                g.append(a)
                break
        else:
            groups.append([a])
    if not groups:
        return None, 0.0
    best = max(groups, key=len)  # max keeps the first of equal sizes
    return best[0], len(best) / len(answers)


def gsm8k_final_answer(solution: str) -> str:
    return solution.rsplit("####", 1)[-1].strip().replace(",", "")


def intermediate_results(solution: str) -> list[str]:
    """Results of a GSM8K solution's calculator annotations, ``<<48/2=24>>`` -> "24", in order."""
    return [m.group(1).strip() for m in re.finditer(r"<<[^<>=]*=([^<>]*)>>", solution)]
