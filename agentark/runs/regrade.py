"""Re-grading stored runs by the current grading rule (``python -m agentark regrade``).

Messages keep their text and why they ended (``finish_reason``), so a run graded by an older rule (a
message cut off at the token limit read as its last number, "\\boxed{14 or 15}" read as 14, a choice answer
read as a number) can be graded again without asking any model: every message is re-read with
``agentark.debate.grade_message``, every finished problem's decision re-made with ``agentark.debate.decide``
(its judge's or aggregator's answer, else the vote of its solvers' latest answers), and the run's trace
summaries are dropped so the dashboard and problem list derive them again.

Design decision: re-grading changes only what grading decides (answers, their kind, correctness, final
answers, consensus, answer changes, ties); tokens, time and text stay as recorded, so a re-graded run's
costs are the ones it actually had.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from agentark.debate import decide, grade_message, outcome_record
from agentark.store import Store, run_tables
from agentark.store.trace_tables import sync_traces
from agentark.tasks import Problem


@dataclass
class Regraded:
    """What re-grading one run changed."""

    run_id: str
    messages: int
    answers_changed: int
    correctness_changed: int
    problems: int
    accuracy_before: float | None
    accuracy_after: float | None
    cut_off: int
    ambiguous: int
    ties: int

    def summary(self) -> str:
        def pct(x: float | None) -> str:
            return "—" if x is None else f"{x:.1%}"

        return (f"{self.run_id}: {self.messages} messages re-graded ({self.answers_changed} answers and "
                f"{self.correctness_changed} verdicts changed; {self.cut_off} cut off without an answer, "
                f"{self.ambiguous} ambiguous); {self.problems} finished problems, accuracy "
                f"{pct(self.accuracy_before)} -> {pct(self.accuracy_after)}, {self.ties} vote ties")


def _same(a: object, b: object) -> bool:
    na, nb = a is None or (not isinstance(a, str) and pd.isna(a)), b is None or (not isinstance(b, str) and pd.isna(b))
    return (na and nb) or (not na and not nb and a == b)


def regrade_run(store: Store, run_id: str) -> Regraded:
    """Grade one stored run's messages and outcomes again by the current rule; return what changed."""
    run_tables.get_run(store, run_id)  # a clear error for an unknown run
    before = run_tables.final_accuracy(store, run_id)
    rows = run_tables.grading_rows(store, run_id)
    grades: list[dict] = []
    decisions: list[dict] = []
    answers_changed = correctness_changed = 0
    for problem_id, part in rows.groupby("problem_id", sort=False):
        first = part.iloc[0]
        problem = Problem(problem_id, "", "", first["question"], first["reference_answer"])
        records = []
        for m in part.itertuples(index=False):
            failed = m.error is not None and not pd.isna(m.error)
            reason = None if m.finish_reason is None or pd.isna(m.finish_reason) else m.finish_reason
            grade = grade_message(m.content, reason, failed, problem.reference_answer, problem.question)
            answers_changed += not _same(m.answer, grade["answer"])
            correctness_changed += not _same(m.is_correct, grade["is_correct"])
            grades.append({"message_id": m.message_id, **grade})
            records.append({"agent": m.agent, "round": int(m.round), "role": m.role, "seq": int(m.seq),
                            "answer": grade["answer"], "prompt_tokens": 0, "completion_tokens": 0})
        if bool(first["has_outcome"]):
            outcome = outcome_record(run_id, problem, decide(records), records, 0.0)
            decisions.append({k: outcome[k] for k in ("problem_id", "final_answer", "is_correct", "consensus",
                                                      "answer_changes", "vote_tie")})
    messages = pd.DataFrame(grades, columns=["message_id", "answer", "answer_norm", "answer_kind", "is_correct"])
    outcomes = pd.DataFrame(decisions, columns=["problem_id", "final_answer", "is_correct", "consensus",
                                                "answer_changes", "vote_tie"])
    messages["is_correct"] = messages["is_correct"].astype("boolean")
    outcomes[["is_correct", "vote_tie"]] = outcomes[["is_correct", "vote_tie"]].astype("boolean")
    run_tables.write_grades(store, run_id, messages, outcomes)
    sync_traces(store)
    kinds = messages["answer_kind"].value_counts()
    return Regraded(
        run_id, len(messages), answers_changed, correctness_changed, len(outcomes), before,
        run_tables.final_accuracy(store, run_id), int(kinds.get("cut_off", 0)), int(kinds.get("ambiguous", 0)),
        int(outcomes["vote_tie"].fillna(False).sum()),
    )


def regrade(store: Store, run_ids: list[str] | None = None) -> list[Regraded]:
    """Re-grade the given runs (every stored run when None), oldest first."""
    return [regrade_run(store, run_id) for run_id in (run_ids if run_ids is not None else run_tables.run_ids(store))]
