"""What a debate did, per agent and round: answer changes classified as corrections or regressions.

A *transition* is one agent moving from one of its solver messages to its next one (round r-1 to r). It
is classified only from the stored ``is_correct`` of both messages and whether the normalized answer
changed: wrong→right is a correction, right→wrong a regression, wrong→(another) wrong a wrong-to-wrong
change; unchanged wrong and right→right are kept. A message that failed (``is_correct`` is NULL) has no
verdict, so the transitions into and out of it are skipped rather than guessed. The store computes the
same classification in SQL for the dashboard (``agentark.store.trace_tables``); the tests hold the two equal.

Also here: the word-level diff of a message against the agent's previous one (as pieces; the pages draw it
with ``agentark.ui.marks``), used by the debate viewer; the agents' column order is the store's
(``agentark.store.trace_tables.agent_order``), which lists a run's agents in it.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from agentark.grading import normalize_answer

TRANSITION_KINDS = ("correction", "regression", "wrong_to_wrong", "kept_right", "kept_wrong")
# Changes are the kinds where the answer moved; kept_* are steady states.
CHANGE_KINDS = ("correction", "regression", "wrong_to_wrong")


def classify(prev_correct: bool | None, correct: bool | None, changed: bool) -> str | None:
    """The kind of one transition, or None when either message has no verdict."""
    if prev_correct is None or correct is None:
        return None
    if not prev_correct and correct:
        return "correction"
    if prev_correct and not correct:
        return "regression"
    if prev_correct and correct:
        return "kept_right"
    return "wrong_to_wrong" if changed else "kept_wrong"


@dataclass(frozen=True)
class Transition:
    agent: str
    from_round: int
    to_round: int
    kind: str
    prev_answer: str | None
    answer: str | None


def _norm(message: Mapping) -> str | None:
    if "answer_norm" in message:
        return message["answer_norm"]
    return normalize_answer(message.get("answer"))


def agent_transitions(messages: Iterable[Mapping]) -> list[Transition]:
    """Every classified transition of every solver, in (agent, round) order.

    ``messages`` are rows with at least agent, round, role, is_correct and answer (answer_norm when stored).
    """
    by_agent: dict[str, list[Mapping]] = {}
    for m in messages:
        if m["role"] == "solver":
            by_agent.setdefault(m["agent"], []).append(m)
    out: list[Transition] = []
    for agent in sorted(by_agent):
        rows = sorted(by_agent[agent], key=lambda m: (m["round"], m.get("seq", 0)))
        for prev, cur in zip(rows, rows[1:]):
            kind = classify(_verdict(prev), _verdict(cur), _norm(prev) != _norm(cur))
            if kind is not None:
                out.append(Transition(agent, int(prev["round"]), int(cur["round"]), kind,
                                      prev.get("answer"), cur.get("answer")))
    return out


def _verdict(message: Mapping) -> bool | None:
    value = message.get("is_correct")
    # pandas hands missing booleans over as NaN or pd.NA; both mean "no verdict".
    if value is None or value != value or str(value) == "<NA>":
        return None
    return bool(value)


def count_transitions(messages: Iterable[Mapping]) -> dict[str, int]:
    """How many transitions of each kind a debate (or any set of messages) contains."""
    counts = dict.fromkeys(TRANSITION_KINDS, 0)
    for t in agent_transitions(messages):
        counts[t.kind] += 1
    return counts


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """A word-level diff as (op, text) pieces, op in equal/insert/delete; whitespace stays with its word."""
    a, b = re.findall(r"\S+\s*", old or ""), re.findall(r"\S+\s*", new or "")
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("equal", "".join(b[j1:j2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(("delete", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append(("insert", "".join(b[j1:j2])))
    return pieces


def vote_tally(answers: Iterable[str | None]) -> list[tuple[str, int]]:
    """Final-round answers with how many agents gave each (normalized), most votes first."""
    counts: dict[str, tuple[str, int]] = {}
    for a in answers:
        if a is None:
            continue
        key = normalize_answer(a) or a
        shown, n = counts.get(key, (a, 0))
        counts[key] = (shown, n + 1)
    return sorted(counts.values(), key=lambda x: -x[1])
