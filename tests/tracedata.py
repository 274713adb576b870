"""A store with known contents for the trace tests: two runs of hand-built debates.

run-a (debate, 3 agents x 2 rounds, model m1), reference answers 10, 5, 8, 6:
  P1  R1 10 7 7   R2 10 10 10   two corrections, vote wrong then right, final right
  P2  R1 5 5 3    R2 3 3 3      two regressions, vote right then wrong, final wrong
  P3  R1 1 2 3    R2 4 2 3      one wrong-to-wrong change, every vote wrong, final wrong
  P4  R1 6 6 2    R2 6 6 6      one correction, final right
run-b (cot, 1 agent x 1 round, model m2) on P1 (right) and P2 (wrong).
"""
from __future__ import annotations

import json

import pandas as pd

from agentark.grading import extract_answer, is_correct, majority_vote, normalize_answer
from agentark.store import Store, run_tables

REFERENCE = {"P1": "10", "P2": "5", "P3": "8", "P4": "6"}
QUESTIONS = {
    "P1": "Tom has 4 apples and buys 6 more. How many apples does he have?",
    "P2": "What is 15 divided by 3?",
    "P3": "What is 2 to the power 3?",
    "P4": "What is $\\frac{12}{2}$?",
}
DEBATE_A = {
    "P1": [["10", "7", "7"], ["10", "10", "10"]],
    "P2": [["5", "5", "3"], ["3", "3", "3"]],
    "P3": [["1", "2", "3"], ["4", "2", "3"]],
    "P4": [["6", "6", "2"], ["6", "6", "6"]],
}
DEBATE_B = {"P1": [["10"]], "P2": [["4"]]}
SEARCHABLE = "because of the carrying step"  # only in P1, agent_2, round 1


def message_rows(run_id: str, problem_id: str, rounds: list[list[str | None]], reference: str,
                 errors: set[tuple[int, int]] = frozenset()) -> list[dict]:
    """Messages of one debate; ``errors`` holds (round, agent index) pairs whose generation failed."""
    rows, seq = [], 0
    for r, answers in enumerate(rounds, start=1):
        for i, answer in enumerate(answers):
            failed = (r, i) in errors
            content = "" if failed else (
                f"Round {r}: working it out. The answer is {answer}." if answer is not None else "I am not sure."
            )
            if not failed and (run_id, problem_id, r, i) == ("run-a", "P1", 1, 1):
                content = f"I think it is 7 {SEARCHABLE}. The answer is 7."
            extracted = None if failed else extract_answer(content)
            rows.append({
                "message_id": f"{run_id}:{problem_id}:{seq:04d}", "run_id": run_id, "problem_id": problem_id,
                "agent": f"agent_{i + 1}", "round": r, "role": "solver", "seq": seq, "model": "m",
                "content": content, "answer": extracted, "answer_norm": normalize_answer(extracted),
                "is_correct": None if failed else (extracted is not None and is_correct(extracted, reference)),
                "prompt_tokens": 100 * r, "completion_tokens": 10 * (i + 1), "latency_ms": 5.0,
                "error": "engine failed" if failed else None,
            })
            seq += 1
    return rows


def outcome_row(run_id: str, problem_id: str, messages: list[dict], reference: str) -> dict:
    last = max(m["round"] for m in messages)
    finals = [m["answer"] for m in messages if m["round"] == last]
    final, share = majority_vote(finals)
    return {
        "run_id": run_id, "problem_id": problem_id, "final_answer": final,
        "is_correct": final is not None and is_correct(final, reference), "consensus": share,
        "answer_changes": 0, "prompt_tokens": sum(m["prompt_tokens"] for m in messages),
        "completion_tokens": sum(m["completion_tokens"] for m in messages), "engine_calls": len(messages),
        "wall_ms": 1000.0 * len(messages),
    }


def add_run(store: Store, run_id: str, method: str, model: str, debates: dict[str, list[list[str | None]]],
            references: dict[str, str], questions: dict[str, str], dataset: str = "ds1",
            errors: dict[str, set] | None = None) -> None:
    meta = {"run_id": run_id, "kind": "debate", "method": method, "dataset": dataset, "model": model,
            "config": {"method": method}, "created_at": f"2026-01-0{1 + len(run_tables.list_runs(store))}T00:00:00",
            "status": "done"}
    problems = pd.DataFrame({
        "problem_id": list(debates), "dataset": dataset, "split": "test",
        "question": [questions[p] for p in debates], "reference_answer": [references[p] for p in debates],
        "meta_json": json.dumps({}),
    })
    run_tables.register_run(store, meta, problems)
    messages, outcomes = [], []
    for pid, rounds in debates.items():
        rows = message_rows(run_id, pid, rounds, references[pid], (errors or {}).get(pid, set()))
        messages += rows
        outcomes.append(outcome_row(run_id, pid, rows, references[pid]))
    with store.transaction() as con:
        con.register("_m", pd.DataFrame(messages))
        con.execute("INSERT INTO messages BY NAME SELECT * FROM _m")
        con.unregister("_m")
        con.register("_o", pd.DataFrame(outcomes))
        con.execute("INSERT INTO outcomes BY NAME SELECT * FROM _o")
        con.unregister("_o")


def build_known_store(store: Store) -> None:
    add_run(store, "run-a", "debate", "m1", DEBATE_A, REFERENCE, QUESTIONS)
    add_run(store, "run-b", "cot", "m2", DEBATE_B, REFERENCE, QUESTIONS)
