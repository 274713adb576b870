"""Tests for agentark.tasks: the built-in generator, local files, and the Hugging Face path (faked)."""
from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import types
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from agentark.errors import DatasetError
from agentark.tasks import (
    ColumnMap,
    LoadReport,
    Problem,
    dataset_choices,
    generate_arithmetic,
    load_problems,
    problem_id,
)

SHARED_GSM8K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gsm8k"
ANNOTATION = re.compile(r"<<([^=<>]+)=([^<>]+)>>")


# ---------------------------------------------------------------------------------------------------------
# A tiny safe evaluator for calculator annotations: integers, + - * /, parentheses, unary minus. No eval.
# ---------------------------------------------------------------------------------------------------------

_OPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def safe_eval(expr: str) -> Fraction:
    def walk(node: ast.AST) -> Fraction:
        match node:
            case ast.Expression(body=body):
                return walk(body)
            case ast.Constant(value=value) if type(value) is int:
                return Fraction(value)
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return -walk(operand)
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _OPS:
                return _OPS[type(op)](walk(left), walk(right))
        raise ValueError(f"not plain arithmetic: {ast.dump(node)}")

    return walk(ast.parse(expr, mode="eval"))


def operation_count(solution: str) -> int:
    return sum(
        sum(isinstance(n, ast.BinOp) for n in ast.walk(ast.parse(expr, mode="eval")))
        for expr, _ in ANNOTATION.findall(solution)
    )


def test_safe_eval_refuses_anything_but_arithmetic() -> None:
    assert safe_eval("2*(3+4)-10/5") == 12
    with pytest.raises(ValueError):
        safe_eval("__import__('os').getcwd()")


# ---------------------------------------------------------------------------------------------------------
# Built-in generator
# ---------------------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_problems() -> None:
    assert generate_arithmetic(30, seed=7) == generate_arithmetic(30, seed=7)
    assert load_problems("builtin:arithmetic", seed=7).problems == load_problems("builtin:arithmetic", seed=7).problems


def test_different_seed_gives_different_problems() -> None:
    a = [p.question for p in generate_arithmetic(30, seed=1)]
    b = [p.question for p in generate_arithmetic(30, seed=2)]
    assert a != b
    assert len(set(a) & set(b)) < 5


def test_limit_takes_the_first_generated() -> None:
    full = load_problems("builtin:arithmetic").problems
    assert len(full) == 100
    assert load_problems("builtin:arithmetic", limit=12).problems == full[:12]
    assert generate_arithmetic(12) == full[:12]


@pytest.mark.parametrize("difficulty", [None, 1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1, 42])
def test_answers_are_exact_and_annotations_recompute(difficulty: int | None, seed: int) -> None:
    for problem in generate_arithmetic(60, seed=seed, difficulty=difficulty):
        solution = problem.meta["solution"]
        final = solution.strip().splitlines()[-1]
        assert final == f"#### {problem.reference_answer}"
        assert re.fullmatch(r"-?\d+", problem.reference_answer)
        annotations = ANNOTATION.findall(solution)
        assert annotations, solution
        for expr, shown in annotations:
            assert safe_eval(expr) == Fraction(int(shown)), (expr, shown, problem.question)
        # The last calculation is the answer.
        assert annotations[-1][1] == problem.reference_answer
        if problem.meta["template"] != "temperature_change":
            assert int(problem.reference_answer) >= 0, problem.question
            assert all(int(shown) >= 0 for _, shown in annotations), solution


def test_difficulty_levels_differ_in_operation_count() -> None:
    counts = {
        level: [operation_count(p.meta["solution"]) for p in generate_arithmetic(80, seed=3, difficulty=level)]
        for level in (1, 2, 3)
    }
    assert all(1 <= c <= 2 for c in counts[1])
    assert all(c == 3 for c in counts[2])
    assert all(c >= 4 for c in counts[3])
    for level in (1, 2, 3):
        assert all(p.meta["difficulty"] == level for p in generate_arithmetic(20, seed=3, difficulty=level))


def test_hard_problems_use_bigger_numbers() -> None:
    def biggest(level: int) -> float:
        problems = generate_arithmetic(50, seed=5, difficulty=level)
        return sum(max(int(n) for n in re.findall(r"\d+", p.question)) for p in problems) / len(problems)

    assert biggest(3) > biggest(1)


