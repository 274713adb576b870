"""Scripted responders for the scripted engine; importable by worker processes as ``tests.scripted:NAME``."""
from __future__ import annotations

import os
import re
import time

from agentark.backends import ChatRequest


def _question(request: ChatRequest) -> str:
    return request.messages[0]["content"]


def first_number(request: ChatRequest) -> str:
    """Answers with the first number of the question: wrong on most problems, but deterministic."""
    nums = re.findall(r"\d+", _question(request).split("Problem:")[-1])
    return f"Step 1: read the problem.\nThe answer is {nums[0] if nums else 0}."


def agent_index(request: ChatRequest) -> int:
    return sum(1 for m in request.messages if m["role"] == "assistant")


def echo_round(request: ChatRequest) -> str:
    """Answers with the number of assistant turns the agent has seen so far (its round minus one)."""
    return f"I have spoken {agent_index(request)} times. The answer is {agent_index(request)}."


def slow_first_number(request: ChatRequest) -> str:
    time.sleep(float(os.environ.get("SCRIPTED_DELAY_S", "0.05")))
    return first_number(request)


def sum_then_first(request: ChatRequest) -> str:
    """Round 1: the sum of the question's first two numbers (right on one-step additions); later rounds: the
    first number (wrong). One agent beats the team on every problem, with a regression per agent."""
    nums = re.findall(r"\d+", _question(request).split("Problem:")[-1])
    if agent_index(request) == 0:
        return f"Step 1: add {nums[0]} and {nums[1]}.\nThe answer is {int(nums[0]) + int(nums[1])}."
    return f"Step 1: the others are wrong; keep the first number.\nThe answer is {nums[0]}."
