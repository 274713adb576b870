"""Answer extraction and equivalence for math answers.

A debate message is free text; grading needs the one answer it commits to and a way to tell whether two
answers mean the same thing. ``extract_answer`` finds the answer (last ``\\boxed{}``, then ``####``, then
"The answer is ...", then the last number), ``normalize_answer`` gives it a canonical form, and
``answers_equal`` / ``is_correct`` / ``majority_vote`` compare and group answers with that form, asking
Hugging Face's math-verify (agentark.symbolic) only about mathematics that form cannot decide.

``read_answer`` is what grading a stored message uses: it also says how the answer was found (its *kind*).
A message cut off at the token limit has an answer only if it states one explicitly (``\\boxed{}``,
``####``, "The answer is"); a final that names two values ("14 or 15") is ambiguous and has none; and when
the reference is a choice letter, the answer is read as a choice (a letter, "(B)", "Answer: C", or the
option's text), never as the last number of the text.

Design decision: model output is never ``eval()``-ed or otherwise executed. Numbers are recognised with
regular expressions and turned into exact rationals with :class:`fractions.Fraction` (which parses decimal
strings exactly, like :class:`decimal.Decimal`), so "0.5", "1/2" and "\\frac{1}{2}" compare equal without
floating-point error and without running anything a model wrote.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "ANSWER_KINDS",
    "Reading",
    "Vote",
    "answer_choices",
    "answers_equal",
    "choice_letter",
    "choice_options",
    "explicit_answer",
    "extract_answer",
    "gradable",
    "gsm8k_final_answer",
    "intermediate_results",
    "is_correct",
    "majority_vote",
    "normalize_answer",
    "read_answer",
    "reference_solution",
    "vote",
]

# --------------------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------------------

# One number as it appears in prose or LaTeX-stripped text. The sign only counts when it is not preceded by
# something that makes it a binary minus ("16-3" is a subtraction, "x=-3" is a negative number). Digits may
# not start right after a letter so "H2O" or "x2" does not produce a number.
_NUMBER = re.compile(
    r"""
    (?P<sign>(?<![\w)\]}])[-+])?
    (?:[$€£¥₹]\s?)?
    (?<![A-Za-z\d])
    (?P<num>(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|(?<!\d)\.\d+)
    (?:/(?P<den>\d+(?:\.\d+)?))?
    (?P<pct>\s?%)?
    """,
    re.VERBOSE,
)
# The canonical token text produced by _token(): what normalize/answers_equal accept as "a number".
_TOKEN = re.compile(r"(?P<sign>[-+]?)(?P<num>\d+(?:\.\d+)?|\.\d+)(?:/(?P<den>\d+(?:\.\d+)?))?(?P<pct>%?)")
# A word of two or more letters that is not a LaTeX command ("sqrt" in "\sqrt" does not count): its presence
# means the candidate is prose ("she has 72 apples"), not an expression ("x+1").
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_DECIMAL_PART = re.compile(r"\.(\d+)")
# Something only mathematics has: a digit, a LaTeX command, an operator, a bracket.
_MATH_SIGN = re.compile(r"[\d\\^_{}()\[\]+\-*/=<>|]")

# A decimal with at least this many fractional digits is treated as an approximation (0.3333333 for 1/3), and
# only then does answers_equal fall back to rel_tol; exact answers such as "1000000" vs "1000001" must never be
# "close enough".
_APPROX_DIGITS = 3


def _token(match: re.Match[str]) -> str:
    """Canonical text of a number match: sign, digits without separators or currency, "/den", "%"."""
    sign = "-" if match.group("sign") == "-" else ""
    text = sign + match.group("num").replace(",", "")
    if match.group("den"):
        text += "/" + match.group("den")
    if match.group("pct"):
        text += "%"
    return text


def _parse_token(text: str) -> tuple[Fraction, bool] | None:
    """(exact value, is-approximation) of a canonical number token; None if the text is not one number."""
    m = _TOKEN.fullmatch(text)
    if not m:
        return None
    value = Fraction(m.group("num"))
    if m.group("den"):
        den = Fraction(m.group("den"))
        if den == 0:
            return None
        value /= den
    if m.group("sign") == "-":
        value = -value
    # Percentages compare as their number: "45%" grades equal to a reference of 45.
    approx = value.denominator != 1 and any(len(d) >= _APPROX_DIGITS for d in _DECIMAL_PART.findall(text))
    return value, approx


def _format_fraction(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


# --------------------------------------------------------------------------------------------------------
# Cleaning LaTeX and markdown
# --------------------------------------------------------------------------------------------------------

_TEXT_WRAPPER = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_FRAC_SHORT = re.compile(r"\\[dt]?frac\s*(\d)\s*(\d)")
_MIXED_FRAC = re.compile(r"(?<![\d.])(\d+)\s*\\[dt]?frac\s*\{(\d+)\}\s*\{(\d+)\}")
_SIMPLE_NUMBER = re.compile(r"-?[\d.,]+")


def _frac_repl(m: re.Match[str]) -> str:
    num, den = m.group(1).strip(), m.group(2).strip()
    if _SIMPLE_NUMBER.fullmatch(num) and _SIMPLE_NUMBER.fullmatch(den):
        return f"{num}/{den}"
    # Nested numeric fractions (\frac{\frac{1}{2}}{2}) arrive here with "1/2" inside: compute them exactly.
    n, d = _NUMBER.fullmatch(num), _NUMBER.fullmatch(den)
    pn, pd = (_parse_token(_token(n)) if n else None), (_parse_token(_token(d)) if d else None)
    if pn is not None and pd is not None and pd[0] != 0:
        return _format_fraction(pn[0] / pd[0])
    # Parentheses keep the meaning of \frac{a+b}{c} once it is flattened to text.
    return f"({num})/({den})"


def _mixed_repl(m: re.Match[str]) -> str:
    # "3\frac{1}{2}" is three and a half, not "31/2"; a sign in front applies to the whole mixed number.
    whole, num, den = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if den == 0:
        return m.group(0)
    return _format_fraction(whole + Fraction(num, den))


def _clean(text: str) -> str:
    """Strip markdown bold, LaTeX wrappers/spacing, currency dollars and unicode minus; flatten fractions."""
    s = text.replace("\u2212", "-").replace("\uff0d", "-").replace("\u00a0", " ")
    s = re.sub(r"(?<=\d)[\u2009\u202f](?=\d{3})", "", s)  # thin space as a thousands separator
    s = s.replace("**", "")
    s = s.replace("\\$", "$").replace("\\%", "%").replace("{,}", ",")
    s = re.sub(r"(?<=\d)\\[,!](?=\d{3}(?!\d))", "", s)  # "1\,234" is LaTeX's thousands spacing
    s = re.sub(r"\\(?:left|right)\b", "", s)
    s = re.sub(r"\\(?:displaystyle|quad|qquad)\b", " ", s)
    s = re.sub(r"\\[,;:! ]", " ", s).replace("~", " ")
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|°", "", s)
    prev = None
    while prev != s:  # innermost first, so nested \text{\frac{..}{..}} unwraps fully
        prev = s
        s = _TEXT_WRAPPER.sub(lambda m: m.group(1), s)
        s = _MIXED_FRAC.sub(_mixed_repl, s)
        s = _FRAC.sub(_frac_repl, s)
        s = _FRAC_SHORT.sub(r"\1/\2", s)
    s = re.sub(r"\\[()\[\]]", " ", s)  # \( \) \[ \] math delimiters
    s = s.replace("$", "")
    return s.strip()


# --------------------------------------------------------------------------------------------------------
# From a candidate span to an answer
# --------------------------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"\n|\.(?=\s)")
_WRAPPED = re.compile(r"\(([^()]*)\)")


def _number_ends_here(rest: str) -> bool:
    """Whether what follows a leading number leaves it a plain number ("72 apples") not an expression ("2x")."""
    if not rest.strip():
        return True
    if rest[0] in ",.;:!?)":
        return True
    # Units or words after a space ("72 dollars per week"); an operator or "\pi" makes it an expression.
    return rest[0].isspace() and rest.lstrip()[0].isalpha()


def _finish(candidate: str) -> str | None:
    """The answer a candidate span commits to: a canonical number token, a short non-numeric answer, or None."""
    s = _SENTENCE_END.split(_clean(candidate), 1)[0]
    s = s.strip().strip("*").strip().rstrip(".,;:").strip()
    if not s:
        return None
    wrapped = _WRAPPED.fullmatch(s)
    if wrapped and (_NUMBER.fullmatch(wrapped.group(1).strip()) or re.fullmatch(r"[A-Za-z]", wrapped.group(1).strip())):
        s = wrapped.group(1).strip()  # "(1/2)" from \left(\frac{1}{2}\right), "(B)" for a choice
    m = _NUMBER.match(s)
    if m and _number_ends_here(s[m.end():]):
        return _token(m)
    if "=" in s:
        # "8*9=72" or "x = 5": the answer is what the working finally equals.
        rhs = s.rsplit("=", 1)[1].strip()
        if rhs:
            return _finish(rhs)
    if _WORD.search(s):
        # Prose around the answer ("approximately 72", "she has $18 left"): its first number is the answer;
        # several words without a number ("as follows:") are no answer, so the caller keeps looking, while a
        # single token ("Tuesday", "yes") is a non-numeric answer in its own right.
        m = _NUMBER.search(s)
        if m:
            return _token(m)
        return s if " " not in s else None
    return s  # a non-numeric expression or choice such as "x+1", "\sqrt{2}", "B"


# --------------------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------------------

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
    return read_answer(text, None).answer


def explicit_answer(text: str) -> str | None:
    """The answer a text explicitly commits to (a ``\\boxed{}``, ``#### X`` or "The answer is X"), without
    falling back to the last number: a reply cut off mid-sentence ("Step 4", "18 pancakes") has none."""
    answer, _ = _explicit(text)
    return answer


# Two values offered as the answer: "14 or 15", "(B) or (C)", "14 and/or 15".
_ALTERNATIVE = re.compile(r"\s(?:or|and/or)\s", re.IGNORECASE)


def _ambiguous(candidate: str) -> bool:
    """Whether a candidate span offers alternatives ("14 or 15") rather than one answer: two different
    values joined by "or" in its first sentence. "5 (or 5.0)" names one value and is not ambiguous."""
    s = _SENTENCE_END.split(_clean(candidate), 1)[0]
    parts = _ALTERNATIVE.split(s)
    if len(parts) < 2:
        return False
    values = set()
    for part in parts:
        part = part.strip().strip("().,;:*").strip()
        number = _NUMBER.search(part)
        parsed = _parse_token(_token(number)) if number else None
        if parsed is not None:
            values.add(_format_fraction(parsed[0]))
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


def _candidates(text: str) -> list[str]:
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
    for candidate in _candidates(text):
        if _ambiguous(candidate):
            return None, True
        answer = _finish(candidate)
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


def read_answer(text: str | None, finish_reason: str | None = "stop",
                choices: dict[str, str] | None = None) -> Reading:
    """The answer a message gives, by the rule that grades stored messages.

    ``finish_reason`` "length" (cut off at the token limit) allows explicit answers only; "stop" and None
    (a file that does not say why a message ended) fall back to the last number, marked ``implicit``.
    ``choices`` (the options of a multiple-choice question, ``choice_options``; ``{}`` when the reference
    is a letter but the options are not listed) reads the answer as a choice letter instead.
    """
    if not text:
        return Reading(None, "none")
    if choices is not None:
        return _read_choice(text, finish_reason, choices)
    answer, ambiguous = _explicit(text)
    if ambiguous:
        return Reading(None, "ambiguous")
    if answer is not None:
        return Reading(answer, "explicit")
    if finish_reason == "length":
        return Reading(None, "cut_off")
    numbers = list(_NUMBER.finditer(_clean(text)))
    return Reading(_token(numbers[-1]), "implicit") if numbers else Reading(None, "none")


# --------------------------------------------------------------------------------------------------------
# Multiple choice
# --------------------------------------------------------------------------------------------------------

_CHOICE_REFERENCE = re.compile(r"(?:(?i:answer)\s*(?:is)?\s*[:：]?\s*)?(?:\(([A-Ja-j])\)|([A-J])[).]?)")
# An option marker in a question: "A) 45", "(B) 12", "C. 7", "D: 3", at a line start or after a separator.
_OPTION_MARKER = re.compile(r"(?:^|(?<=[\s,;:]))\(?([A-J])[).:]\s+", re.MULTILINE)
# Where the last option's text ends: a line break, a sentence end, or Du et al.'s "Explain your answer".
_OPTION_END = re.compile(r"\n|(?<=[.?!])\s+(?=[A-Z])|\s+(?=Explain\b)")
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
    return re.sub(r"[\s.,;:!?*()]+", " ", _clean(text)).strip().lower()


def _choice_in(span: str, choices: dict[str, str]) -> str | None:
    """The choice an answer span names: a leading letter ("B", "(B)", "B) 45") or an option's text."""
    letters = set(choices) or {chr(c) for c in range(ord("A"), ord("K"))}
    s = _clean(span).replace("**", "").strip()
    m = _LEADING_CHOICE.match(s)
    if m and m.group(1) in letters:
        return m.group(1)
    paren = _PAREN_CHOICE.search(_SENTENCE_END.split(s, 1)[0])
    if paren and paren.group(1) in letters:
        return paren.group(1)
    stated = _option_key(_SENTENCE_END.split(s, 1)[0])
    if not stated:
        return None
    hits = [k for k, v in choices.items() if _option_key(v) == stated]
    if not hits:
        value = to_number(stated)
        hits = [k for k, v in choices.items() if value is not None and to_number(v) == value]
    return hits[0] if len(hits) == 1 else None


def _read_choice(text: str, finish_reason: str | None, choices: dict[str, str]) -> Reading:
    for candidate in _candidates(text):
        if _ambiguous(candidate):
            return Reading(None, "ambiguous")
        letter = _choice_in(candidate, choices)
        if letter is not None:
            return Reading(letter, "explicit")
    letters = set(choices) or {chr(c) for c in range(ord("A"), ord("K"))}
    last_line = text.rstrip().rsplit("\n", 1)[-1]
    if _ambiguous(last_line) and len(_PAREN_CHOICE.findall(last_line)) >= 2:
        return Reading(None, "ambiguous")
    # A last line that is a choice ("D) 45", "(D)", "D") states it; the form Du et al. ask for, "(X)" at the
    # end of the response, too.
    line = _clean(last_line).replace("**", "").strip()
    lead = _LEADING_CHOICE.match(line)
    if lead and lead.group(1) in letters and _option_key(line[lead.end():]) in ("", _option_key(choices.get(lead.group(1), ""))):
        return Reading(lead.group(1), "explicit")
    stated = [m for m in _PAREN_CHOICE.finditer(text) if m.group(1) in letters]
    tail = text.rstrip()[stated[-1].end():] if stated else ""
    if stated and len(tail) <= _CHOICE_TAIL and not _SENTENCE_END.search(tail.rstrip(".")):
        return Reading(stated[-1].group(1), "explicit")
    if finish_reason == "length":
        return Reading(None, "cut_off")
    if stated:  # an option named earlier in a finished reply: the last one, marked as not stated at the end
        return Reading(stated[-1].group(1), "implicit")
    return Reading(None, "cut_off" if finish_reason == "length" else "none")


# --------------------------------------------------------------------------------------------------------
# Normalization and equivalence
# --------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 16)
def _value(answer: str | None) -> tuple[str, tuple[Fraction, bool] | None] | None:
    """(finished answer text, numeric value or None); None when there is no answer at all."""
    if answer is None:
        return None
    finished = _finish(answer)
    if finished is None:
        return None
    return finished, _parse_token(finished)


def to_number(answer: str | None) -> Fraction | None:
    """An answer's exact value when it is a number ("1,234", "3.5", "45%", "\\frac{1}{2}"), else None."""
    value = _value(answer)
    if value is None or value[1] is None:
        return None
    return value[1][0]


def _normalize_text(text: str) -> str:
    # Whitespace, case and LaTeX spacing never change a non-numeric answer: "X + 1" is "x+1".
    return re.sub(r"\s+", "", text).lower()


def normalize_answer(answer: str | None) -> str | None:
    """Canonical form of an answer: an exact rational ("72", "7/2") for numbers, else a normalized string.

    "0.5", "1/2", "\\frac{1}{2}" all give "1/2"; "45%" gives "45"; "B" gives "b". None and answers with
    nothing in them give None.
    """
    parsed = _value(answer)
    if parsed is None:
        return None
    finished, number = parsed
    if number is not None:
        return _format_fraction(number[0])
    return _normalize_text(finished) or None


def _mathematical(text: str) -> bool:
    """Whether a non-numeric answer is mathematics ("2\\sqrt{2}", "(1, 3]", "x^2+1") rather than a word or
    a choice ("Paris", "B"): only those go to the symbolic comparison, which reads words as products of
    variables (it finds "pairs" equal to "Paris")."""
    return bool(_MATH_SIGN.search(text)) and not _WORD.search(text)


def gradable(reference: str | None) -> bool:
    """Whether replies can be graded against a reference answer: a number, a math expression or a single
    letter (a choice). A word ("four", "Paris") only matches the same word, so "4" is graded wrong."""
    parsed = _value(reference)
    if parsed is None:
        return False
    text, number = parsed
    return number is not None or _mathematical(text) or bool(re.fullmatch(r"[A-Za-z]", text.strip()))


def answers_equal(a: str | None, b: str | None, rel_tol: float = 1e-6) -> bool:
    """Whether two answers mean the same: equal rationals, a long decimal within rel_tol, equal text, or
    (for mathematics the fast path cannot decide) equivalence by math-verify, with ``b`` as the reference.

    The tolerance applies only when one side is an approximation (a non-integer decimal with 3+ fractional
    digits, like "0.3333333" for 1/3), so distinct exact answers such as 1000000 and 1000001 stay distinct.
    Two plain numbers are always decided here, exactly, without math-verify. None never equals anything,
    not even None: a missing answer is not agreement.
    """
    pa, pb = _value(a), _value(b)
    if pa is None or pb is None:
        return False
    (ta, na), (tb, nb) = pa, pb
    if na is not None and nb is not None:
        (va, approx_a), (vb, approx_b) = na, nb
        if va == vb:
            return True
        if approx_a or approx_b:
            try:
                return math.isclose(float(va), float(vb), rel_tol=rel_tol)
            except OverflowError:
                return False
        return False
    if na is None and nb is None and _normalize_text(ta) == _normalize_text(tb):
        return True
    if _mathematical(ta) and _mathematical(tb):
        from agentark.symbolic import symbolic_equal  # math-verify and SymPy load only when needed

        return symbolic_equal(_for_symbolic(tb), _for_symbolic(ta))
    return False


_INLINE_FRACTION = re.compile(r"(?<![\w.)}])(\d+(?:\.\d+)?/\d+(?:\.\d+)?)(?=\s*[\\A-Za-z({])")


def _for_symbolic(text: str) -> str:
    """Cleaning flattened ``\\frac{1}{2}\\sqrt{3}`` to ``1/2\\sqrt{3}``; as LaTeX that reads 1/(2 sqrt 3), so
    a numeric fraction followed by a factor gets its parentheses back."""
    return _INLINE_FRACTION.sub(r"(\1)", text)


def is_correct(answer: str | None, reference: str) -> bool:
    """Whether an extracted answer matches a reference, which may be raw ("1,234", "\\frac{1}{2}", "#### 5")."""
    if reference is not None and "####" in reference:
        reference = gsm8k_final_answer(reference)  # a whole GSM8K solution was passed as the reference
    return answers_equal(answer, reference)


@dataclass(frozen=True)
class Vote:
    """A majority vote: the winning answer (None when no answer), its share of all votes, and whether
    another group of answers was as large (a tie, which the first-seen group wins)."""

    answer: str | None
    share: float
    tie: bool


def vote(answers: list[str | None]) -> Vote:
    """The largest group of equivalent answers, and whether it tied with another.

    None answers are not a group but still count in the denominator, so a failed agent lowers consensus.
    Ties go to the group whose first member came first (so results are reproducible) and are reported as
    ``tie``: three agents with three answers is a tie, not a decision.
    """
    groups: list[list[str]] = []  # in order of first occurrence, so max() below breaks ties by it
    for answer in answers:
        if answer is None:
            continue
        for group in groups:
            # Compare with the group's first member: tolerance equality is not transitive, so a fixed
            # representative keeps groups from drifting.
            if answers_equal(group[0], answer):
                group.append(answer)
                break
        else:
            if _value(answer) is not None:
                groups.append([answer])
    if not groups:
        return Vote(None, 0.0, False)
    best = max(groups, key=len)  # max() returns the first of equal-sized groups
    tie = sum(1 for g in groups if len(g) == len(best)) > 1
    return Vote(best[0], len(best) / len(answers), tie)


def majority_vote(answers: list[str | None]) -> tuple[str | None, float]:
    """(answer of the largest group of equivalent answers, its size / len(answers)); (None, 0.0) if none.
    Ties go to the group whose first member came first; ``vote`` also says whether there was one."""
    result = vote(answers)
    return result.answer, result.share


# --------------------------------------------------------------------------------------------------------
# GSM8K reference solutions
# --------------------------------------------------------------------------------------------------------

_CALCULATOR = re.compile(r"<<([^<>]*)>>")


def gsm8k_final_answer(solution: str) -> str:
    """The text after the last ``####`` of a GSM8K solution, stripped, commas removed ("1,234" -> "1234")."""
    return solution.rsplit("####", 1)[-1].strip().replace(",", "")


# Where a problem's metadata keeps its worked reference solution: loaders store ``solution``; older imports
# kept the raw ground-truth cell under the name of the field they read it from.
_SOLUTION_KEYS = ("solution", "reference", "gt", "answer")


def reference_solution(meta: dict) -> str:
    """The worked reference solution in a problem's metadata: the first field that carries calculator
    annotations (``<<a*b=c>>``), else ``solution``, else ""."""
    texts = [meta.get(k) for k in _SOLUTION_KEYS if isinstance(meta.get(k), str)]
    return next((t for t in texts if _CALCULATOR.search(t)), meta.get("solution") if isinstance(meta.get("solution"), str) else "")


def intermediate_results(solution: str) -> list[str]:
    """Results of a GSM8K solution's calculator annotations, in order: ``<<48/2=24>>`` gives "24"."""
    results = []
    for expr in _CALCULATOR.findall(solution):
        if "=" in expr:
            result = expr.rsplit("=", 1)[1].strip()
            if result:
                results.append(result)
    return results