def test_at_least_eight_templates_in_a_hundred_problems() -> None:
    problems = load_problems("builtin:arithmetic").problems
    assert len({p.meta["template"] for p in problems}) >= 8
    assert {p.meta["difficulty"] for p in problems} == {1, 2, 3}
    # Names and items vary too: the questions do not repeat and most opening words differ.
    assert len({p.question for p in problems}) == 100
    assert len({p.question.split()[0] for p in problems}) >= 15


def test_builtin_ids_are_stable_unique_content_hashes() -> None:
    first = load_problems("builtin:arithmetic").problems
    again = load_problems("builtin:arithmetic").problems
    assert [p.problem_id for p in first] == [p.problem_id for p in again]
    assert len({p.problem_id for p in first}) == len(first)
    p = first[0]
    assert p.problem_id == hashlib.sha1(p.question.casefold().encode()).hexdigest()[:16]
    for level in ("easy", "medium", "hard"):
        problems = load_problems(f"builtin:arithmetic-{level}", limit=40).problems
        assert len({q.problem_id for q in problems}) == 40
        assert all(q.dataset == f"builtin:arithmetic-{level}" for q in problems)


def test_builtin_split_is_recorded_and_other_splits_differ() -> None:
    test = load_problems("builtin:arithmetic", limit=20).problems
    train = load_problems("builtin:arithmetic", limit=20, split="train").problems
    assert {p.split for p in test} == {"test"} and {p.split for p in train} == {"train"}
    assert [p.question for p in test] != [p.question for p in train]


def test_builtin_report_and_problem_shape() -> None:
    report = load_problems("builtin:arithmetic-hard", limit=3, seed=9)
    assert isinstance(report, LoadReport) and report.rejected == [] and "seed 9" in report.source
    problem = report.problems[0]
    assert isinstance(problem, Problem)
    assert set(problem.meta) == {"template", "difficulty", "solution"}
    json.dumps(problem.meta)  # stored as meta_json
    with pytest.raises(Exception):
        problem.question = "changed"  # type: ignore[misc]


def test_bad_generator_arguments_are_dataset_errors() -> None:
    with pytest.raises(DatasetError, match="difficulty"):
        generate_arithmetic(5, difficulty=4)
    with pytest.raises(DatasetError):
        generate_arithmetic(-1)
    with pytest.raises(DatasetError, match="limit"):
        load_problems("builtin:arithmetic", limit=0)
    with pytest.raises(DatasetError, match="Unknown dataset"):
        load_problems("builtin:geometry")
    assert generate_arithmetic(0) == []


def test_dataset_choices() -> None:
    choices = dataset_choices()
    assert choices[:5] == [
        "builtin:arithmetic",
        "builtin:arithmetic-onestep",
        "builtin:arithmetic-easy",
        "builtin:arithmetic-medium",
        "builtin:arithmetic-hard",
    ]
    assert "gsm8k" in choices
    for spec in choices[:5]:
        assert load_problems(spec, limit=2).problems


def test_onestep_level_is_one_addition_of_one_digit_numbers() -> None:
    problems = load_problems("builtin:arithmetic-onestep").problems
    assert len({p.question for p in problems}) == 100 and {p.dataset for p in problems} == {"builtin:arithmetic-onestep"}
    for p in problems:
        (expr, shown), = ANNOTATION.findall(p.meta["solution"])  # exactly one calculation
        a, b = re.fullmatch(r"(\d)\+(\d)", expr).groups()
        assert 2 <= int(a) <= 9 and 2 <= int(b) <= 9 and int(shown) == safe_eval(expr) == int(p.reference_answer)
        assert p.meta["difficulty"] == 0 and p.meta["solution"].endswith(f"#### {p.reference_answer}")
    assert len({p.question.split()[1] for p in problems}) >= 3  # the stories vary ("has", "are", "picks")
    assert load_problems("builtin:arithmetic-onestep", limit=10).problems == problems[:10]


def test_splits_share_no_question_and_ids_follow_the_question() -> None:
    for spec in ("builtin:arithmetic", "builtin:arithmetic-onestep"):
        test = load_problems(spec, limit=1000).problems
        train = load_problems(spec, limit=300, split="train").problems
        # Ids follow the question, so a question both streams drew would be one problem: train skips them.
        assert not {p.question for p in test} & {p.question for p in train}
        assert not {p.problem_id for p in test} & {p.problem_id for p in train}
        assert train[0].problem_id == problem_id(train[0].question) and train[0].split == "train"
    assert generate_arithmetic(5, split="train") == load_problems("builtin:arithmetic", limit=5, split="train").problems


