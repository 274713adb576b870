"""Answer extraction and equivalence, table-driven over the formats models actually write."""
from __future__ import annotations

import pytest

from agentark.grading import (
    answers_equal,
    extract_answer,
    gsm8k_final_answer,
    intermediate_results,
    is_correct,
    majority_vote,
    normalize_answer,
)

# (model output, expected normalized answer)
CASES = [
    ("The answer is 72.", "72"),
    ("#### 72", "72"),
    ("Natalia sold 48/2 = 24 clips in May.\n#### 72", "72"),
    ("So the total is \\boxed{72}.", "72"),
    ("Final Answer: 72", "72"),
    ("final answer is 72", "72"),
    ("Answer: 72", "72"),
    ("The answer is $1,234.50", "2469/2"),
    ("The answer is 1,234,567.", "1234567"),
    ("#### 1,000", "1000"),
    ("The answer is -5.", "-5"),
    ("The temperature drops to −12 degrees. The answer is −12.", "-12"),
    ("It costs €30 in total. The answer is €30.", "30"),
    ("She pays £7.", "7"),
    ("The answer is 45%.", "45"),
    ("The discount is 12.5 percent", "25/2"),
    ("The answer is 3/4.", "3/4"),
    ("\\boxed{\\frac{3}{4}}", "3/4"),
    ("\\boxed{\\dfrac{1}{2}}", "1/2"),
    ("\\boxed{-\\frac{1}{2}}", "-1/2"),
    ("so x = \\boxed{\\tfrac{10}{4}}", "5/2"),
    ("The answer is 0.5", "1/2"),
    ("The answer is .5", "1/2"),
    ("The answer is 3.50 dollars.", "7/2"),
    ("The answer is 72 apples.", "72"),
    ("The answer is 72 dollars per week.", "72"),
    ("So she has 72.", "72"),
    ("**The answer is 18**", "18"),
    ("The answer is **18**.", "18"),
    ("\\boxed{\\text{18 apples}}", "18apples"),
    ("\\boxed{18}", "18"),
    ("The answer is $\\$18$.", "18"),
    ("First 3 + 4 = 7, then 7 * 2 = 14.", "14"),
    ("Step 1: 5 apples. Step 2: 5 - 2 = 3 apples left.", "3"),
    ("The answer is 5. Wait, I made an error. The answer is 6.", "6"),
    ("\\boxed{5} was my first guess but the answer is 6", "5"),
    ("#### 7\nThe answer is 9", "7"),
    ("Final Answer: The final answer is 42. I hope it is correct.", "42"),
    ("The answer is: 12", "12"),
    ("The answer is 12,000 meters.", "12000"),
    ("She saves $2,500.75 per year. The answer is 2,500.75", "250075/100"),
    ("The answer is 007.", "7"),
    ("The answer is 10.0", "10"),
    ("The answer is B.", "b"),
    ("There is no number here.", None),
    ("", None),
    ("The answer is -0.25.", "-1/4"),
    ("Total: 3 + 4 = 7\nThe answer is 7 (seven).", "7"),
    ("\\boxed{1,000}", "1000"),
    ("The final answer is $\\boxed{48}$.", "48"),
    ("The answer is 2/4", "1/2"),
    ("We evaluate the part of the answer that is inside the parentheses: 3 + 4 = 7", "7"),
    ("The final answer is: 15", "15"),
    ("Each gets 1/3 of the pie, so the answer is 1/3", "1/3"),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_extract_and_normalize(text, expected):
    assert normalize_answer(extract_answer(text)) == (None if expected is None else normalize_answer(expected))


def test_there_are_at_least_forty_formats():
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    "a, b",
    [("72", "72.0"), ("0.5", "1/2"), ("\\frac{1}{2}", "0.5"), ("1,234", "1234"), ("$18", "18"), ("-3", "−3"),
     ("0.3333333", "1/3"), ("45%", "45"), ("B", "b"), ("x + 1", "x+1")],
)
def test_equal_pairs(a, b):
    assert answers_equal(a, b)


@pytest.mark.parametrize("a, b", [("72", "73"), ("0.5", "0.6"), ("1/2", "1/3"), (None, "1"), (None, None), ("-3", "3"),
                                  ("0.333", "1/3")])
def test_unequal_pairs(a, b):
    assert not answers_equal(a, b)


def test_is_correct_against_raw_references():
    assert is_correct("1234", "1,234")
    assert is_correct("0.5", "\\frac{1}{2}")
    assert not is_correct(None, "4")


def test_majority_vote_groups_equivalent_forms():
    assert majority_vote(["0.5", "1/2", "3", None]) == ("0.5", 0.5)
    assert majority_vote(["3", "4"]) == ("3", 0.5)  # a tie goes to the first seen
    assert majority_vote(["4", "3", "3"]) == ("3", 2 / 3)
    assert majority_vote([None, None]) == (None, 0.0)
    assert majority_vote([]) == (None, 0.0)


def test_gsm8k_helpers():
    solution = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nAltogether <<48+24=72>>72 clips.\n#### 1,072"
    assert gsm8k_final_answer(solution) == "1072"
    assert intermediate_results(solution) == ["24", "72"]
    assert intermediate_results("no annotations #### 3") == []


def test_never_evaluates_code():
    assert extract_answer("The answer is __import__('os').system('true')") is not None
    assert normalize_answer("__import__('os')") == "__import__('os')"
