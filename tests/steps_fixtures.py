"""Hand-built stores for step and label tests: one problem, two agents, two rounds, known contents."""
from __future__ import annotations

import json

import pandas as pd

from agentark.store import Store, run_tables

SOLUTION = "Ben has 3 * 4 = <<3*4=12>>12 apples.\nHe eats 2, so 12 - 2 = <<12-2=10>>10 are left.\n#### 10"
WRONG = "Ben has 3 * 4 = 14 apples.\n\nHe eats 2, so 14 - 2 = 12.\n\nThe answer is 12."
RIGHT = "Ben has 3 * 4 = 12 apples.\n\nHe eats 2, so 12 - 2 = 10.\n\nThe answer is 10."


def message(mid: str, agent: str, rnd: int, content: str, correct: bool, run: str = "r1", pid: str = "p1", seq: int = 0) -> dict:
    return {"message_id": mid, "run_id": run, "problem_id": pid, "agent": agent, "round": rnd, "role": "solver",
            "seq": seq, "content": content, "answer": None, "is_correct": correct, "meta_json": json.dumps({"solution": SOLUTION}),
            "reference_answer": "10", "question": "Ben has 3 bags of 4 apples and eats 2. How many are left?"}


def build_store(path, messages: list[dict]) -> Store:
    """A store holding one run with the given messages of problem p1 (and p2 when used)."""
    store = Store(path)
    runs = sorted({m["run_id"] for m in messages})
    problems = pd.DataFrame([
        {"problem_id": pid, "dataset": "hand", "split": "test", "question": f"Question {pid}: Ben has 3 bags of 4 apples and eats 2.",
         "reference_answer": "10", "meta_json": json.dumps({"solution": SOLUTION})}
        for pid in sorted({m["problem_id"] for m in messages})
    ])
    for run in runs:
        run_tables.register_run(store, {"run_id": run, "kind": "debate", "config": {},
                                        "created_at": "2026-01-01T00:00:00", "status": "done"}, problems)
    frame = pd.DataFrame(messages).drop(columns=["meta_json", "reference_answer", "question"])
    with store.transaction() as con:
        con.register("_m", frame)
        con.execute("INSERT INTO messages BY NAME SELECT * FROM _m")
        con.unregister("_m")
    return store


def debate_store(path) -> Store:
    """agent_1 wrong then right, agent_2 right twice."""
    return build_store(path, [
        message("m1", "agent_1", 1, WRONG, False, seq=0),
        message("m2", "agent_2", 1, RIGHT, True, seq=1),
        message("m3", "agent_1", 2, "agent_2 is right: my 3 * 4 = 14 was a mistake.\n\n" + RIGHT, True, seq=2),
        message("m4", "agent_2", 2, RIGHT, True, seq=3),
    ])