def test_problem_ids_follow_the_normalised_question() -> None:
    base = problem_id("Janet has 3 apples. How many?")
    assert problem_id("  janet has 3\tapples.\n How many? ") == base
    assert problem_id("Janet\u00a0has 3 apples. How many?") == base
    assert problem_id("Janet has 4 apples. How many?") != base


# ---------------------------------------------------------------------------------------------------------
# Local files
# ---------------------------------------------------------------------------------------------------------


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_with_malformed_lines_keeps_the_good_ones(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            json.dumps({"question": "What is 2+2?", "answer": "2+2=<<2+2=4>>4\n#### 4"}),
            '{"question": "broken", "answer": ',
            json.dumps({"question": "No answer here"}),
            json.dumps({"question": "   ", "answer": "3"}),
            json.dumps({"question": "What is 1,000 + 234?", "answer": "#### 1,234"}),
            json.dumps({"question": "Bare answer?", "answer": " 7 "}),
        ],
    )
    report = load_problems(str(path))
    assert [p.reference_answer for p in report.problems] == ["4", "1234", "7"]
    assert [n for n, _ in report.rejected] == [2, 3, 4]
    reasons = dict(report.rejected)
    assert "JSON" in reasons[2]
    assert "answer" in reasons[3]
    assert "empty" in reasons[4] and "question" in reasons[4]
    first = report.problems[0]
    assert first.meta["solution"] == "2+2=<<2+2=4>>4\n#### 4"
    assert "solution" not in report.problems[2].meta
    assert first.dataset == f"file:{path.resolve()}"
    assert first.split == "test"
    assert report.source == str(path.resolve())


def test_jsonl_blank_lines_are_skipped_and_numbering_kept(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    path.write_text('{"question": "a?", "answer": "1"}\n\n   \nnot json\n{"question": "b?", "answer": "2"}\n')
    report = load_problems(f"file:{path}")
    assert len(report.problems) == 2
    assert report.rejected[0][0] == 4


def test_file_with_no_good_rows_lists_rejections(tmp_path: Path) -> None:
    lines = ["{oops", json.dumps({"question": "q?"}), json.dumps({"question": "", "answer": "1"}), "[1, 2"]
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    with pytest.raises(DatasetError) as info:
        load_problems(str(path))
    message = str(info.value)
    assert "no usable problems" in message
    assert all(f"line {n}" in message for n in (1, 2, 3, 4))
    # When the readable lines match no layout, the lines that could not be read are named as well.
    odd = write_jsonl(tmp_path / "odd.jsonl", ["{oops", json.dumps({"text": "q?"})])
    with pytest.raises(DatasetError, match="line 1: not valid JSON"):
        load_problems(str(odd))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DatasetError, match="no rows"):
        load_problems(str(empty))


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "problems.jsonl"
    with pytest.raises(DatasetError, match=re.escape(str(missing))):
        load_problems(str(missing))
    with pytest.raises(DatasetError, match="not found"):
        load_problems(f"file:{missing}")


def test_unknown_spec_lists_the_choices() -> None:
    with pytest.raises(DatasetError) as info:
        load_problems("squad")
    message = str(info.value)
    assert "Unknown dataset 'squad'" in message
    assert "builtin:arithmetic" in message and "gsm8k" in message and ".jsonl/.json/.parquet/.csv" in message
    with pytest.raises(DatasetError, match="Unknown dataset"):
        load_problems("")


def test_unsupported_extension_and_folder(tmp_path: Path) -> None:
    text_file = tmp_path / "problems.txt"
    text_file.write_text("What is 1+1? 2")
    with pytest.raises(DatasetError, match=r"\.jsonl"):
        load_problems(str(text_file))
    with pytest.raises(DatasetError, match="folder"):
        load_problems(str(tmp_path))


def test_unknown_columns_ask_for_a_mapping(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "odd.jsonl", [json.dumps({"prompt": "1+1?", "target": "2"})])
    with pytest.raises(DatasetError) as info:
        load_problems(str(path))
    message = str(info.value)
    assert "'prompt'" in message and "'target'" in message
    assert "column mapping" in message and "--question-col" in message


