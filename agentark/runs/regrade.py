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

from dataclasses import dataclass, field

import pandas as pd

from agentark.debate import decide, grade_message, outcome_record
from agentark.grading import answer_choices, read_answer
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
    changes: list[dict] = field(default_factory=list)
    final_changes: list[dict] = field(default_factory=list)

    def report(self) -> str:
        """The summary, then one line per message whose reading changed (before -> after, the new kind and
        its reason) and per problem whose final answer changed: what a reader checks by hand."""
        def show(answer: object, kind: object) -> str:
            return f"{'—' if answer is None else answer} ({kind or 'ungraded'})"

        lines = [self.summary()]
        for c in self.changes:
            why = f": {c['reason']}" if c["reason"] else ""
            lines.append(f"  {c['problem_id']} {c['agent']} round {c['round']}: {show(c['before'], c['kind_before'])}"
                         f" -> {show(c['after'], c['kind_after'])}{why}")
        for c in self.final_changes:
            lines.append(f"  {c['problem_id']} final answer: {show(c['before'], 'before')} -> "
                         f"{show(c['after'], 'tie' if c['tie'] else 'after')}")
        return "\n".join(lines)

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
    config = run_tables.get_run(store, run_id)["config"]  # also a clear error for an unknown run
    tie_break = bool(config.get("first_agent_tie_break", False)) if isinstance(config, dict) else False
    before = run_tables.final_accuracy(store, run_id)
    finals_before = run_tables.final_answers(store, run_id)
    changes: list[dict] = []
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
            if not _same(m.answer, grade["answer"]) or not _same(m.answer_kind, grade["answer_kind"]):
                reading = read_answer(m.content or "", reason, answer_choices(problem.reference_answer, problem.question))
                changes.append({"problem_id": problem_id, "agent": m.agent, "round": int(m.round),
                                "before": None if _same(m.answer, None) else m.answer,
                                "kind_before": None if _same(m.answer_kind, None) else m.answer_kind,
                                "after": grade["answer"], "kind_after": grade["answer_kind"],
                                "reason": reading.reason})
            answers_changed += not _same(m.answer, grade["answer"])
            correctness_changed += not _same(m.is_correct, grade["is_correct"])
            grades.append({"message_id": m.message_id, **grade})
            records.append({"agent": m.agent, "round": int(m.round), "role": m.role, "seq": int(m.seq),
                            "answer": grade["answer"], "prompt_tokens": 0, "completion_tokens": 0})
        if bool(first["has_outcome"]):
            outcome = outcome_record(run_id, problem, decide(records, tie_break), records, 0.0)
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
    final_changes = [{"problem_id": d["problem_id"], "before": finals_before.get(d["problem_id"]),
                      "after": d["final_answer"], "tie": bool(d["vote_tie"])}
                     for d in decisions if not _same(finals_before.get(d["problem_id"]), d["final_answer"])]
    return Regraded(
        run_id, len(messages), answers_changed, correctness_changed, len(outcomes), before,
        run_tables.final_accuracy(store, run_id), int(kinds.get("cut_off", 0)), int(kinds.get("ambiguous", 0)),
        int(outcomes["vote_tie"].fillna(False).sum()), changes, final_changes,
    )


def regrade(store: Store, run_ids: list[str] | None = None) -> list[Regraded]:
    """Re-grade the given runs (every stored run when None), oldest first."""
    return [regrade_run(store, run_id) for run_id in (run_ids if run_ids is not None else run_tables.run_ids(store))]
