"""Debate methods and the round scheduler, against a scripted engine that records every request."""
from __future__ import annotations

import pytest

from agentark.backends.base import ChatRequest
from agentark.backends.scripted import ScriptedEngine
from agentark.debate import DebateConfig, answer_changes, run_chunk
from agentark.errors import ConfigError
from agentark.tasks import Problem


def problems(n: int) -> list[Problem]:
    return [Problem(f"p{i}", "test", "test", f"What is {i} plus {i}?", str(2 * i)) for i in range(n)]


def by_agent_and_round(request: ChatRequest) -> str:
    """Round 1: every agent answers i + 1 (wrong unless i == 1); from round 2 on, the right 2 * i."""
    question = request.messages[0]["content"]
    i = int(question.split("What is ")[1].split(" ")[0])
    spoken = sum(1 for m in request.messages if m["role"] == "assistant")
    if spoken == 0:
        return f"I think it is {i + 1}.\nThe answer is {i + 1}."
    return f"Checking again: {i} + {i} = {2 * i}.\nThe answer is {2 * i}."


def test_each_round_is_one_batched_call():
    engine = ScriptedEngine(by_agent_and_round)
    cfg = DebateConfig(method="debate", agents=3, rounds=2, temperature=0.0)
    result = run_chunk(problems(4), cfg, "run", engines={"default": engine})
    assert [len(call) for call in engine.calls] == [12, 12]
    assert len(result.messages) == 4 * 3 * 2
    assert len(result.outcomes) == 4
    # Round 2 fixes every problem: all outcomes correct, and every agent changed its answer once (except i=1
    # where i + 1 == 2 * i already).
    assert all(o["is_correct"] for o in result.outcomes)
    changes = {o["problem_id"]: o["answer_changes"] for o in result.outcomes}
    assert changes == {"p0": 3, "p1": 0, "p2": 3, "p3": 3}


def test_round_two_shows_each_agent_the_others_but_not_itself():
    seen: list[ChatRequest] = []

    def responder(request: ChatRequest) -> str:
        seen.append(request)
        return f"Answer from turn {len(seen)}. The answer is {len(seen)}."

    engine = ScriptedEngine(responder)
    cfg = DebateConfig(method="debate", agents=3, rounds=2)
    result = run_chunk(problems(1), cfg, "run", engines={"default": engine})
    round1 = {m["agent"]: m["content"] for m in result.messages if m["round"] == 1}
    round2 = [m for m in result.messages if m["round"] == 2]
    assert len(seen) == 6 and len(round2) == 3  # an empty round 2 would make the loop below vacuous
    for req, msg in zip(seen[3:], round2, strict=True):
        prompt = req.messages[-1]["content"]
        me = msg["agent"]
        assert req.messages[1] == {"role": "assistant", "content": round1[me]}
        for other, text in round1.items():
            assert (text in prompt) == (other != me)


def test_messages_record_answers_and_correctness():
    engine = ScriptedEngine(lambda r: "Step 1: add.\nThe answer is 4.")
    result = run_chunk(problems(3), DebateConfig(method="cot"), "r1", engines={"default": engine})
    assert [m["answer"] for m in result.messages] == ["4", "4", "4"]
    assert [m["is_correct"] for m in result.messages] == [False, False, True]
    assert [o["is_correct"] for o in result.outcomes] == [False, False, True]
    assert result.messages[0]["message_id"] == "r1:p0:0000"
    assert all(o["engine_calls"] == 1 and o["completion_tokens"] > 0 for o in result.outcomes)


def test_majority_vote_and_aggregator():
    answers = iter(["The answer is 5.", "The answer is 6.", "The answer is 6.", "The answer is 5."])
    engine = ScriptedEngine(lambda r: next(answers))
    cfg = DebateConfig(method="debate", agents=3, rounds=1)
    result = run_chunk(problems(1), cfg, "r", engines={"default": engine})
    assert result.outcomes[0]["final_answer"] == "6"
    assert result.outcomes[0]["consensus"] == pytest.approx(2 / 3)

    answers = iter(["The answer is 5.", "The answer is 6.", "The answer is 6.", "The answer is 5."])
    engine = ScriptedEngine(lambda r: next(answers))
    cfg = DebateConfig(method="debate", agents=3, rounds=1, aggregator=True)
    result = run_chunk(problems(1), cfg, "r", engines={"default": engine})
    assert [len(c) for c in engine.calls] == [3, 1]
    assert result.messages[-1]["role"] == "aggregator"
    assert result.outcomes[0]["final_answer"] == "5"


def test_failed_completion_is_recorded_not_an_empty_answer():
    from agentark.backends.base import Completion

    class Failing:
        name, model_id = "failing", "x"

        def generate(self, requests):
            return [Completion(text="", error="HTTP 500 after 3 retries", model="x") for _ in requests]

    result = run_chunk(problems(1), DebateConfig(method="cot"), "r", engines={"default": Failing()})
    msg = result.messages[0]
    assert msg["error"] == "HTTP 500 after 3 retries" and msg["is_correct"] is None and msg["answer"] is None


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"agents": 0}, "agents must be at least 1"),
        ({"rounds": 0}, "rounds must be at least 1"),
        ({"method": "nope"}, "Unknown method"),
        ({"method": "cot", "agents": 3}, "one agent"),
        ({"temperature": 5.0}, "temperature"),
        ({"limit": 0}, "limit"),
    ],
)
def test_config_validation_names_the_fix(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        DebateConfig(**kwargs)


def test_method_defaults():
    assert (DebateConfig(method="cot").agents, DebateConfig(method="cot").rounds) == (1, 1)
    assert (DebateConfig().agents, DebateConfig().rounds) == (3, 2)
    assert DebateConfig.from_dict(DebateConfig(agents=4).to_dict()) == DebateConfig(agents=4)


def test_answer_changes_counts_per_agent():
    rows = [
        {"agent": "a", "round": 1, "role": "solver", "answer": "1"},
        {"agent": "a", "round": 2, "role": "solver", "answer": "2"},
        {"agent": "a", "round": 3, "role": "solver", "answer": "2.0"},
        {"agent": "b", "round": 1, "role": "solver", "answer": None},
        {"agent": "b", "round": 2, "role": "solver", "answer": "3"},
    ]
    assert answer_changes(rows) == 2