def test_column_mapping(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "custom.jsonl",
        [
            json.dumps({"uid": "a1", "prompt": "1+1?", "target": 2, "level": "easy"}),
            json.dumps({"uid": "a2", "prompt": "2+3?", "target": "work\n#### 5"}),
            json.dumps({"uid": "a1", "prompt": "3+3?", "target": 6}),
        ],
    )
    report = load_problems(str(path), columns=ColumnMap(question="prompt", answer="target", id="uid"))
    dataset = f"file:{path.resolve()}"
    assert [p.problem_id for p in report.problems] == [problem_id("1+1?"), problem_id("2+3?")]
    assert all(p.dataset == dataset for p in report.problems)
    assert [p.reference_answer for p in report.problems] == ["2", "5"]
    assert report.problems[0].meta == {"uid": "a1", "level": "easy"}
    assert report.rejected == [(3, "duplicate id 'a1' (first on line 1)")]
    with pytest.raises(DatasetError, match="'question_text'"):
        load_problems(str(path), columns=ColumnMap(question="question_text", answer="target"))


def test_id_column_is_used_automatically(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "ids.jsonl", [json.dumps({"id": 17, "question": "q?", "answer": "1"})])
    problem = load_problems(str(path)).problems[0]
    assert problem.problem_id == problem_id("q?") and problem.meta["id"] == "17"


def test_file_ids_are_stable_and_duplicates_rejected(tmp_path: Path) -> None:
    rows = [json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1)}) for i in range(5)]
    path = write_jsonl(tmp_path / "dup.jsonl", rows + [rows[1]])
    first = load_problems(str(path))
    second = load_problems(str(path))
    assert [p.problem_id for p in first.problems] == [p.problem_id for p in second.problems]
    assert len({p.problem_id for p in first.problems}) == 5
    assert first.rejected == [(6, "duplicate question (first on line 2)")]
    expected = hashlib.sha1(b"what is 0 + 1?").hexdigest()[:16]
    assert first.problems[0].problem_id == expected


def test_limit_takes_first_good_rows_of_a_file(tmp_path: Path) -> None:
    lines = [json.dumps({"question": f"q{i}?", "answer": str(i)}) for i in range(6)]
    lines.insert(1, "garbage")
    lines.append("more garbage")
    report = load_problems(str(write_jsonl(tmp_path / "lim.jsonl", lines)), limit=3)
    assert [p.reference_answer for p in report.problems] == ["0", "1", "2"]
    assert report.rejected == [(2, report.rejected[0][1])]  # the late bad line was never reached


def test_parquet_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "question": ["How many legs do 3 cats have?", "What is 10 - 4?"],
            "answer": ["3 * 4 = <<3*4=12>>12\n#### 12", "6"],
        }
    )
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    report = load_problems(str(path), split="train")
    assert [(p.question, p.reference_answer) for p in report.problems] == [
        ("How many legs do 3 cats have?", "12"),
        ("What is 10 - 4?", "6"),
    ]
    assert report.problems[0].meta["solution"].endswith("#### 12")
    assert {p.split for p in report.problems} == {"train"}
    numeric = tmp_path / "n.parquet"
    pd.DataFrame({"query": ["a?", "b?"], "gt": [72, 3.0]}).to_parquet(numeric)
    assert [p.reference_answer for p in load_problems(f"file:{numeric}").problems] == ["72", "3"]


def test_csv_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "question": ["Tom has 5 apples, eats 2. How many left?", "A line\nthat wraps?", ""],
            "answer": ["5 - 2 = <<5-2=3>>3\n#### 3", "11", "4"],
        }
    )
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    report = load_problems(str(path))
    assert [(p.question, p.reference_answer) for p in report.problems] == [
        ("Tom has 5 apples, eats 2. How many left?", "3"),
        ("A line\nthat wraps?", "11"),
    ]
    # Numbers are file lines where a record starts: header 1, two wrapped rows on 2-3 and 4-5, then 6.
    assert len(report.rejected) == 1 and report.rejected[0][0] == 6 and "empty" in report.rejected[0][1]


def test_json_list_file(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps([{"question": "1+1?", "answer": "2"}, "not an object", {"question": "2+2?", "answer": "4"}]))
    report = load_problems(str(path))
    assert [p.reference_answer for p in report.problems] == ["2", "4"]
    assert [n for n, _ in report.rejected] == [2]
    broken = tmp_path / "broken.json"
    broken.write_text('[{"question": "1+1?", ')
    with pytest.raises(DatasetError, match="not valid JSON"):
        load_problems(str(broken))


