"""Degenerate steps (word salad, repetition loops, another language mid-answer) are never exported as good: the PRM
export cuts a message before them or leaves it out, and says how many."""
from __future__ import annotations

import pandas as pd
import pytest

from agentark.runs.degenerate import (LANGUAGE_STEP, LOOP_STEP, SALAD_STEP, degenerate_step_reason,
                                      first_degenerate_step)
from agentark.training_sets import ExportConfig
from agentark.training_sets.export_summary import ExportSummary
from agentark.training_sets.prm_set import prm_rows

SALAD = ("quantum purple elephant seventeen bicycle harmonica volcano spreadsheet lantern orchid "
         "saxophone glacier pinwheel turbine marmalade")
LOOP = "We need to check. " * 8
CHINESE = "所以我们需要计算总共的苹果数量然后减去吃掉的数量"
QUESTION = "Ben has 3 bags of 4 apples and eats 2. How many are left?"


@pytest.mark.parametrize("text, earlier, reason", [
    (SALAD, [], SALAD_STEP),
    ("zxq#@ vvb%% qqq!! rrt## ppw$$ 88&& kkj** mmn^^ bbv!! ccx?? zzq## lll@@", [], SALAD_STEP),
    (LOOP, [], LOOP_STEP),
    ("Let me check the answer again.", ["Let me check the answer again."] * 2, LOOP_STEP),
    (f"Step 3: {CHINESE}", [], LANGUAGE_STEP),
])
def test_degenerate_steps_are_found(text, earlier, reason):
    assert degenerate_step_reason(text, earlier, QUESTION) == reason


@pytest.mark.parametrize("text", [
    "Step 2: Then find the total amount Jill makes per week coaching: $30/hour * 15 hours/week = $450/week",
    "Cheesecakes cost 6 * 55 = $330.",
    "\\frac{3}{4} \\times 20 = 15 liters of water, so the answer is 15.",
    "Let me check the answer again.",
    "The answer is 10.",
])
def test_ordinary_steps_pass(text):
    assert degenerate_step_reason(text, ["Let me check the answer again."], QUESTION) is None


def test_a_question_in_another_script_is_no_switch():
    assert degenerate_step_reason(CHINESE, [], "苹果有多少个？") is None


def _frames(contents: dict[str, tuple[bool, list[str]]]):
    messages = pd.DataFrame([{"message_id": m, "is_correct": ok} for m, (ok, _) in contents.items()])
    steps = pd.DataFrame([{"step_id": f"{m}-{i}", "message_id": m, "idx": i, "text": t, "claim": True,
                           "question": QUESTION, "run_id": "r", "problem_id": "p"}
                          for m, (_, texts) in contents.items() for i, t in enumerate(texts)])
    return messages, steps


def test_the_prm_export_cuts_before_a_degenerate_step_or_leaves_the_message_out():
    messages, steps = _frames({
        "right": (True, ["3 * 4 = 12 apples.", "12 - 2 = 10 are left.", SALAD, SALAD + " again"]),
        "wrong": (False, ["3 * 4 = 12 apples.", SALAD, "12 - 2 = 9.", "The answer is 9."]),
        "early": (False, ["3 * 4 = 14 apples.", SALAD]),
        "first": (True, [SALAD, "The answer is 10."]),
    })
    labels = pd.DataFrame([
        {"step_id": "right-0", "source": "auto:outcome", "value": 1.0},
        {"step_id": "right-1", "source": "auto:outcome", "value": 1.0},
        {"step_id": "right-2", "source": "auto:outcome", "value": 1.0},
        {"step_id": "wrong-2", "source": "auto:arith", "value": -1.0},
        {"step_id": "early-0", "source": "auto:arith", "value": -1.0},
        {"step_id": "first-1", "source": "auto:outcome", "value": 1.0},
    ])
    cut: dict[str, int] = {}
    rows, dropped = prm_rows(messages, steps, labels, ExportConfig(kind="prm"), cut)
    got = {r.message_id: (list(r.completions), list(r.labels)) for r in rows.itertuples()}
    # Cut before the salad: the right message keeps its two sound steps; the early error is before the salad.
    assert got == {"right": (["3 * 4 = 12 apples.", "12 - 2 = 10 are left."], [True, True]),
                   "early": (["3 * 4 = 14 apples."], [False])}
    assert cut == {SALAD_STEP: 1}
    # The wrong message's first error comes after the salad, and the right one starts with it: both left out.
    assert dropped == {SALAD_STEP: 2}
    summary = ExportSummary("prm", len(rows), dropped, cut=cut)
    assert f"cut 1 message(s) before the step: {SALAD_STEP}" in summary.lines()
    assert summary.to_dict()["cut"] == {SALAD_STEP: 1}
    # Kept on request: nothing is cut.
    rows, dropped = prm_rows(messages, steps, labels, ExportConfig(kind="prm", drop_degenerate=False))
    assert len(rows[rows["message_id"] == "right"].iloc[0]["completions"]) == 4


def test_first_degenerate_step_names_the_first():
    assert first_degenerate_step(["3 * 4 = 12.", SALAD, LOOP], QUESTION) == (1, SALAD_STEP)
    assert first_degenerate_step(["3 * 4 = 12.", "12 - 2 = 10."], QUESTION) is None
