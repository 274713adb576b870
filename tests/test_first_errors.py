"""First errors without a model: the arithmetic check, where a wrong message leaves every correct path, the debate
signal's origin step, the gold set's figures, and the reason on the Label page's card."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from agentark import config
from agentark.labels import auto_labelers as autolab
from agentark.labels.first_error import arithmetic_reason, correct_paths, misread, off_path
from agentark.labels.gold_set import EXPORT, GOLD_SET, KINDS, load_gold_set
from agentark.labels.labeler_report import gold_set_report
from agentark.labels.segment import SegmentConfig, segment_runs
from tests.steps_fixtures import SOLUTION, build_store, message
from tests.test_label_pages import _card, labeling_page


@pytest.mark.parametrize("text, reason", [
    ("He pays 12 × 3 = 38 dollars.", "12 × 3 = 38, but 12 × 3 is 36"),
    ("1245 ÷ 15 = 82.33 trips", "1245 ÷ 15 = 82.33, but 1245 ÷ 15 is 83"),
    ("Together: 20 + 23 + 25 = 63 years.", "20 + 23 + 25 = 63, but 20 + 23 + 25 is 68"),
    ("25% of 80 = 25 apples", "(25 ÷ 100) × 80 = 25, but (25 ÷ 100) × 80 is 20"),
    ("3/4 of 20 = 16", "(3 ÷ 4) × 20 = 16, but (3 ÷ 4) × 20 is 15"),
    ("5 hours * 60 minutes/hour = 360 minutes", "5 × 60 = 360, but 5 × 60 is 300"),
    ("$10 x 1.2 = $12.5 per hour", "10 × 1.2 = 12.5, but 10 × 1.2 is 12"),
    ("50 - 10 = 5 * 9 = 40", "50 - 10 = 5 × 9, but 50 - 10 is 40"),
])
def test_wrong_calculations_are_found_with_the_true_value(text, reason):
    assert arithmetic_reason(text) == reason


@pytest.mark.parametrize("text", [
    "12 × 3 = 36", "1245 ÷ 15 = 83", "10 / 3 = 3.33", "10 / 3 = 3 full boxes", "50 - 10 = 5 * 8 = 40",
    "3 * 4 = 12 - 2 = 10", "The answer is 36.", "x = 5", "25% of 80 = 20", "$1,150 * 50 = $57,500",
    "agent_2 is right: my 3 * 4 = 14 was a mistake.", "\\frac{3}{4} \\times 20 = 15",
])
def test_right_unreadable_or_quoted_calculations_are_left_alone(text):
    assert arithmetic_reason(text) is None


QUESTION = "Ben has 3 bags of 4 apples and eats 2. How many are left?"


def test_a_wrong_message_is_marked_where_it_leaves_every_correct_path():
    known = correct_paths(QUESTION, SOLUTION, "10", ["Ben has 3 * 4 = 12 apples, 12 - 2 = 10 left."])
    # 14 is no correct value; the numbers the question gives never are errors.
    i, why, _ = off_path(["He has 3 bags of 4 apples.", "So 3 * 4 = 14.", "14 - 2 = 12."], known, "10", "12")
    assert (i, why) == (1, "14 appears in no correct solution, and the question does not give it")
    # Every value on a correct path: the wrong final answer alone is marked, and the reason says so.
    i, why, _ = off_path(["3 * 4 = 12 apples.", "He has 12 left."], known, "10", "12", QUESTION)
    assert i == 1 and why.startswith("every value before it is on a correct path; the final answer 12 is wrong")
    # A correct answer reached, then rejected.
    i, why, _ = off_path(["3 * 4 = 12, 12 - 2 = 10.", "However, this answer is not correct.", "It is 11."],
                         known | {11.0}, "10", "11")
    assert i == 1 and "rejects 10" in why
    # A value quoted in a sentence that calls it wrong is no claim of the step.
    i, why, _ = off_path(["agent_2 is wrong: 3 * 4 = 14 is a mistake.", "So 3 * 4 = 15."], known, "10", "15")
    assert i == 1 and why.startswith("15 appears")
    # No step states the final answer: nothing is guessed.
    assert off_path(["3 * 4 = 12 apples.", "So some are left."], known, "10", "11") is None


def test_a_misread_quantity_names_what_the_question_gives():
    question = "She buys cartons with 15 servings per carton at a cost of $4.00 per carton. After 60 days ..."
    assert misread("Each carton has 4 servings.", question) == \
        "the question gives 4 for “cost of $4.00 per carton”; its servings number 15"
    assert misread("She needs 60 / 15 = 4 cartons.", question) is None  # a result is no misread
    assert misread("Over 60 days she eats 60 servings.", question, {(60.0, "serving")}) is None  # a correct path's


def test_outcome_never_marks_a_number_the_question_gives_and_uses_correct_agents():
    right = "Ben has 3 * 4 = 12 apples.\n\nHe eats 2, so 12 - 2 = 10.\n\nThe answer is 10."
    wrong = "Ben has 3 bags and 4 apples, 3 + 4 = 7 apples.\n\nHe eats 2, so 7 - 2 = 5.\n\nThe answer is 5."
    msgs = pd.DataFrame([message("r", "agent_1", 1, right, True), message("w", "agent_2", 1, wrong, False)])
    msgs["meta_json"] = "{}"  # no reference solution: the correct agent is the only correct path
    steps = pd.DataFrame([{"step_id": f"{m}{i}", "message_id": m, "idx": i, "text": t}
                          for m, text in (("r", right), ("w", wrong)) for i, t in enumerate(text.split("\n\n"))])
    got = autolab.outcome_labels(msgs, steps)
    negative = got[got["value"] < 0]
    assert negative["step_id"].tolist() == ["w0"]
    assert negative["note"].iloc[0] == "7 appears in no correct solution, and the question does not give it"


def test_arithmetic_labeler_marks_every_wrong_calculation_with_its_reason():
    text = "Ben has 3 * 4 = 14 apples.\n\nHe eats 2, so 14 - 2 = 12.\n\nThe answer is 12."
    msgs = pd.DataFrame([message("w", "agent_1", 1, text, False)])
    steps = pd.DataFrame([{"step_id": f"w{i}", "message_id": "w", "idx": i, "text": t}
                          for i, t in enumerate(text.split("\n\n"))])
    got = autolab.arithmetic_labels(msgs, steps)
    assert got[["step_id", "value", "note"]].values.tolist() == [["w0", -1.0, "3 × 4 = 14, but 3 × 4 is 12"]]


def test_the_debate_signal_marks_the_step_that_first_wrote_the_criticised_value():
    wrong = ("Step 1: The ages are 20, 23 and 20.\nStep 2: 20 + 23 + 20 = 63.\nStep 3: Thus, the sum of their ages "
             "is 63 years.")
    critique = "agent_1, your step 3 is wrong: the ages should be 20, 23 and 25."
    msgs = pd.DataFrame([message("a1", "agent_1", 1, wrong, False, seq=0),
                         message("b1", "agent_2", 1, "The sum is 20 + 23 + 25 = 68.", True, seq=1),
                         message("b2", "agent_2", 2, critique, True, seq=2)])
    steps = pd.DataFrame([{"step_id": f"a1-{i}", "message_id": "a1", "idx": i, "text": t}
                          for i, t in enumerate(wrong.split("\n"))]
                         + [{"step_id": "b1-0", "message_id": "b1", "idx": 0, "text": "The sum is 20 + 23 + 25 = 68."},
                            {"step_id": "b2-0", "message_id": "b2", "idx": 0, "text": critique}])
    got = autolab.debate_labels(msgs, steps)
    assert got["step_id"].tolist() == ["a1-1"] and "critique" in got["note"].iloc[0]


def test_the_gold_set_meets_the_goal_with_the_cpu_defaults():
    gold = load_gold_set()
    assert len(gold.messages) >= 50 and set(gold.kind.values()) == set(KINDS)
    figures = {f.source: f for f in gold_set_report()}
    export = figures[EXPORT]
    assert export.coverage >= 0.4 and export.precision >= 0.8 and export.false_alarms <= 0.1
    assert {"auto:arith", "auto:outcome", "auto:debate"} <= set(figures)
    arith = figures["auto:arith"]
    assert arith.precision == 1.0 and arith.recall_by_kind["arithmetic"][0] >= 10


def test_a_gold_set_whose_first_error_is_in_no_step_is_refused(tmp_path):
    line = json.loads(GOLD_SET.read_text().splitlines()[0])
    line["messages"][1]["first_error"] = "words the message never says"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(line) + "\n")
    with pytest.raises(Exception, match="no step holds the first error"):
        load_gold_set(bad)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_card_shows_each_automatic_suggestion_with_its_reason():
    wrong = "Ben has 3 * 4 = 14 apples.\n\nHe eats 2, so 14 - 2 = 12.\n\nThe answer is 12."
    store = build_store(config.store_path(), [message("m1", "agent_1", 1, wrong, False)])
    segment_runs(store, None, SegmentConfig())
    autolab.run_auto_labelers(store, autolab.AutoLabelConfig(sources=["auto:arith"]))
    store.close()
    at = labeling_page()
    cards = {c["text"]: c for c in _card(at)["cards"]}
    assert cards["Ben has 3 * 4 = 14 apples."]["suggestions"] == [
        {"source": "auto:arith", "value": -1, "reason": "3 × 4 = 14, but 3 × 4 is 12"}]
    assert cards["The answer is 12."]["suggestions"] == []
