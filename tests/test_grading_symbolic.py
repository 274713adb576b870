"""Symbolic answers graded by math-verify: MATH's own answer forms, table-driven; the fast path for plain
numbers and words never reaches math-verify; the comparison works from any thread and is bounded in time."""
from __future__ import annotations

import threading

import pytest

from agentark.grading import symbolic
from agentark.errors import ConfigError
from agentark.grading import answers_equal, extract_answer, is_correct, majority_vote

# (reference as MATH writes it, a model's reply that is right in another form)
EQUIVALENT = [
    # radicals written two ways
    (r"\frac{\sqrt{3}}{3}", r"So the answer is $\frac{1}{\sqrt{3}}$."),
    (r"2\sqrt{2}", r"Therefore $x = \boxed{\sqrt{8}}$."),
    (r"3\sqrt{2}", r"\boxed{\sqrt{18}}"),
    (r"\frac{\sqrt{3}}{2}", r"\boxed{\frac{\sqrt3}{2}}"),
    (r"2", r"\boxed{\sqrt{4}}"),
    # sets and intervals
    (r"(-\infty, 3) \cup (5, \infty)", r"\boxed{(-\infty,3)\cup(5,\infty)}"),
    (r"\{1,2\}", r"\boxed{\{2,1\}}"),
    (r"[2,5)", r"The solution set is \boxed{[2, 5)}."),
    (r"[1,3]", r"\boxed{x \in [1, 3]}"),
    # polynomials in another form
    (r"x^2+2x+1", r"\boxed{(x+1)^2}"),
    (r"x^{2}-1", r"\boxed{(x-1)(x+1)}"),
    (r"x+1", r"\boxed{1+x}"),
    # degrees
    (r"30^\circ", r"\boxed{30}"),
    (r"60", r"The angle is \boxed{60^{\circ}}."),
    # fractions and pi
    (r"\frac{3}{4}", r"\boxed{0.75}"),
    (r"\frac{1}{2}", r"\boxed{\dfrac12}"),
    (r"\frac{\pi}{2}", r"\boxed{\pi/2}"),
    # \boxed{} in the reference itself, points
    (r"\boxed{\frac{\sqrt{3}}{2}}", r"\boxed{\frac{1}{2}\sqrt{3}}"),
    (r"\left(3, \frac{\pi}{2}\right)", r"\boxed{(3,\frac{\pi}{2})}"),
]

# reference -> replies close to it that are wrong
DIFFERENT = {
    r"[2,5)": [r"\boxed{(2,5)}"],
    r"(1,2)": [r"\boxed{(2,1)}"],
    r"2\sqrt{2}": [r"\boxed{\sqrt{2}}"],
    r"x^2+2x+1": [r"\boxed{(x-1)^2}"],
    r"\{1,2\}": [r"\boxed{\{1,2,3\}}"],
    r"\frac{\pi}{2}": [r"\boxed{\pi}"],
    "B": [r"\boxed{C}"],
    "Paris": [r"The answer is pairs"],  # words are never read as products of variables
    "4": ["The answer is four"],
}


@pytest.mark.parametrize("reference, reply", EQUIVALENT)
def test_math_answer_forms_that_are_equal(reference, reply):
    assert is_correct(extract_answer(reply), reference)


@pytest.mark.parametrize("reference, reply", [(ref, reply) for ref, replies in DIFFERENT.items() for reply in replies])
def test_math_answer_forms_that_differ(reference, reply):
    assert not is_correct(extract_answer(reply), reference)


def test_majority_vote_groups_symbolically_equal_answers():
    answer, share = majority_vote([r"2\sqrt{2}", r"\sqrt{8}", "3", r"\sqrt{8}"])
    assert answer == r"2\sqrt{2}" and share == 0.75


def test_plain_numbers_words_and_choices_never_reach_math_verify(monkeypatch):
    def refuse(*args):
        raise AssertionError("math-verify called on an answer the fast path decides")

    monkeypatch.setattr(symbolic, "symbolic_equal", refuse)
    cases = [("72", "72.0", True), ("1,234", "1234", True), ("1/2", "0.5", True), ("3", "4", False),
             ("45%", "45", True), ("Paris", "paris", True), ("Paris", "London", False), ("B", "C", False)]
    for a, b, equal in cases:
        assert answers_equal(a, b) is equal, (a, b)
    assert is_correct(extract_answer("Natalia sold 48/2 = 24 clips.\n#### 72"), "72")


def test_symbolic_comparison_from_another_thread_uses_the_helper_process():
    symbolic.symbolic_equal.cache_clear()
    results: dict[str, bool] = {}

    def grade() -> None:
        results["equal"] = is_correct(extract_answer(r"\boxed{\sqrt{18}}"), r"3\sqrt{2}")
        results["different"] = is_correct(extract_answer(r"\boxed{\sqrt{2}}"), r"3\sqrt{2}")

    worker = threading.Thread(target=grade)
    worker.start()
    worker.join(timeout=180)
    try:
        assert results == {"equal": True, "different": False}
    finally:
        symbolic._HELPER.stop()
        symbolic.symbolic_equal.cache_clear()


def test_a_helper_that_does_not_answer_in_time_is_replaced(monkeypatch):
    class Silent:
        def send(self, message):
            pass

        def poll(self, timeout):
            return False

    class Process:
        killed = False

        def is_alive(self):
            return True

        def kill(self):
            Process.killed = True

        def join(self):
            pass

    helper = symbolic._Helper()
    helper._process, helper._conn = Process(), Silent()
    assert helper.compare("1", "x", 1) is False
    assert Process.killed and helper._process is None


def test_timeout_setting_is_checked(monkeypatch):
    monkeypatch.setenv("AGENTARK_SYMBOLIC_TIMEOUT", "0.5")
    with pytest.raises(ConfigError, match="AGENTARK_SYMBOLIC_TIMEOUT"):
        symbolic.symbolic_timeout_s()
    monkeypatch.setenv("AGENTARK_SYMBOLIC_TIMEOUT", "2")
    assert symbolic.symbolic_timeout_s() == 2
