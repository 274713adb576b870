"""Scripted responders that write step-by-step solutions of the built-in problems (``tests.scripted_steps:NAME``).

Round 1 (no earlier assistant turn) gets its first result wrong and carries the error on; round 2 points at
the error and writes the reference solution. Rollouts from a step prefix reach the reference answer exactly
when no result stated in the prefix contradicts the reference solution.
"""
from __future__ import annotations

import re
from functools import lru_cache

from agentark.backends import ChatRequest
from agentark.tasks.answers import intermediate_results
from agentark.tasks import generate_arithmetic


@lru_cache(maxsize=1)
def _by_question() -> dict:
    return {p.question: p for p in generate_arithmetic(100, seed=0)}


def _problem(request: ChatRequest):
    question = request.messages[0]["content"].split("Problem:")[-1].strip()
    return _by_question()[question]


def _lines(problem) -> list[str]:
    solution = problem.meta["solution"].rsplit("####", 1)[0]
    return [re.sub(r"<<[^<>]*>>", "", line).strip() for line in solution.strip().splitlines()]


def wrong_then_right(request: ChatRequest) -> str:
    problem = _problem(request)
    lines = _lines(problem)
    if not any(m["role"] == "assistant" for m in request.messages):
        first = intermediate_results(problem.meta["solution"])[0]
        bad = str(int(first) + 1)
        lines = [lines[0].rsplit(first, 1)[0] + bad + lines[0].rsplit(first, 1)[1], "So I keep going from there."]
        return "\n\n".join(lines) + f"\n\nThe answer is {int(problem.reference_answer) + 1}."
    return (f"The first step of the other solutions is wrong: it should be {intermediate_results(problem.meta['solution'])[0]}.\n\n"
            + "\n\n".join(lines) + f"\n\nThe answer is {problem.reference_answer}.")


def rollout(request: ChatRequest) -> str:
    problem = _problem(request)
    reference = set(intermediate_results(problem.meta["solution"])) | {problem.reference_answer}
    stated = re.findall(r"=\s*(-?\d+)", request.assistant_prefix or "")
    ok = all(s in reference for s in stated)
    return f" The answer is {problem.reference_answer if ok else -1}."
