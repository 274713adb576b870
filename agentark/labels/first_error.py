"""First errors found without a model: arithmetic claims checked, and where a wrong message leaves every correct path.

Two rules, each a pure function of numbers in text, each giving its reason with the label (the ``note`` column,
shown on the Label page's card):

- ``arithmetic_reason`` checks a step's written calculations: ``a op b = c``, chains (``20 + 23 + 20 = 63``,
  ``50 - 10 = 5 * 8 = 40``), percentages (``25% of 80 = 20``), fractions (``3/4 of 20 = 15``), ``×``/``÷``/LaTeX
  operators and unit words between numbers (``5 hours * 60 minutes/hour = 300 minutes``). A stated result with
  decimals is right within its last digit (``82.33`` for 82.333); an integer that is the floor or ceiling of a
  fraction is left alone (the step may round on purpose). The ``auto:arith`` labeler
  (``agentark.labels.auto_labelers``) marks -1 on every claim step with a wrong calculation ("12 × 3 = 38, but
  12 × 3 is 36").
- ``off_path`` finds the first step of a wrong message that introduces a value no correct path has: not given
  by the question (digits, number words, percentages), not in the reference solution, not in any message of a
  correct agent on the same problem (any round), not a small count or a unit constant (unless stated as a
  calculation's result); or one that puts a number the question gives on a thing the question numbers otherwise
  (``misread``: "Each carton has 4 servings" when it says 15 servings and $4.00 per carton). ``auto:outcome``
  uses it for its negatives. When every value stays on a correct path, a step that retracts a correct answer ("However,
  this answer is not correct") or the step that states the wrong final answer is marked, and the reason says so;
  with no correct path at all (no reference solution, no correct agent) it abstains.

Design decision: precision before coverage. Anything the parser cannot read as a calculation is skipped, never
guessed, and a number the question gives is never an error in itself.
"""
from __future__ import annotations

import ast
import math
import operator
import re

OFF_PATH_CONFIDENCE = 0.75
FINAL_ONLY_CONFIDENCE = 0.6
# Small counts and unit constants a correct solution may use without the question or the reference writing them.
CONSTANTS = frozenset({0, 1, 2, 7, 12, 24, 52, 60, 100, 365, 1000, 0.5})
CONSTANTS_AS_FLOATS = frozenset(float(c) for c in CONSTANTS)
WORD_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12,
    "half": 0.5, "twice": 2, "double": 2, "triple": 3, "thrice": 3, "quarter": 0.25, "third": 1 / 3,
}
_LEAD = re.compile(r"^\s*(?:#{1,6}\s*)?(?:\*\*)?(?:step\s*\d+\s*[:.)]?|\d+[.)](?=\s))(?:\*\*)?", re.IGNORECASE)
_VALUE = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:\s*%)?")
_RETRACT = re.compile(r"\b(not correct|incorrect|is wrong|was wrong|mistake|doesn't make sense|does not make sense|"
                      r"let me re-?(?:calculate|evaluate|consider)|re-?evaluate)\b", re.IGNORECASE)
CRITIQUE = re.compile(
    r"\b(wrong|incorrect|mistake|error|miscalculat\w*|should be|should have been|not correct|isn't right|"
    r"is not right|flawed|off by|instead of|rather than)\b", re.IGNORECASE)
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow}
_EXPR_TAIL = re.compile(r"[\d.]+(?:\s*[-+*/^]\s*\(*\s*[\d.]+\s*\)*)+\s*$|\(+[\d.\s+\-*/^()]*\)\s*$")
_EXPR_HEAD = re.compile(r"^\s*(-?[\d.]+)(\s*[-+*/^]\s*\(*\s*[\d.]+\s*\)*)*")