def loaded_layout(tmp_path: Path, rows: list[dict], answers: list[str], rejected: list[int], solution: str):
    """Load ``rows`` as a JSONL file; check the answers read, the line numbers refused and the first solution."""
    report = load_problems(str(write_jsonl(tmp_path / "layout.jsonl", [json.dumps(r) for r in rows])))
    assert [p.reference_answer for p in report.problems] == answers
    assert [n for n, _ in report.rejected] == rejected
    assert report.problems[0].meta["solution"] == solution
    return report


def test_math_layout_uses_the_last_boxed_answer(tmp_path: Path) -> None:
    rows = [
        {
            "problem": "Simplify $\\frac{2}{4}$.",
            "solution": "First $\\boxed{2}$ is wrong; really $\\frac{2}{4} = \\boxed{\\frac{1}{2}}$.",
            "level": "Level 1",
            "type": "Prealgebra",
        },
        {"problem": "Solve $x^2=4$.", "solution": "So $x = \\boxed{\\{-2, 2\\}}$ or $\\boxed{ \\pm 2 }$"},
        {"problem": "No box.", "solution": "The answer is 3."},
        {"problem": "Unbalanced.", "solution": "\\boxed{\\frac{1}{2}"},
    ]
    report = loaded_layout(tmp_path, rows, ["\\frac{1}{2}", "\\pm 2"], [3, 4], rows[0]["solution"])
    assert report.problems[0].meta["level"] == "Level 1"
    assert "boxed" in report.rejected[0][1]


def test_metamathqa_layout(tmp_path: Path) -> None:
    rows = [
        {"query": "What is 6 * 7?", "response": "6 * 7 = 42.\nThe answer is: 42", "type": "GSM_Rephrased"},
        {"query": "What is 1/2 + 1/2?", "response": "We add.\nThe answer is: 1."},
        {"query": "Missing the phrase", "response": "It is 5."},
    ]
    report = loaded_layout(tmp_path, rows, ["42", "1"], [3], rows[0]["response"])
    assert report.problems[0].meta["type"] == "GSM_Rephrased"


def test_query_gt_layout(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "gt.jsonl", [json.dumps({"query": "3+4?", "gt": "7", "response": "The answer is: 8"})])
    assert load_problems(str(path)).problems[0].reference_answer == "7"


# ---------------------------------------------------------------------------------------------------------
# GSM8K and Hugging Face specs (no network: the library is faked or made absent)
# ---------------------------------------------------------------------------------------------------------


def test_gsm8k_from_env_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_jsonl(tmp_path / "train.jsonl", [json.dumps({"question": "Q1?", "answer": "step\n#### 5"})])
    monkeypatch.setenv("AGENTARK_GSM8K_DIR", str(tmp_path))
    report = load_problems("gsm8k", split="train")
    problem = report.problems[0]
    assert problem.dataset == "gsm8k" and problem.split == "train" and problem.reference_answer == "5"
    assert problem.problem_id == hashlib.sha1(b"q1?").hexdigest()[:16]
    assert "train.jsonl" in report.source


