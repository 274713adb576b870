"""A store with known contents for the evaluation tests: runs whose numbers are known by construction.

Problems P00..P19, reference answer of Pnn is nn.
- ``teacher`` (debate): right on P00..P15; on P19 it writes no answer at all (parse rate 19/20);
  300 prompt + 200 completion tokens and 3 engine calls per problem; wall time (i + 1) seconds on Pnn.
- ``student`` (cot): right on P00..P09 and P16..P19, wrong on P10..P15, so against the teacher it fixes
  4 (P16..P19) and breaks 6 (P10..P15), both right on 10, both wrong on 0: McNemar exact p = 772/1024;
  100 + 50 tokens and 1 call per problem; wall 0.5 s each; P10 and P11 say "Wait, let me re-check"
  (self-correction rate 2/20).
- ``elsewhere`` (cot): problems Q0..Q4 only, sharing none with the others.
- ``sc`` (self_consistency, k = 4) on P00..P03, samples (answer, PRM score per step) chosen so best-of-N
  curves are known (see ``SC_SAMPLES``).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator

import pandas as pd
import pytest

from agentark import config
from agentark.grading import extract_answer, is_correct, majority_vote, normalize_answer
from agentark.checkpoints import model_dir, write_card
from agentark.store import Store
from agentark.store import label_tables as label_q
from agentark.store import run_tables

PIDS = [f"P{i:02d}" for i in range(20)]
TEACHER_RIGHT = set(PIDS[:16])
STUDENT_RIGHT = set(PIDS[:10]) | set(PIDS[16:])
# Per problem, 4 samples as (answer given, PRM score of each of its two steps). Reference of Pnn is nn.
SC_SAMPLES = {
    "P00": [("0", 0.9), ("0", 0.8), ("5", 0.1), ("5", 0.2)],   # first right, majority tie->0 right
    "P01": [("7", 0.3), ("1", 0.9), ("7", 0.2), ("7", 0.4)],   # majority wrong, PRM picks right at N>=2
    "P02": [("9", 0.8), ("9", 0.7), ("2", 0.6), ("2", 0.95)],  # right only via PRM at N=4
    "P03": [("3", 0.5), ("3", 0.6), ("3", 0.7), ("8", 0.99)],  # majority right; PRM wrong at N=4
}


def _problems(pids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "problem_id": pids, "dataset": "ds-eval", "split": "test",
        "question": [f"What is {int(p[1:])} plus zero?" for p in pids],
        "reference_answer": [str(int(p[1:])) for p in pids], "meta_json": json.dumps({}),
    })


def add_run(store: Store, run_id: str, method: str, model: str, messages: list[dict], outcomes: list[dict],
            pids: list[str], created: str, config: dict | None = None) -> None:
    meta = {"run_id": run_id, "kind": "debate", "method": method, "dataset": "ds-eval", "model": model,
            "config": {"method": method, "model": model, **(config or {})}, "created_at": created, "status": "done"}
    run_tables.register_run(store, meta, _problems(pids))
    with store.transaction() as con:
        for table, rows in (("messages", messages), ("outcomes", outcomes)):
            con.register("_rows", pd.DataFrame(rows))
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
            con.unregister("_rows")


def message(run_id: str, pid: str, seq: int, content: str, agent: str = "agent_1", rnd: int = 1,
            role: str = "solver") -> dict:
    answer = extract_answer(content)
    return {"message_id": f"{run_id}:{pid}:{seq:04d}", "run_id": run_id, "problem_id": pid, "agent": agent,
            "round": rnd, "role": role, "seq": seq, "model": "m", "content": content, "answer": answer,
            "answer_norm": normalize_answer(answer),
            "is_correct": answer is not None and is_correct(answer, str(int(pid[1:]))),
            "prompt_tokens": 10, "completion_tokens": 5, "latency_ms": 1.0, "error": None}


def outcome(run_id: str, pid: str, final: str | None, prompt: int, completion: int, calls: int, wall_ms: float) -> dict:
    return {"run_id": run_id, "problem_id": pid, "final_answer": final,
            "is_correct": final is not None and is_correct(final, str(int(pid[1:]))), "consensus": 1.0,
            "answer_changes": 0, "prompt_tokens": prompt, "completion_tokens": completion, "engine_calls": calls,
            "wall_ms": wall_ms}


def build_eval_store(store: Store) -> None:
    msgs, outs = [], []
    for i, pid in enumerate(PIDS):
        if pid == "P19":
            content, final = "I could not finish this one.", None
        else:
            final = str(i) if pid in TEACHER_RIGHT else str(i + 100)
            content = f"Adding zero keeps the number.\n\nThe answer is {final}."
        msgs.append(message("teacher", pid, 0, content))
        outs.append(outcome("teacher", pid, final, 300, 200, 3, 1000.0 * (i + 1)))
    add_run(store, "teacher", "debate", "teacher-model", msgs, outs, PIDS, "2026-01-01T00:00:00")
    msgs, outs = [], []
    for i, pid in enumerate(PIDS):
        final = str(i) if pid in STUDENT_RIGHT else str(i + 200)
        lead = "Wait, let me re-check the sum." if pid in ("P10", "P11") else "Zero changes nothing."
        msgs.append(message("student", pid, 0, f"{lead}\n\nThe answer is {final}."))
        outs.append(outcome("student", pid, final, 100, 50, 1, 500.0))
    add_run(store, "student", "cot", "student-model", msgs, outs, PIDS, "2026-01-02T00:00:00")
    qids = [f"Q{i}" for i in range(5)]
    msgs = [message("elsewhere", q, 0, f"The answer is {int(q[1:])}.") for q in qids]
    outs = [outcome("elsewhere", q, str(int(q[1:])), 10, 10, 1, 100.0) for q in qids]
    add_run(store, "elsewhere", "cot", "student-model", msgs, outs, qids, "2026-01-03T00:00:00")
    msgs, outs = [], []
    for pid, samples in SC_SAMPLES.items():
        rows = [message("sc", pid, j, f"Step one, score {score}.\n\nStep two, score {score}. The answer is {ans}.",
                        agent=f"agent_{j + 1}") for j, (ans, score) in enumerate(samples)]
        msgs += rows
        final, _ = majority_vote([r["answer"] for r in rows])
        outs.append(outcome("sc", pid, final, 40, 20, 4, 200.0))
    add_run(store, "sc", "self_consistency", "student-model", msgs, outs, list(SC_SAMPLES), "2026-01-04T00:00:00")


@pytest.fixture(name="store")
def eval_store(tmp_path) -> Iterator[Store]:
    """This store in the test's folder; a test module that imports ``eval_store`` gets it as ``store``."""
    with Store(tmp_path / "eval.duckdb") as s:
        build_eval_store(s)
        yield s