def _normal(text: str) -> str:
    """Calculation text with one spelling of each operator, no currency, thousands separators or unit words."""
    t = text.replace("\\times", "*").replace("\\cdot", "*").replace("\\div", "/")
    t = re.sub(r"\\frac\{([^{}]+)\}\{([^{}]+)\}", r"((\1)/(\2))", t)
    t = re.sub(r"\\[()\[\]]|\\text\{[^{}]*\}|[{}]", " ", t)
    t = t.translate(str.maketrans({"×": "*", "✕": "*", "·": "*", "÷": "/", "−": "-", "–": "-", "$": " ",
                                   "€": " ", "£": " "}))
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)
    t = re.sub(r"(?<=\d)\s*[xX]\s*(?=\(?\s*\d)", " * ", t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*%\s*of\s+", r"(\1/100) * ", t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*%", r"(\1/100)", t)
    t = re.sub(r"(\d+\s*/\s*\d+)\s+of\s+", r"(\1) * ", t)
    t = re.sub(r"(?<=[A-Za-z])\s*/\s*[A-Za-z]+", "", t)  # "minutes/hour": a unit ratio, not a division
    t = re.sub(r"(\d)\s+[A-Za-z]+(?=\s*(?:[-+*/^)=]))", r"\1", t)
    return t


def _eval(expr: str) -> float | None:
    try:
        node = ast.parse(expr.replace("^", "**").strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None

    def go(n: ast.AST) -> float:
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return float(n.value)
        if isinstance(n, ast.BinOp) and type(n.op) in _OPS:
            left, right = go(n.left), go(n.right)
            if isinstance(n.op, ast.Pow) and abs(right) > 12:
                raise ValueError("power too large")
            return _OPS[type(n.op)](left, right)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -go(n.operand)
        raise ValueError("not arithmetic")

    try:
        return go(node)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def _has_operator(expr: str) -> bool:
    return bool(re.search(r"[\d)]\s*[-+*/^]\s*[\d(]", expr))


def _agrees(stated: str, true: float) -> bool | None:
    """Whether a stated result matches the true value: True, False, or None when it may round on purpose."""
    value = float(stated)
    decimals = len(stated.split(".")[1]) if "." in stated else 0
    if math.isclose(value, true, rel_tol=1e-9, abs_tol=1e-9):
        return True
    if decimals:
        return abs(value - true) < 10 ** -decimals
    if value in (math.floor(true), math.ceil(true)) and not float(true).is_integer():
        return None
    return False


def _fmt(value: float) -> str:
    return str(int(round(value))) if float(value).is_integer() or abs(value - round(value)) < 1e-9 \
        else f"{value:.4f}".rstrip("0").rstrip(".")


def _pretty(expr: str) -> str:
    return re.sub(r"\s+", " ", expr.replace("*", " × ").replace("/", " ÷ ")).strip()


def affirmed(text: str) -> str:
    """The text without its sentences that call something wrong: a critique quotes the wrong claim it rejects
    ("my 3 * 4 = 14 was a mistake"), which is no claim of its own."""
    return " ".join(s for s in re.split(r"(?<=[.!?])\s+(?=\D)|\n+", text or "") if not CRITIQUE.search(s))


def arithmetic_reason(text: str) -> str | None:
    """Why a step's first wrong calculation is wrong ("12 × 3 = 38, but 12 × 3 is 36"), or None when every
    calculation it writes checks out or none can be read. Sentences that call something wrong are skipped."""
    parts = _normal(affirmed(_LEAD.sub("", text or "", count=1))).split("=")
    for left, right in zip(parts, parts[1:]):
        left = re.split(r"[:;,?!]|\.(?!\d)|\b[A-Za-z]+\b(?!\s*[-+*/^])", left)[-1]
        tail = _EXPR_TAIL.search(left)
        if not tail or not _has_operator(tail.group(0)):
            continue
        start = tail.start()
        while left[start:].count(")") > left[start:].count("(") and start > 0 and left[start - 1] in "( ":
            start -= 1  # "(25/100) * 80": the tail began inside a parenthesis
        expr = left[start:].strip()
        while expr.count("(") > expr.count(")") and expr.startswith("("):
            expr = expr[1:].strip()
        true = _eval(expr)
        head = _EXPR_HEAD.match(right)
        if true is None or not head:
            continue
        stated = head.group(1).rstrip(".")
        verdict = _agrees(stated, true)
        if verdict is not False:
            continue
        right_value = _eval(head.group(0)) if _has_operator(head.group(0)) else None
        if right_value is not None and math.isclose(right_value, true, rel_tol=1e-9, abs_tol=1e-9):
            continue
        shown = _pretty(expr)
        stated_shown = _pretty(head.group(0).strip()) if right_value is not None else stated
        return f"{shown} = {stated_shown}, but {shown} is {_fmt(true)}"
    return None


def values(text: str) -> list[tuple[str, float, bool]]:
    """The numbers a text states, in order: (as written, value, written as a percentage)."""
    return [(raw, v, percent) for raw, v, percent, _ in _values(text)]


def _values(text: str) -> list[tuple[str, float, bool, bool]]:
    """As ``values``, with whether each number is stated as a calculation's result (right after ``=``)."""
    body = _LEAD.sub("", text or "", count=1)
    body = re.sub(r"\b(?:agent|step|round)[ _]?\d+", " ", body, flags=re.IGNORECASE)
    body = re.sub(r"(?<=\d),(?=\d{3}\b)", "", body).replace("$", " ")
    out = []
    for m in _VALUE.finditer(body):
        raw = m.group(0).strip()
        percent = raw.endswith("%")
        number = raw.rstrip("%").strip().replace(",", "")
        try:
            value = abs(float(number))
        except ValueError:
            continue
        out.append((raw, value, percent, bool(re.search(r"=\s*$", body[:m.start()]))))
    return out


_NOUN_AFTER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?|" + "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
                         + r")\b\s*([a-z]{3,})", re.IGNORECASE)
