"""Answer extraction and equivalence, table-driven over the formats models actually write."""
from __future__ import annotations

import pytest

from agentark.grading import (
    answers_equal,
    extract_answer,
    is_correct,
    majority_vote,
    normalize_answer,
)
from agentark.tasks.answers import gsm8k_final_answer, intermediate_results

# (model output, expected normalized answer). Expected values are literal canonical forms, so a regression in
# either extract_answer or normalize_answer shows up here.
CASES = [
    # phrases
    ("The answer is 72.", "72"),
    ("Step 1: add.\nThe answer is 4.", "4"),
    ("Final Answer: 72", "72"),
    ("final answer is 72", "72"),
    ("Answer: 72", "72"),
    ("THE ANSWER IS 72", "72"),
    ("The answer is: 12", "12"),
    ("The answer is:\n\n12", "12"),
    ("**Answer:** 72", "72"),
    ("Final Answer: The final answer is 42. I hope it is correct.", "42"),
    # negatives
    ("The answer is -5.", "-5"),
    ("The temperature drops to −12 degrees. The answer is −12.", "-12"),
    ("The answer is -0.25.", "-1/4"),
    ("x = -7", "-7"),
    # thousands separators
    ("The answer is 1,234,567.", "1234567"),
    ("#### 1,000", "1000"),
    ("The answer is 12,000 meters.", "12000"),
    ("\\boxed{1{,}000}", "1000"),
    # currency
    ("The answer is $1,234.50", "2469/2"),
    ("The answer is $\\$18$.", "18"),
    ("It costs €30 in total. The answer is €30.", "30"),
    ("She pays £7.", "7"),
    ("The answer is -$4.", "-4"),
    # percentages
    ("The answer is 45%.", "45"),
    ("\\boxed{45\\%}", "45"),
    ("The discount is 12.5 percent", "25/2"),
    # decimals
    ("The answer is 0.5", "1/2"),
    ("The answer is .5", "1/2"),
    ("The answer is 3.50 dollars.", "7/2"),
    ("The answer is 10.0", "10"),
    ("The answer is 007.", "7"),
    # fractions
    ("The answer is 3/4.", "3/4"),
    ("The answer is 2/4", "1/2"),
    ("\\boxed{\\frac{3}{4}}", "3/4"),
    ("\\boxed{\\dfrac{1}{2}}", "1/2"),
    ("so x = \\boxed{\\tfrac{10}{4}}", "5/2"),
    ("\\boxed{-\\frac{1}{2}}", "-1/2"),
    ("The answer is $-\\frac{1}{2}$.", "-1/2"),
    ("\\boxed{\\frac12}", "1/2"),
    ("\\boxed{3\\frac{1}{2}}", "7/2"),
    ("Each gets 1/3 of the pie, so the answer is 1/3", "1/3"),
    # LaTeX wrappers
    ("\\boxed{\\text{18 apples}}", "18"),
    ("\\boxed{72 \\text{ dollars}}", "72"),
    ("The answer is \\(\\left(\\frac{3}{4}\\right)\\)", "3/4"),
    ("\\boxed{1\\,234}", "1234"),
    ("The angle is \\boxed{90^\\circ}", "90"),
    # boxed with nested braces, last box wins
    ("So the total is \\boxed{72}.", "72"),
    ("The final answer is $\\boxed{48}$.", "48"),
    ("\\boxed{\\frac{\\frac{1}{2}}{2}}", "1/4"),
    ("First \\boxed{5}, then corrected: \\boxed{6}", "6"),
    # text after / before the number, bold markdown
    ("The answer is 72 apples.", "72"),
    ("The answer is 72 dollars per week.", "72"),
    ("So she has 72.", "72"),
    ("**The answer is 18**", "18"),
    ("The answer is **18**.", "18"),
    ("The answer is approximately 72 apples.", "72"),
    ("The answer is: Janet earns $18 every day.", "18"),
    ("Total: 3 + 4 = 7\nThe answer is 7 (seven).", "7"),
    ("The answer is 8 * 9 = 72.", "72"),
    # priority between candidates
    ("\\boxed{5} was my first guess but the answer is 6", "5"),
    ("#### 7\nThe answer is 9", "7"),
    ("Natalia sold 48/2 = 24 clips in May.\n#### 72", "72"),
    ("The answer is 5. Wait, I made an error. The answer is 6.", "6"),
    ("The answer is 5.\nActually the answer is 6 and 3 is wrong.", "6"),
    ("Answer: 12\nCheck: 3 * 4 = 12, and 12 - 2 = 10", "12"),
    ("The answer is as follows:\nfirst 3 + 4 = 7", "7"),
    # last-number fallback
    ("First 3 + 4 = 7, then 7 * 2 = 14.", "14"),
    ("Step 1: 5 apples. Step 2: 5 - 2 = 3 apples left.", "3"),
    ("Step 3: 16-3-4=9", "9"),
    ("She has 2 cats and 11 fish", "11"),
    ("We evaluate the part of the answer that is inside the parentheses: 3 + 4 = 7", "7"),
    # non-numeric answers
    ("The answer is B.", "b"),
    ("The answer is (C).", "c"),
    ("\\boxed{\\text{B}}", "b"),
    ("The answer is x + 1", "x+1"),
    ("\\boxed{2x + 1}", "2x+1"),
    # nothing to find
    ("There is no number here.", None),
    ("I am not sure how to solve this.", None),
    ("", None),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_extract_then_normalize(text, expected):
    assert normalize_answer(extract_answer(text)) == expected


def test_the_table_covers_at_least_fifty_formats():
    assert len(CASES) >= 50


@pytest.mark.parametrize(
    "text, extracted",
    [
        ("The answer is 72 dollars per week.", "72"),
        ("The answer is $1,234.50.", "1234.50"),
        ("The answer is −5", "-5"),
        ("The answer is 45%.", "45%"),
        ("\\boxed{\\frac{1}{2}}", "1/2"),
        ("The answer is **18**.", "18"),
        ("The answer is B.", "B"),
        ("nothing", None),
    ],
)
def test_extract_answer_returns_cleaned_text(text, extracted):
    assert extract_answer(text) == extracted


@pytest.mark.parametrize(
    "answer, normalized",
    [
        ("72", "72"), ("72.000", "72"), ("0.5", "1/2"), ("1/2", "1/2"), ("\\frac{1}{2}", "1/2"), ("3.50", "7/2"),
        ("45%", "45"), ("-6/4", "-3/2"), ("1,234", "1234"), ("$5", "5"), ("B", "b"), (" X + 1 ", "x+1"),
        ("x\\,+\\;1", "x+1"), (None, None), ("", None),
    ],
)
def test_normalize_answer(answer, normalized):
    assert normalize_answer(answer) == normalized


@pytest.mark.parametrize(
    "a, b",
    [
        ("72", "72.0"), ("0.5", "1/2"), ("\\frac{1}{2}", "0.5"), ("1,234", "1234"), ("$18", "18"), ("-3", "−3"),
        ("0.3333333", "1/3"), ("0.6666667", "\\frac{2}{3}"), ("45%", "45"), ("B", "b"), ("x + 1", "x+1"),
        ("72 apples", "72"),
    ],
)
def test_equal_pairs(a, b):
    assert answers_equal(a, b)
    assert answers_equal(b, a)


@pytest.mark.parametrize(
    "a, b",
    [
        ("72", "73"), ("0.5", "0.6"), ("1/2", "1/3"), ("-3", "3"), ("0.333", "1/3"),
        ("1000000", "1000001"),  # exact answers never use the tolerance
        ("72", "b"), ("a", "b"), (None, "1"), ("1", None), (None, None), ("", ""),
    ],
)
def test_unequal_pairs(a, b):
    assert not answers_equal(a, b)


def test_rel_tol_is_respected():
    assert not answers_equal("0.3334", "1/3")
    assert answers_equal("0.3334", "1/3", rel_tol=1e-3)


def test_is_correct_against_raw_references():
    assert is_correct("1234", "1,234")
    assert is_correct("0.5", "\\frac{1}{2}")
    assert is_correct("72", "She sold <<48+24=72>>72 clips.\n#### 72")
    assert not is_correct("71", "72")
    assert not is_correct(None, "4")


def test_majority_vote_groups_equivalent_forms():
    assert majority_vote(["0.5", "1/2", "3", None]) == ("0.5", 0.5)
    assert majority_vote(["\\frac{1}{2}", "3", "0.5"]) == ("\\frac{1}{2}", pytest.approx(2 / 3))


def test_majority_vote_ties_go_to_the_first_seen_group():
    assert majority_vote(["3", "4"]) == ("3", 0.5)
    assert majority_vote(["4", "3", "3", "4"]) == ("4", 0.5)
    assert majority_vote(["4", "3", "3"]) == ("3", pytest.approx(2 / 3))


def test_majority_vote_ignores_none_but_counts_it():
    assert majority_vote([None, "5", None]) == ("5", pytest.approx(1 / 3))
    assert majority_vote([None, None]) == (None, 0.0)
    assert majority_vote([]) == (None, 0.0)


def test_gsm8k_final_answer():
    solution = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nAltogether <<48+24=72>>72 clips.\n#### 1,072"
    assert gsm8k_final_answer(solution) == "1072"
    assert gsm8k_final_answer("a #### 3 #### 4 ") == "4"


def test_intermediate_results():
    solution = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nAltogether <<48+24=72>>72 clips.\n#### 72"
    assert intermediate_results(solution) == ["24", "72"]
    assert intermediate_results("She pays <<5*.5=2.5>>2.5 and <<2.5-3=-0.5>>-0.5") == ["2.5", "-0.5"]
    assert intermediate_results("no annotations #### 3") == []


def test_never_evaluates_code():
    # Parsed as text: nothing is executed, and arithmetic in the answer is not computed.
    assert extract_answer("The answer is __import__('os').system('true')") == "__import__('os').system('true')"
    assert normalize_answer("__import__('os')") == "__import__('os')"
    assert not answers_equal("2**3", "8")


def test_to_number_is_exact_or_none():
    from fractions import Fraction

    from agentark.grading import to_number

    assert to_number("1,234") == 1234
    assert to_number("\\frac{1}{2}") == Fraction(1, 2)
    assert to_number("3.50") == Fraction(7, 2)
    assert to_number("B") is None and to_number(None) is None