class FakePRM:
    """A deterministic scorer: a step's score is the number written after 'score' in it (0.5 when none)."""

    def __init__(self) -> None:
        self.calls = 0

    def score(self, items: list[tuple[str, list[str]]]) -> list[list[float]]:
        self.calls += 1
        out = []
        for _, steps in items:
            out.append([float(m.group(1)) if (m := re.search(r"score (\d+(?:\.\d+)?)", s)) else 0.5 for s in steps])
        return out


def export_file(store: Store, problem_ids: list[str], filters: dict | None = None) -> str:
    """An rsft-like export file holding ``problem_ids``, recorded in the store; returns its sha256."""
    path = config.exports_dir() / f"rsft-{len(problem_ids)}.parquet"
    pd.DataFrame({"messages": [[]] * len(problem_ids), "problem_id": problem_ids}).to_parquet(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    label_q.record_export(store, {"export_id": f"rsft-{sha[:6]}", "kind": "rsft", "path": str(path), "sha256": sha,
                                  "n_rows": len(problem_ids), "filters": filters or {"kind": "rsft"}})
    return sha


def studio_model(tiny_llama, model_id: str, sha: str | None, base: str = "embedded:smollm2-135m") -> None:
    """A studio model folder (the tiny Llama's weights) whose card names the export ``sha``."""
    folder = model_dir(model_id)
    shutil.copytree(tiny_llama, folder)
    write_card(folder, {"model_id": model_id, "kind": "sft", "base_model": base, "job_id": f"job-{model_id}",
                        "export_sha256": sha, "config": {}, "metrics": {}, "prompt": "Q: {question}\nA:"})