_NOT_NOUNS = frozenset("""more less times each per of and the for are was were with than from into that this what
how many much who has have had his her their its more most other another same only just also then more
""".split())


def _singular(word: str) -> str:
    word = word.lower()
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _counted(text: str, words: bool) -> list[tuple[float, str, int]]:
    """(value, noun, position) for each number followed by a noun ("15 servings", "three cups")."""
    out = []
    for m in _NOUN_AFTER.finditer((text or "").replace("$", "").replace(",", "")):
        token, noun = m.group(1), _singular(m.group(2))
        if noun in _NOT_NOUNS:
            continue
        if token[0].isdigit():
            out.append((float(token), noun, m.start()))
        elif words and token.lower() in WORD_NUMBERS:
            out.append((float(WORD_NUMBERS[token.lower()]), noun, m.start()))
    return out


def _context(question: str, value: float) -> str:
    """Where the question gives a value: the words around its first occurrence ("“$4.00 per carton”")."""
    plain = (question or "").replace(",", "")
    for m in _VALUE.finditer(plain.replace("$", " ")):
        try:
            found = math.isclose(float(m.group(0).rstrip("%").strip()), value)
        except ValueError:
            continue
        if found:
            before = re.search(r"(?:\S+\s+){0,2}\S*$", plain[:m.start()]).group(0)
            after = " ".join(re.split(r"[.?!;]\s", plain[m.end():] + " ")[0].split()[:3])
            return "“" + f"{before}{m.group(0).strip()} {after}".strip(" .,;:?") + "”"
    return "something else"


def counted_pairs(texts: list[str]) -> set[tuple[float, str]]:
    """The (number, thing) pairs texts state ("60 servings"): a correct path's pairs are no misread."""
    return {(v, noun) for t in texts for v, noun, _ in _counted(affirmed(t), False)}


def misread(text: str, question: str, allowed: set[tuple[float, str]] = frozenset()) -> str | None:
    """A number the question gives, put on a thing the question gives another number for ("Each carton has 4
    servings" when the question says 15 servings and $4.00 per carton): why, or None. A calculation's result is
    never taken for a misread, nor a pair a correct path states (``allowed``)."""
    given: dict[str, set[float]] = {}
    for v, noun, _ in _counted(question, True):
        given.setdefault(noun, set()).add(v)
    values_given = question_values(question)
    body = _LEAD.sub("", text or "", count=1).replace("$", "").replace(",", "")
    for v, noun, at in _counted(body, False):
        if re.search(r"[=*/+×÷-]\s*$", body[:at]) or re.match(r"\s*[a-z]+\s*[-+*/×÷=]", body[at + len(_fmt(v)):]):
            continue
        if v in values_given and noun in given and v not in given[noun] and (v, noun) not in allowed:
            return (f"the question gives {_fmt(v)} for {_context(question, v)}; its {noun}s number "
                    f"{' or '.join(_fmt(x) for x in sorted(given[noun]))}")
    return None


