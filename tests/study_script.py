"""Scripted speakers for study tests (``tests.study_script:NAME``): a teacher whose debate corrects itself on some
one-step problems, and a single agent that is right on about half its samples, depending on the sampling seed."""
from __future__ import annotations

import os
import re
import time

from agentark.backends import ChatRequest


def _numbers(request: ChatRequest) -> list[int]:
    question = request.messages[0]["content"].split("Problem:")[-1]
    return [int(n) for n in re.findall(r"\d+", question)]


def teacher(request: ChatRequest) -> str:
    """Round 1 is wrong on problems whose first number is odd; later rounds are right, so those problems hold a
    correction."""
    a, b = _numbers(request)[:2]
    first_round = not any(m["role"] == "assistant" for m in request.messages)
    answer = a + b + (1 if first_round and a % 2 else 0)
    # Agents word it apart (their seeds differ), so DA finds several distinct trajectories per problem.
    return f"Add the two numbers, take {(request.seed or 0) % 3}.\n\n{a} + {b} = {answer}\n\nThe answer is {answer}."


def slow_teacher(request: ChatRequest) -> str:
    """The teacher, taking ``STUDY_DELAY_S`` seconds a reply: a study that is still running when a test kills it."""
    time.sleep(float(os.environ.get("STUDY_DELAY_S", "0.2")))
    return teacher(request)


def single(request: ChatRequest) -> str:
    """Right when the sample's seed and the first number have the same parity; its wording varies with the seed."""
    a, b = _numbers(request)[:2]
    seed = request.seed or 0
    answer = a + b if (seed + a) % 2 == 0 else a + b + 2
    return f"Sample {seed % 7}: I add {a} and {b}.\n\n{a} + {b} = {answer}\n\nThe answer is {answer}."
