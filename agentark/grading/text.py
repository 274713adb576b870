"""From text to an answer token: numbers as they appear in prose and LaTeX, the cleaning of LaTeX and
markdown, and the answer a candidate span commits to (:func:`finish`), with its exact value.

Design decision: model output is never ``eval()``-ed or otherwise executed. Numbers are recognised with
regular expressions and turned into exact rationals with :class:`fractions.Fraction` (which parses decimal
strings exactly, like :class:`decimal.Decimal`), so "0.5", "1/2" and "\\frac{1}{2}" compare equal without
floating-point error and without running anything a model wrote.
"""
from __future__ import annotations

import functools
import re
from fractions import Fraction

# One number as it appears in prose or LaTeX-stripped text. The sign only counts when it is not preceded by
# something that makes it a binary minus ("16-3" is a subtraction, "x=-3" is a negative number). Digits may
# not start right after a letter so "H2O" or "x2" does not produce a number.
NUMBER = re.compile(
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
# The canonical token text produced by number_token(): what normalize/answers_equal accept as "a number".
_TOKEN = re.compile(r"(?P<sign>[-+]?)(?P<num>\d+(?:\.\d+)?|\.\d+)(?:/(?P<den>\d+(?:\.\d+)?))?(?P<pct>%?)")
# A word of two or more letters that is not a LaTeX command ("sqrt" in "\sqrt" does not count): its presence
# means the candidate is prose ("she has 72 apples"), not an expression ("x+1").
WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_DECIMAL_PART = re.compile(r"\.(\d+)")
# Something only mathematics has: a digit, a LaTeX command, an operator, a bracket.
MATH_SIGN = re.compile(r"[\d\\^_{}()\[\]+\-*/=<>|]")

# A decimal with at least this many fractional digits is treated as an approximation (0.3333333 for 1/3), and
# only then does answers_equal fall back to rel_tol; exact answers such as "1000000" vs "1000001" must never be
# "close enough".
_APPROX_DIGITS = 3


def number_token(match: re.Match[str]) -> str:
    """Canonical text of a number match: sign, digits without separators or currency, "/den", "%"."""
    sign = "-" if match.group("sign") == "-" else ""
    text = sign + match.group("num").replace(",", "")
    if match.group("den"):
        text += "/" + match.group("den")
    if match.group("pct"):
        text += "%"
    return text


def parse_number(text: str) -> tuple[Fraction, bool] | None:
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


def format_fraction(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


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
    n, d = NUMBER.fullmatch(num), NUMBER.fullmatch(den)
    pn, pd = (parse_number(number_token(n)) if n else None), (parse_number(number_token(d)) if d else None)
    if pn is not None and pd is not None and pd[0] != 0:
        return format_fraction(pn[0] / pd[0])
    # Parentheses keep the meaning of \frac{a+b}{c} once it is flattened to text.
    return f"({num})/({den})"


def _mixed_repl(m: re.Match[str]) -> str:
    # "3\frac{1}{2}" is three and a half, not "31/2"; a sign in front applies to the whole mixed number.
    whole, num, den = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if den == 0:
        return m.group(0)
    return format_fraction(whole + Fraction(num, den))


def clean(text: str) -> str:
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


SENTENCE_END = re.compile(r"\n|\.(?=\s)")
_WRAPPED = re.compile(r"\(([^()]*)\)")


def _number_ends_here(rest: str) -> bool:
    """Whether what follows a leading number leaves it a plain number ("72 apples") not an expression ("2x")."""
    if not rest.strip():
        return True
    if rest[0] in ",.;:!?)":
        return True
    if re.match(r"\s*(?:[x×*]|\\times|\\cdot)\s*[$]?\d", rest):
        return False  # "45,000 x 12": a product, not 45,000 of something called x
    # Units or words after a space ("72 dollars per week"); an operator or "\pi" makes it an expression.
    return rest[0].isspace() and rest.lstrip()[0].isalpha()


def finish(candidate: str) -> str | None:
    """The answer a candidate span commits to: a canonical number token, a short non-numeric answer, or None."""
    s = SENTENCE_END.split(clean(candidate), 1)[0]
    s = s.strip().strip("*").strip().rstrip(".,;:").strip()
    if not s:
        return None
    wrapped = _WRAPPED.fullmatch(s)
    if wrapped and (NUMBER.fullmatch(wrapped.group(1).strip()) or re.fullmatch(r"[A-Za-z]", wrapped.group(1).strip())):
        s = wrapped.group(1).strip()  # "(1/2)" from \left(\frac{1}{2}\right), "(B)" for a choice
    m = NUMBER.match(s)
    if m and _number_ends_here(s[m.end():]):
        return number_token(m)
    if "=" in s:
        # "8*9=72" or "x = 5": the answer is what the working finally equals.
        rhs = s.rsplit("=", 1)[1].strip()
        if rhs:
            return finish(rhs)
    if WORD.search(s):
        # Prose around the answer ("approximately 72", "she has $18 left"): its first number is the answer;
        # several words without a number ("as follows:") are no answer, so the caller keeps looking, while a
        # single token ("Tuesday", "yes") is a non-numeric answer in its own right.
        m = NUMBER.search(s)
        if m:
            return number_token(m)
        return s if " " not in s else None
    return s  # a non-numeric expression or choice such as "x+1", "\sqrt{2}", "B"


@functools.lru_cache(maxsize=1 << 16)
def answer_value(answer: str | None) -> tuple[str, tuple[Fraction, bool] | None] | None:
    """(finished answer text, numeric value or None); None when there is no answer at all."""
    if answer is None:
        return None
    finished = finish(answer)
    if finished is None:
        return None
    return finished, parse_number(finished)


def to_number(answer: str | None) -> Fraction | None:
    """An answer's exact value when it is a number ("1,234", "3.5", "45%", "\\frac{1}{2}"), else None."""
    value = answer_value(answer)
    if value is None or value[1] is None:
        return None
    return value[1][0]