def question_values(question: str) -> set[float]:
    """Every value the question gives: its numbers (a percentage also as a fraction) and its number words."""
    found = set()
    for _, v, percent in values(question):
        found.add(v)
        if percent:
            found.add(v / 100)
    for word in re.findall(r"[a-z]+", (question or "").lower()):
        if word in WORD_NUMBERS:
            found.add(float(WORD_NUMBERS[word]))
        elif word.endswith("s") and word[:-1] in WORD_NUMBERS:
            found.add(float(WORD_NUMBERS[word[:-1]]))
    return found


def on_path(value: float, percent: bool, known: set[float], written: str = "") -> bool:
    """Whether a value (or, for a percentage, its fraction) is one of ``known``, within the last digit written."""
    decimals = len(written.rstrip("%").split(".")[1]) if "." in written else 0
    tolerance = 10 ** -decimals if decimals else 1e-9
    candidates = [value, value / 100] if percent else [value, value * 100]
    return any(abs(c - k) < tolerance or math.isclose(c, k, rel_tol=1e-9) for c in candidates for k in known)


def correct_paths(question: str, solution: str, reference_answer: str, correct_texts: list[str]) -> set[float]:
    """The values of every correct path: the question's, the reference solution's, the correct agents' (the
    small constants of ``CONSTANTS`` are added where a value is used, not where it is a result)."""
    known = question_values(question)
    for text in [solution, str(reference_answer or ""), *map(affirmed, correct_texts)]:
        known |= {v for _, v, _ in values(text)}
        known |= {v / 100 for _, v, p in values(text) if p}
    return known


def off_path(step_texts: list[str], known: set[float], reference_answer: str,
             answer: str | None = None, question: str = "",
             allowed: set[tuple[float, str]] = frozenset()) -> tuple[int, str, float] | None:
    """The first step of a wrong message that leaves every correct path, and why: the first that introduces a
    value outside ``known`` (a constant stated as a result counts), or puts a number the question gives on
    the wrong thing (``misread``); else one that retracts the reference answer after reaching it; else the step that
    states the wrong final answer (``answer``: the message's parsed answer), said so. Returns (step
    index, reason, confidence); None when no step can be named (the final answer is stated nowhere)."""
    reference = _number(reference_answer)
    final = _number(answer)
    reached = False
    for i, text in enumerate(step_texts):
        found = values(text)
        # A sentence that calls something wrong quotes the claim it rejects: no value of its own.
        own = affirmed(_LEAD.sub("", text, count=1))
        if question and (why := misread(own, question, allowed)):
            return i, why, OFF_PATH_CONFIDENCE
        for raw, v, percent, result in _values(own):
            # A small constant may be used freely, but stated as a calculation's result it is a claim like any.
            if not on_path(v, percent, known if result else known | CONSTANTS_AS_FLOATS, raw):
                return i, (f"{raw.rstrip('.,;:')} appears in no correct solution, and the question does not give "
                           "it"), OFF_PATH_CONFIDENCE
        if reached and _RETRACT.search(text):
            return i, (f"this step rejects {_fmt(reference)}, which an earlier step reached and is the right "
                       "answer"), OFF_PATH_CONFIDENCE
        if reference is not None and any(math.isclose(v, reference) for _, v, _ in found):
            reached = True
    stating = [i for i, text in enumerate(step_texts)
               if final is not None and any(math.isclose(v, final) for _, v, _ in values(text))]
    if not stating:
        return None
    note = (f"every value before it is on a correct path; the final answer {_fmt(final)} is wrong"
            + (f" (the reference is {_fmt(reference)})" if reference is not None else ""))
    return stating[-1], note, FINAL_ONLY_CONFIDENCE


def _number(value) -> float | None:
    try:
        return float(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        return None
