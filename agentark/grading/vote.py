"""Majority votes over answers: groups of equivalent answers (``answers_equal``), the winner's share of all
votes, and whether another group tied with it."""
from __future__ import annotations

from dataclasses import dataclass

from agentark.grading.equality import answers_equal
from agentark.grading.text import answer_value


@dataclass(frozen=True)
class Vote:
    """A majority vote: the winning answer (None when no answer), its share of all votes, and whether
    another group of answers was as large (a tie, which the first-seen group wins)."""

    answer: str | None
    share: float
    tie: bool


def vote(answers: list[str | None]) -> Vote:
    """The largest group of equivalent answers, and whether it tied with another.

    None answers are not a group but still count in the denominator, so a failed agent lowers consensus.
    Ties go to the group whose first member came first (so results are reproducible) and are reported as
    ``tie``: three agents with three answers is a tie, not a decision.
    """
    groups: list[list[str]] = []  # in order of first occurrence, so max() below breaks ties by it
    for answer in answers:
        if answer is None:
            continue
        for group in groups:
            # Compare with the group's first member: tolerance equality is not transitive, so a fixed
            # representative keeps groups from drifting.
            if answers_equal(group[0], answer):
                group.append(answer)
                break
        else:
            if answer_value(answer) is not None:
                groups.append([answer])
    if not groups:
        return Vote(None, 0.0, False)
    best = max(groups, key=len)  # max() returns the first of equal-sized groups
    tie = sum(1 for g in groups if len(g) == len(best)) > 1
    return Vote(best[0], len(best) / len(answers), tie)


def majority_vote(answers: list[str | None]) -> tuple[str | None, float]:
    """(answer of the largest group of equivalent answers, its size / len(answers)); (None, 0.0) if none.
    Ties go to the group whose first member came first; ``vote`` also says whether there was one."""
    result = vote(answers)
    return result.answer, result.share
