"""Whether two answers mean the same: a canonical form (``normalize_answer``), exact rationals, a tolerance
for long decimals only, equal text, and Hugging Face's math-verify (:mod:`agentark.grading.symbolic`) only
about mathematics that form cannot decide; and which references can be graded at all.
"""
from __future__ import annotations

import math
import re

from agentark.grading.text import MATH_SIGN, WORD, answer_value, format_fraction


def _normalize_text(text: str) -> str:
    # Whitespace, case and LaTeX spacing never change a non-numeric answer: "X + 1" is "x+1".
    return re.sub(r"\s+", "", text).lower()


def normalize_answer(answer: str | None) -> str | None:
    """Canonical form of an answer: an exact rational ("72", "7/2") for numbers, else a normalized string.

    "0.5", "1/2", "\\frac{1}{2}" all give "1/2"; "45%" gives "45"; "B" gives "b". None and answers with
    nothing in them give None.
    """
    parsed = answer_value(answer)
    if parsed is None:
        return None
    finished, number = parsed
    if number is not None:
        return format_fraction(number[0])
    return _normalize_text(finished) or None


def _mathematical(text: str) -> bool:
    """Whether a non-numeric answer is mathematics ("2\\sqrt{2}", "(1, 3]", "x^2+1") rather than a word or
    a choice ("Paris", "B"): only those go to the symbolic comparison, which reads words as products of
    variables (it finds "pairs" equal to "Paris")."""
    return bool(MATH_SIGN.search(text)) and not WORD.search(text)


def gradable(reference: str | None) -> bool:
    """Whether replies can be graded against a reference answer: a number, a math expression or a single
    letter (a choice). A word ("four", "Paris") only matches the same word, so "4" is graded wrong."""
    parsed = answer_value(reference)
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
    pa, pb = answer_value(a), answer_value(b)
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
        from agentark.grading.symbolic import symbolic_equal  # math-verify and SymPy load only when needed

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
        # A whole GSM8K solution was passed as the reference: its final answer, by the rule of
        # agentark.tasks.answers.gsm8k_final_answer (grading sits below tasks, so it cannot import it).
        reference = reference.rsplit("####", 1)[-1].strip().replace(",", "")
    return answers_equal(answer, reference)
