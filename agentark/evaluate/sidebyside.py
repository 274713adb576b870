"""One problem, several systems: what each answered and how it reasoned, step by step, as plain data.

Design decision: each run shows the one message that stands for its answer: the last aggregator or judge
turn when the method has one, else the first final-round solver message that agrees with the run's final
answer (the first final-round solver when none does). Steps come from the studio's segmenter, so a step
here is the same span a PRM scores and a person labels; scores are attached only when a PRM is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import pandas as pd

from agentark.evaluate.bon import StepScorer
from agentark.evaluate.markers import Marker, find_markers
from agentark.grading import answers_equal
from agentark.labels.segment import segment
from agentark.store import eval_tables as q


@dataclass
class StepView:
    idx: int
    text: str
    char_start: int
    char_end: int
    score: float | None = None


@dataclass
class SystemView:
    """What one run shows for the problem."""

    run_id: str
    method: str | None
    shown: str
    content: str
    answer: str | None
    final_answer: str | None
    is_correct: bool | None
    steps: list[StepView] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    viewer_link: str = ""


@dataclass
class SideBySide:
    problem_id: str
    question: str
    reference_answer: str
    systems: list[SystemView]


def representative(messages: pd.DataFrame, final_answer: str | None) -> pd.Series | None:
    """The message that stands for a run's answer on one problem (see the module docstring)."""
    if messages.empty:
        return None
    deciders = messages[messages["role"].isin(["aggregator", "judge"])]
    if not deciders.empty:
        return deciders.sort_values("seq").iloc[-1]
    solvers = messages[messages["role"] == "solver"]
    if solvers.empty:
        return messages.sort_values("seq").iloc[-1]
    last = solvers[solvers["round"] == solvers["round"].max()].sort_values("seq")
    agreeing = last[[answers_equal(a, final_answer) for a in last["answer"]]]
    return (agreeing if not agreeing.empty else last).iloc[0]


def viewer_link(run_id: str, problem_id: str) -> str:
    """Address of the debate viewer on this run and problem."""
    return "/transcript?" + urlencode({"run": run_id, "problem": problem_id})


def side_by_side(store, run_ids: list[str], problem_id: str, scorer: StepScorer | None = None,
                 segmenter: str = "auto") -> SideBySide:
    """Each run's representative message for one problem, segmented, with PRM step scores when ``scorer``."""
    runs = q.run_rows(store, run_ids)
    outcomes = q.outcome_rows(store, run_ids)
    outcomes = outcomes[outcomes["problem_id"] == problem_id].set_index("run_id")
    messages = q.problem_messages(store, run_ids, problem_id)
    problem = q.problems_by_id(store, [problem_id])
    question = problem.iloc[0]["question"] if not problem.empty else ""
    reference = problem.iloc[0]["reference_answer"] if not problem.empty else ""
    systems = []
    for run_id in run_ids:
        final = outcomes.loc[run_id, "final_answer"] if run_id in outcomes.index else None
        correct = bool(outcomes.loc[run_id, "is_correct"]) if run_id in outcomes.index else None
        msg = representative(messages[messages["run_id"] == run_id], final)
        content = (msg["content"] or "") if msg is not None else ""
        shown = f"{msg['agent']}, round {msg['round']} ({msg['role']})" if msg is not None else "not answered"
        steps = [StepView(s.idx, s.text, s.char_start, s.char_end) for s in segment(content, segmenter)]
        systems.append(SystemView(run_id, runs[run_id].get("method"), shown, content,
                                  msg["answer"] if msg is not None else None, final, correct, steps,
                                  find_markers(content), viewer_link(run_id, problem_id)))
    if scorer is not None:
        scored = [s for s in systems if s.steps]
        results = scorer.score([(question, [st.text for st in s.steps]) for s in scored]) if scored else []
        for system, scores in zip(scored, results):
            for step, value in zip(system.steps, scores):
                step.score = float(value)
    return SideBySide(problem_id, question, reference, systems)
