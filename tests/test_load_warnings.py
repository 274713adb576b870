"""Dataset rows whose reference answer cannot be graded load, with a warning per row in the load report
(library and CLI); gradable covers numbers, math expressions and choice letters."""
from __future__ import annotations

import json

import pytest

from agentark.cli import main
from agentark.grading import gradable
from agentark.tasks import load_problems


@pytest.mark.parametrize("reference, expected", [
    ("72", True), ("1,234", True), ("\\frac{1}{2}", True), ("2\\sqrt{2}", True), ("(1, 3]", True), ("x^2+1", True),
    ("B", True), ("(C)", True), ("four", False), ("Paris", False), ("New York", False), ("", False), (None, False),
])
def test_gradable(reference, expected):
    assert gradable(reference) is expected


def _dataset(tmp_path):
    rows = [{"question": "What is 2+2?", "answer": "4"}, {"question": "How many legs has a cat?", "answer": "four"},
            {"question": "Capital of France?", "answer": "Paris"}, {"question": "Pick one.", "answer": "B"},
            {"question": "Simplify sqrt 8.", "answer": "2\\sqrt{2}"}]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_ungradable_answers_load_with_a_warning_per_row(tmp_path):
    report = load_problems(str(_dataset(tmp_path)))
    assert len(report.problems) == 5 and report.rejected == []
    assert [line for line, _ in report.warnings] == [2, 3]
    assert "'four' cannot be graded" in report.warnings[0][1] and "'Paris'" in report.warnings[1][1]


def test_debate_cli_prints_the_warnings(tmp_path, capsys):
    assert main(["debate", "--dataset", str(_dataset(tmp_path)), "--method", "cot", "--engine", "scripted",
                 "--model", "tests.scripted:first_number"]) == 0
    err = capsys.readouterr().err
    assert "line 2: reference answer 'four' cannot be graded" in err and "line 3: reference answer 'Paris'" in err
    assert "line 1:" not in err and "line 4:" not in err
