"""Issue 30: ``regrade`` applies the reading rules to a stored run and reports what changed, message by message
with the reason, and which final answers moved; a vote with no majority has no final answer by default."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from agentark.debate import DebateConfig, decide
from agentark.debate.methods import Decision
from agentark.runs.formats import import_file
from agentark.runs.regrade import regrade_run
from agentark.store import Store, run_tables

pytestmark = pytest.mark.timeout(120)

QUESTION = ("Can you answer the following question as accurately as possible? Proprioceptive nerve endings in "
            "synovial joints are located in: A) the capsule and ligaments, B) the articular disc, C) the synovial "
            "membrane, D) the articular cartilage Answer in English only. Explain your answer, putting the answer "
            "in the form (X) at the end of your response.")


def _turns(*replies: str) -> list[dict]:
    turns = []
    for reply in replies:
        turns += [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": reply}]
    return turns


def _du_file(path) -> None:
    # Three agents, two rounds, in Du et al.'s layout: {question: [agent contexts, reference]}.
    agents = [
        _turns("Echoic memory is not relevant; ligaments carry receptors (A).\n(X) A",
               "Agent 2 mentions the disc (B), but the capsule dominates.\n(X) A) the capsule and ligaments"),
        _turns("The disc is avascular.\n(X) B", "Reconsidering, both matter.\n(X) (A and (B+C))"),
        _turns("The capsule and ligaments hold Ruffini endings.\n(X) (A)", "(X) the capsule and ligaments"),
    ]
    path.write_text(json.dumps({QUESTION: [agents, "A"]}))


def test_regrade_reports_each_changed_reading_with_its_reason(tmp_path):
    path = tmp_path / "mmlu_du.json"
    _du_file(path)
    with Store() as store:
        run_id = import_file(store, "du2023", path).run_id
        rows = run_tables.grading_rows(store, run_id)
        # Store the readings the old rule gave: the "(X)" placeholder hid the letter, the hedge read as A.
        old = {"(X) A) the capsule and ligaments": None, "(X) (A and (B+C))": "A", "(X) the capsule and ligaments": None}
        stale = pd.DataFrame([{"message_id": m.message_id, "answer": old.get(m.content.rsplit("\n", 1)[-1], m.answer),
                               "answer_norm": None, "answer_kind": "none" if old.get(m.content.rsplit("\n", 1)[-1], 1) is None
                               else ("explicit" if m.answer_kind is None else m.answer_kind), "is_correct": False}
                              for m in rows.itertuples()])
        outcomes = pd.DataFrame([{"problem_id": rows["problem_id"].iloc[0], "final_answer": "B", "is_correct": False,
                                  "consensus": 1 / 3, "answer_changes": 0, "vote_tie": False}])
        stale["is_correct"] = stale["is_correct"].astype("boolean")
        outcomes[["is_correct", "vote_tie"]] = outcomes[["is_correct", "vote_tie"]].astype("boolean")
        run_tables.write_grades(store, run_id, stale, outcomes)
        done = regrade_run(store, run_id)
        report = done.report()
        by_after = {(c["agent"], c["round"]): c for c in done.changes}
        assert len(done.changes) == 3
        hedge = by_after[("agent_2", 2)]
        assert (hedge["before"], hedge["after"], hedge["kind_after"]) == ("A", None, "ambiguous")
        assert "hedge between options" in hedge["reason"] and "hedge between options" in report
        assert by_after[("agent_1", 2)]["after"] == "A" and by_after[("agent_3", 2)]["after"] == "A"
        # Final round: A, ambiguous, A -> A by a majority, consensus 2/3.
        assert done.final_changes == [{"problem_id": rows["problem_id"].iloc[0], "before": "B", "after": "A",
                                       "tie": False}]
        assert "final answer: B (before) -> A (after)" in report
        assert run_tables.final_answers(store, run_id) == {rows["problem_id"].iloc[0]: "A"}
        assert (done.accuracy_before, done.accuracy_after) == (0.0, 1.0)


def test_a_vote_without_majority_has_no_final_answer_unless_the_first_agent_tie_break_is_asked():
    records = [{"agent": f"agent_{i}", "round": 1, "role": "solver", "seq": i, "answer": a}
               for i, a in enumerate(["18", "12", "7"])]
    assert decide(records) == Decision(None, True)
    assert decide(records, first_agent_tie_break=True) == Decision("18", True)
    assert DebateConfig().first_agent_tie_break is False
    assert Decision.by_vote(["3", "3", "4"]) == Decision("3", False)


def test_every_table_counts_the_ties(tmp_path):
    from agentark.cli.cmd_stats import SUMMARY_COLUMNS
    from agentark.evaluate.compare import CompareConfig, compare
    from agentark.evaluate.report import METRIC_COLUMNS
    from agentark.store.trace_tables import dashboard
    from agentark.studies.study_report import ArmResult

    q = "Janet has 3 ducks and buys 4 more. How many ducks does she have?"
    contexts = [[{"role": "user", "content": q}, {"role": "assistant", "content": f"The answer is {a}."}]
                for a in ("7", "8", "9")]
    path = tmp_path / "tie.json"
    path.write_text(json.dumps({q: [contexts, "7"]}))
    with Store() as store:
        run_id = import_file(store, "du2023", path).run_id
        assert run_tables.final_answers(store, run_id) == {run_tables.grading_rows(store, run_id)["problem_id"][0]: None}
        assert int(run_tables.list_runs(store).set_index("run_id").loc[run_id, "ties"]) == 1
        assert int(dashboard(store, [run_id]).summary["ties"].iloc[0]) == 1
        other = tmp_path / "other.json"
        other.write_text(json.dumps({q: [contexts[:1] * 3, "7"]}))
        second = import_file(store, "du2023", other).run_id
        assert [m.ties for m in compare(store, [run_id, second], CompareConfig()).metrics] == [1, 0]
    assert "ties" in SUMMARY_COLUMNS and any(key == "ties" for _, key, _ in METRIC_COLUMNS)
    assert "ties" in ArmResult.__dataclass_fields__
