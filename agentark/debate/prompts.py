"""Every prompt a debate method sends, and the one solve prompt the rest of the studio shares.

Design decision: ``SOLVE_PROMPT`` is the single place the first-turn wording lives. Debates ask it, SFT
exports train on it and evaluation and Monte-Carlo rollouts ask it again, so a distilled model is tested on
exactly the prompt it learned from; build the messages with ``solve_messages`` rather than formatting it.
"""
from __future__ import annotations

from typing import Iterable

SOLVE_PROMPT = (
    "Solve the following math problem. Reason step by step, then give the final answer on its own line "
    "as 'The answer is N.'\n\nProblem: {question}"
)
DEBATE_PROMPT = (
    "Other agents solved the same problem. Their latest solutions:\n\n{others}\n\n"
    "Use their reasoning as extra evidence: check each of their steps and yours, keep what is right and fix "
    "what is wrong. Then write your own updated solution, ending with 'The answer is N.'\n\nProblem: {question}"
)
AGGREGATOR_PROMPT = (
    "Several agents debated this problem and ended with these solutions:\n\n{others}\n\n"
    "Decide which final answer is correct. Explain briefly, then end with 'The answer is N.'\n\n"
    "Problem: {question}"
)


AFFIRMATIVE_PROMPT = (
    "You are the affirmative side of a debate about the answer to a math problem. Solve it step by step and "
    "defend your answer, ending with 'The answer is N.'\n\nProblem: {question}"
)
NEGATIVE_PROMPT = (
    "You are the negative side of a debate about the answer to a math problem. The affirmative side "
    "argued:\n\n```\n{argument}\n```\n\nLook hard for mistakes in that argument and give your own solution. "
    "Agree only if every step holds. End with 'The answer is N.'\n\nProblem: {question}"
)
REBUTTAL_PROMPT = (
    "The other side replied:\n\n```\n{argument}\n```\n\nAnswer their points: keep what is right, concede "
    "what is wrong, and end with your current 'The answer is N.'"
)
JUDGE_PROMPT = (
    "You moderate a debate about this math problem.\n\nProblem: {question}\n\n{transcript}\n\n{instruction}"
)
JUDGE_CONTINUE = (
    "If one side is clearly right, reply with a short reason and 'The answer is N.' If the debate should "
    "go on, reply with exactly one word: CONTINUE."
)
JUDGE_FINAL = "The debate is over. Decide which answer is correct, give a short reason and end with 'The answer is N.'"


CRITIC_PROMPT = (
    "You review solutions to a math problem.\n\nProblem: {question}\n\n{solutions}\n\nCheck every step. "
    "Point out each error you find and how to fix it. End with one line: ACCEPT if all solutions are "
    "correct, or REVISE if any is wrong."
)
REVISE_PROMPT = (
    "Reviewers commented on the solutions:\n\n{critiques}\n\nRevise your solution: fix what they showed to "
    "be wrong, keep what is right, and end with 'The answer is N.'"
)


def solve_messages(question: str, template: str | None = None) -> list[dict[str, str]]:
    """The chat that asks one agent to solve ``question``: the first turn of every method. ``template`` replaces
    ``SOLVE_PROMPT`` for a model trained on another wording (its model card records it)."""
    return [{"role": "user", "content": (template or SOLVE_PROMPT).format(question=question)}]


def format_others(records: Iterable[dict]) -> str:
    """Other agents' latest solutions, fenced and named, for the debate, aggregator and critic prompts."""
    return "\n\n".join(f"{r['agent']}'s solution:\n```\n{r['content'].strip()}\n```" for r in records)
