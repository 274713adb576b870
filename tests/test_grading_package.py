"""Grading is a package with one module per concern, its public names still importable from
``agentark.grading``; a GSM8K solution's parts are read in ``agentark.tasks.answers``, by one rule."""
from __future__ import annotations

import importlib
import importlib.util
import inspect

import agentark.grading as grading
from agentark.tasks import answers

HOMES = {
    "text": {"to_number"},
    "extract": {"ANSWER_KINDS", "Reading", "explicit_answer", "extract_answer"},
    "choices": {"answer_choices", "choice_letter", "choice_options"},
    "reading": {"read_answer"},
    "equality": {"answers_equal", "gradable", "is_correct", "normalize_answer"},
    "vote": {"Vote", "majority_vote", "vote"},
}


def test_every_public_name_comes_from_the_module_of_its_concern():
    assert set(grading.__all__) == set().union(*HOMES.values())
    for module, names in HOMES.items():
        home = importlib.import_module(f"agentark.grading.{module}")
        for name in names:
            assert getattr(grading, name) is getattr(home, name), (module, name)
    # The package's __init__ only gathers names: every function it offers is defined in a module of its own.
    assert all(inspect.getmodule(getattr(grading, n)) is not grading for n in grading.__all__
               if callable(getattr(grading, n)))


def test_the_symbolic_helper_lives_in_grading():
    symbolic = importlib.import_module("agentark.grading.symbolic")
    assert callable(symbolic.symbolic_equal)
    assert importlib.util.find_spec("agentark.symbolic") is None


def test_gsm8k_solution_helpers_live_with_the_datasets_and_share_one_final_answer_rule():
    for name in ("gsm8k_final_answer", "reference_solution", "intermediate_results"):
        assert not hasattr(grading, name) and name in answers.__all__
    solution = "Natalia sold <<48/2=24>>24 clips.\nAltogether <<48+24=72>>1,072 clips.\n#### 1,072"
    assert answers.gsm8k_final_answer(solution) == "1072"
    # extract_reference reads a GSM8K cell by the same rule, and grading agrees with it on a whole solution.
    assert answers.extract_reference(solution, "auto", "answer")[0] == answers.gsm8k_final_answer(solution)
    assert grading.is_correct("1072", solution)
    assert answers.intermediate_results(answers.reference_solution({"answer": solution})) == ["24", "72"]
    assert "_after_hashes" not in vars(answers)