@pytest.fixture
def fake_datasets(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("datasets")
    monkeypatch.setitem(sys.modules, "datasets", module)
    return module


def test_hf_without_library_explains_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` raise ImportError
    with pytest.raises(DatasetError) as info:
        load_problems("metamathqa")
    message = str(info.value)
    assert "pip install datasets" in message and "HF_DATASETS_OFFLINE" in message and "path" in message


@pytest.mark.parametrize("error", [ConnectionError("Couldn't reach the Hub"), FileNotFoundError("no cache"), RuntimeError("x")])
def test_hf_unreachable_explains_what_to_do(fake_datasets: types.ModuleType, error: Exception) -> None:
    def load_dataset(*args: object, **kwargs: object) -> None:
        raise error

    fake_datasets.load_dataset = load_dataset  # type: ignore[attr-defined]
    with pytest.raises(DatasetError) as info:
        load_problems("hf:someone/data:cfg")
    message = str(info.value)
    assert "someone/data" in message and "pip install datasets" in message and "HF_DATASETS_OFFLINE" in message


class FakeHFDataset:
    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows
        self.column_names = list(rows[0])

    def __iter__(self):
        return iter(self.rows)


def test_hf_specs_map_to_the_right_datasets(fake_datasets: types.ModuleType) -> None:
    calls: list[tuple] = []

    def load_dataset(name: str, config: str | None = None, split: str | None = None) -> FakeHFDataset:
        calls.append((name, config, split))
        return FakeHFDataset(
            [
                {"problem": "What is $1+1$?", "solution": "$\\boxed{2}$", "level": "Level 1"},
                {"problem": "Bad row", "solution": "no box"},
                {"problem": "What is $2+2$?", "solution": "$\\boxed{4}$", "level": "Level 1"},
            ]
        )

    fake_datasets.load_dataset = load_dataset  # type: ignore[attr-defined]
    report = load_problems("math", limit=1)
    assert calls[-1] == ("hendrycks/competition_math", None, "test")
    assert [p.reference_answer for p in report.problems] == ["2"]
    assert report.problems[0].dataset == "math"
    report = load_problems("math")
    assert report.rejected == [(2, report.rejected[0][1])] and len(report.problems) == 2
    load_problems("metamathqa", split="test", columns=ColumnMap(question="problem", answer="solution"))
    assert calls[-1] == ("meta-math/MetaMathQA", None, "train")
    report = load_problems("hf:org/name:cfg")
    assert calls[-1] == ("org/name", "cfg", "test")
    assert report.problems[0].dataset == "hf:org/name:cfg"


def test_gsm8k_spec_goes_to_hf_when_no_local_copy(
    fake_datasets: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTARK_GSM8K_DIR", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)  # so ../shared/data/gsm8k does not exist either
    calls: list[tuple] = []

    def load_dataset(name: str, config: str | None = None, split: str | None = None) -> FakeHFDataset:
        calls.append((name, config, split))
        return FakeHFDataset([{"question": "Q?", "answer": "x\n#### 9"}])

    fake_datasets.load_dataset = load_dataset  # type: ignore[attr-defined]
    report = load_problems("gsm8k")
    assert calls == [("openai/gsm8k", "main", "test")]
    assert report.problems[0].reference_answer == "9" and report.problems[0].dataset == "gsm8k"


# ---------------------------------------------------------------------------------------------------------
# The shared GSM8K copy (absent in a user's clone)
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def shared_gsm8k() -> Path:
    if not (SHARED_GSM8K / "test.jsonl").is_file():
        pytest.skip(f"GSM8K test data not present at {SHARED_GSM8K}")
    return SHARED_GSM8K


def test_shared_gsm8k_file(shared_gsm8k: Path) -> None:
    report = load_problems(str(shared_gsm8k / "test.jsonl"))
    assert len(report.problems) == 1319 and report.rejected == []
    assert report.problems[0].reference_answer == "18"
    assert report.problems[0].meta["solution"].endswith("#### 18")
    assert len({p.problem_id for p in report.problems}) == 1319
    assert all("," not in p.reference_answer for p in report.problems)


def test_shared_gsm8k_by_name(shared_gsm8k: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTARK_GSM8K_DIR", str(shared_gsm8k))
    report = load_problems("gsm8k", limit=5)
    assert len(report.problems) == 5
    assert report.problems[0].reference_answer == "18" and report.problems[0].dataset == "gsm8k"


def test_problem_seed_picks_problems_and_the_sampling_seed_does_not() -> None:
    from agentark.debate import debate_job
    from agentark.debate import DebateConfig
    from agentark.debate.debate_job import RunFolder

    def questions(**kw) -> list[str]:
        cfg = DebateConfig(method="cot", dataset="builtin:arithmetic-onestep", limit=5, engine="scripted",
                           model="tests.scripted:first_number", **kw)
        return list(RunFolder(debate_job.create_debate_run(cfg)[0]).problems()["question"])

    base = questions()
    assert questions(seed=7) == base
    assert questions(problem_seed=7) != base
    assert questions(problem_seed=7, seed=3) == questions(problem_seed=7)


def test_cli_documents_splits_levels_and_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    from agentark.cli import main

    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "builtin:arithmetic-onestep  built-in, one addition of two one-digit numbers" in out
    assert "each --split name is its own stream" in out and "--problem-seed" in out
    assert main(["datasets", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == dataset_choices()
    with pytest.raises(SystemExit):
        main(["debate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "train to distill on, test held out" in help_text and "--problem-seed" in help_text
