"""Issue 30: each class of answer that real Du et al. files read wrongly, on real-style texts (written here in
Du et al.'s style): read as the agent meant it, or as no answer with the reason, never as a confident wrong one."""
from __future__ import annotations

import pytest

from agentark.grading import answer_choices, choice_options, read_answer

pytestmark = pytest.mark.timeout(60)

DU_MMLU = ("Can you answer the following question as accurately as possible? Find the product of the given "
           "polynomials in the given polynomial ring. f(x) = 4x - 5, g(x) = 2x^2 - 4x + 2 in Z_8[x].: "
           "A) 2x^2 + 5, B) 6x^2 + 4x + 6, C) 0, D) 32i Answer in English only. Explain your answer, putting the "
           "answer in the form (X) at the end of your response.")
DU_TMJ = ("Can you answer the following question as accurately as possible? Proprioceptive nerve endings in "
          "synovial joints are located in: A) the capsule and ligaments of the TMJ and the medial pterygoid "
          "muscle., B) the capsule and ligaments of the TMJ and the lateral pterygoid muscle., C) the articular "
          "disc of the TMJ and the medial pterygoid muscle., D) the articular disc of the TMJ and the lateral "
          "pterygoid muscle. Answer in English only. Explain your answer, putting the answer in the form (X) at "
          "the end of your response.")
DU_HOURS = ("Can you answer the following question as accurately as possible? A car travels 960 km at 60 km/h. "
            "How long does the trip take?: A) 12 hours, B) 14 hours, C) 16 hours, D) 18 hours Answer in English "
            "only. Explain your answer, putting the answer in the form (X) at the end of your response.")


def choice(text: str, question: str, finish_reason: str | None = None):
    return read_answer(text, finish_reason, answer_choices("A", question))


def test_options_end_where_the_instructions_start():
    assert choice_options(DU_MMLU)["D"] == "32i"
    assert choice_options(DU_HOURS)["D"] == "18 hours"
    assert choice("The product is zero in Z_8[x]... wait, let me recheck. The answer is 32i.", DU_MMLU).answer == "D"


@pytest.mark.parametrize("last_line, letter", [
    ("(X) B) the capsule and ligaments of the TMJ and the lateral pterygoid muscle.", "B"),
    ("(X) (D) the articular disc of the TMJ and the lateral pterygoid muscle.", "D"),
    ("(X) D", "D"),
    ("**(X) C**", "C"),
    ("Therefore, my answer is (X) A) the capsule and ligaments", "A"),
])
def test_du_placeholder_followed_by_a_letter_reads_as_that_letter(last_line, letter):
    text = ("Agent 2 argued for echoic memory (D), but the disc carries most receptors, and the lateral "
            f"pterygoid inserts on it.\n\n{last_line}")
    reading = choice(text, DU_TMJ)
    assert (reading.answer, reading.kind) == (letter, "explicit")


def test_du_placeholder_followed_by_option_text_reads_as_that_option():
    texts = ["Distance over speed: 960 / 60 = 16.\n\n(X) 16 hours would be the correct solution",
             "Both other agents agree with me.\n(X) 16 hours",
             "The trip takes sixteen hours.\n(X) C"]
    assert [choice(t, DU_HOURS).answer for t in texts] == ["C", "C", "C"]


def test_a_hedge_between_options_is_ambiguous():
    reading = choice("Both the disc and the capsule contribute, as does the lateral pterygoid (D).\n\n"
                     "(X) (C and (B+D))", DU_TMJ)
    assert (reading.answer, reading.kind) == (None, "ambiguous") and "hedge" in reading.reason


def test_a_value_matching_no_option_is_ambiguous_not_an_earlier_mention():
    text = ("Let us simplify our answer: A) is the form we get first, then we rationalise.\n"
            "The result is 123/128 + i.\n(X) (123/128 + i)")
    reading = choice(text, DU_MMLU)
    assert (reading.answer, reading.kind) == (None, "ambiguous") and "no option" in reading.reason


def test_a_letter_with_another_options_text_is_ambiguous():
    reading = choice("(X) C) the articular disc of the TMJ and the lateral pterygoid muscle.", DU_TMJ)
    assert reading.kind == "ambiguous" and reading.answer is None


def test_boxed_equation_reads_its_value_and_a_boxed_calculation_is_ambiguous():
    assert read_answer("He earns $45,000 a month, so in a year: \\boxed{$45,000 x 12 = $540,000}", None).answer \
        == "540000"
    reading = read_answer("Per year he earns \\boxed{45,000 x 12}", None)
    assert (reading.answer, reading.kind) == (None, "ambiguous") and "calculation" in reading.reason


def test_boxed_sentence_with_several_values_is_ambiguous():
    reading = read_answer("\\boxed{She bought 3 packs of 12 eggs}", None)
    assert (reading.answer, reading.kind) == (None, "ambiguous") and "sentence" in reading.reason
    assert read_answer("\\boxed{She has 72 apples left}", None).answer == "72"


@pytest.mark.parametrize("box", ["\\boxed{answer}", "\\boxed{X}", "\\boxed{your answer}", "\\boxed{final answer}"])
def test_a_template_placeholder_is_no_answer(box):
    reading = read_answer(f"Using the other agents' reasoning, the updated answer is in the form {box}", "stop")
    assert (reading.answer, reading.kind) == (None, "ambiguous") and "placeholder" in reading.reason


def test_a_placeholder_does_not_hide_a_stated_answer():
    assert read_answer("Janet makes $18.\nThe answer is 18, in the form \\boxed{answer}", "stop").answer == "18"


def test_boxes_answering_different_things_are_ambiguous():
    text = ("There are 10 marbles; 40% are blue.\nSo there are \\boxed{4} blue marbles and \\boxed{6} red "
            "marbles.")
    reading = read_answer(text, None)
    assert (reading.answer, reading.kind) == (None, "ambiguous") and "different things" in reading.reason
    assert read_answer("\\boxed{4} blue and \\boxed{6} red, so the total is \\boxed{10}", None).answer == "10"
    assert read_answer("First \\boxed{5}, then corrected: \\boxed{6}", None).answer == "6"


def test_a_message_cut_off_mid_sentence_has_only_an_explicit_answer():
    cut = ("Agent 1 computed 3 * 6 = 18 pancakes, but the question asks for the remaining batter. Agent 2 "
           "also made a mistake in step 3 and arrived at the same wrong answer of 18")
    reading = read_answer(cut, None)
    assert (reading.answer, reading.kind) == (None, "cut_off") and "mid-sentence" in reading.reason
    stated = "The answer is 12.\nLet me double-check by going through the steps of Agent 2 once more and see if"
    assert read_answer(stated, None) == read_answer(stated, "stop")
    assert read_answer(stated, None).answer == "12"
    # A finished reply (or one whose last line closes) keeps its implicit reading.
    assert read_answer("So she makes 18 dollars every day at the farmers' market.", None).answer == "18"
    assert read_answer("We add them: 3 + 4 = 7", None).answer == "7"
