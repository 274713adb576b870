"""The split packages: stable import paths, one shared solve prompt, CLI areas registered with func."""
from __future__ import annotations

import argparse
import sys
import types

import pandas as pd
import pytest

import agentark.cli as cli
import agentark.debate as debate
import agentark.tasks as tasks
from agentark.debate import DebateConfig
from agentark.training_sets import ExportConfig
from agentark.training_sets.rsft_set import rsft_rows
from agentark.tasks import Problem


@pytest.mark.parametrize("package", [tasks, debate])
def test_every_reexported_name_resolves(package: types.ModuleType) -> None:
    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert not missing


def test_old_import_paths_keep_working() -> None:
    from agentark.debate import METHODS, AgentSpec, Decision, Turn, answer_changes, build_engines, run_chunk  # noqa: F401
    from agentark.tasks import ColumnMap, LoadReport, dataset_choices, generate_arithmetic, load_problems  # noqa: F401

    assert set(METHODS) == {"cot", "self_consistency", "debate", "mad", "critique"}


def test_solve_prompt_is_one_constant_shared_by_debates_rollouts_and_exports(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentark.debate import prompts
    from agentark.labels.montecarlo import MCConfig, rollout_request

    assert debate.SOLVE_PROMPT is prompts.SOLVE_PROMPT
    # Rewording the one constant must reach every consumer: none may keep its own copy.
    monkeypatch.setattr(prompts, "SOLVE_PROMPT", "Q: {question}")
    question = "What is 2 + 3?"
    expected = [{"role": "user", "content": "Q: What is 2 + 3?"}]
    assert debate.solve_messages(question) == expected

    problem = Problem("p1", "t", "test", question, "5")
    for method in ("cot", "self_consistency", "debate", "critique"):
        first_turns = next(debate.METHODS[method](DebateConfig(method=method)).play(problem))
        assert all(t.messages == expected for t in first_turns), method
    assert rollout_request(question, "Step 1", MCConfig(), 0).messages == expected
    answer = "2 + 3 = 5. The answer is 5."
    messages = pd.DataFrame([{"run_id": "r", "problem_id": "p1", "round": 1, "seq": 0, "is_correct": True,
                              "question": question, "content": answer, "message_id": "m", "finish_reason": "stop"}])
    rows, _ = rsft_rows(messages, ExportConfig(kind="rsft"))
    assert rows["messages"][0] == [*expected, {"role": "assistant", "content": answer}]


def test_every_command_has_a_function() -> None:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"debate", "runs", "stats", "mark", "segment", "export", "label-mc"} <= set(sub.choices)
    for name, command in sub.choices.items():
        verbs = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        # A command with verbs (``study run``, ``study show``) binds each verb instead.
        bound = [(f"{name} {verb}", p) for a in verbs for verb, p in a.choices.items()] or [(name, command)]
        for label, parser in bound:
            assert callable(parser.get_default("func")), label


def test_a_new_area_is_one_module_and_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    area = types.ModuleType("agentark.cli.cmd_hello")

    def register(sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser("hello")
        p.add_argument("name")
        p.set_defaults(func=lambda args: print(f"hello {args.name}") or 0)

    area.register = register
    monkeypatch.setitem(sys.modules, "agentark.cli.cmd_hello", area)
    monkeypatch.setattr(cli, "AREAS", (*cli.AREAS, "hello"))
    assert cli.main(["hello", "world"]) == 0
    assert capsys.readouterr().out.strip() == "hello world"
