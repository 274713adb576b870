"""Every query behind evaluation and comparison: runs' outcomes and answers, samples for best-of-N, and
which problems a trained model saw.

Design decision: a model's training problems are read from the export files themselves (every export row
carries ``problem_id``, and an export is immutable with its sha256 recorded), following the models
registry: model -> the export its job read -> that file's problem ids, plus the same for the studio model
it was trained from. Nothing is copied into a new table, so the answer cannot drift from the files.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from agentark.errors import StoreError
from agentark.store import Store

_ANSWER_ROLES = ["solver", "aggregator", "judge"]


def run_rows(store: Store, run_ids: list[str]) -> dict[str, dict]:
    """run id -> its runs row (config parsed); an unknown id is an error naming the command that lists runs."""
    frame = store.con.execute(
        "SELECT * FROM runs WHERE list_contains($ids, run_id)", {"ids": list(run_ids)}
    ).df()
    rows = {}
    for row in frame.to_dict("records"):
        row["config"] = json.loads(row.pop("config_json") or "{}")
        rows[row["run_id"]] = row
    unknown = [r for r in run_ids if r not in rows]
    if unknown:
        raise StoreError(f"No run {', '.join(unknown)} in {store.path}; list runs with `python -m agentark runs`.")
    return rows


def outcome_rows(store: Store, run_ids: list[str]) -> pd.DataFrame:
    """One row per finished problem of the runs, in run order, with its question and reference answer."""
    return store.con.execute(
        """SELECT o.run_id, o.problem_id, rp.idx, o.final_answer, coalesce(o.is_correct, false) AS is_correct,
                  o.prompt_tokens, o.completion_tokens, o.engine_calls, o.wall_ms, o.consensus, o.vote_tie,
                  p.question, p.reference_answer
           FROM outcomes o JOIN problems p USING (problem_id)
           LEFT JOIN run_problems rp ON rp.run_id = o.run_id AND rp.problem_id = o.problem_id
           WHERE list_contains($ids, o.run_id) ORDER BY o.run_id, rp.idx""",
        {"ids": list(run_ids)},
    ).df()


def answer_messages(store: Store, run_ids: list[str]) -> pd.DataFrame:
    """The answer-bearing messages (solver, aggregator, judge) of the runs, failed ones included."""
    return store.con.execute(
        """SELECT run_id, problem_id, message_id, agent, round, role, seq, content, answer, is_correct, error,
                  answer_kind, finish_reason
           FROM messages WHERE list_contains($ids, run_id) AND list_contains($roles, role)
           ORDER BY run_id, problem_id, seq""",
        {"ids": list(run_ids), "roles": _ANSWER_ROLES},
    ).df()


def problem_messages(store: Store, run_ids: list[str], problem_id: str) -> pd.DataFrame:
    """Every message of one problem in each of the runs, in transcript order."""
    return store.con.execute(
        """SELECT * FROM messages WHERE list_contains($ids, run_id) AND problem_id = $pid
           ORDER BY run_id, seq""",
        {"ids": list(run_ids), "pid": problem_id},
    ).df()


def first_round_samples(store: Store, run_id: str) -> pd.DataFrame:
    """The first-round solver messages of a run (k independent samples per problem for self_consistency),
    with the question, ordered by problem then sample."""
    return store.con.execute(
        """SELECT m.problem_id, m.message_id, m.agent, m.seq, m.content, m.answer, m.answer_norm,
                  coalesce(m.is_correct, false) AS is_correct, m.error, p.question, p.reference_answer
           FROM messages m JOIN problems p USING (problem_id)
           LEFT JOIN run_problems rp ON rp.run_id = m.run_id AND rp.problem_id = m.problem_id
           WHERE m.run_id = $run AND m.role = 'solver' AND m.round = 1
           ORDER BY rp.idx, m.problem_id, m.seq""",
        {"run": run_id},
    ).df()


# -- models, their jobs and exports ------------------------------------------------------------------------
def model_row(store: Store, model: str) -> dict | None:
    """The registry row of a studio model, found by its id or by its checkpoint path; None when unregistered."""
    frame = store.con.execute(
        "SELECT * FROM models WHERE model_id = $m OR path = $m OR path = $abs ORDER BY created_at DESC LIMIT 1",
        {"m": model, "abs": str(Path(model).expanduser().resolve())},
    ).df()
    return frame.iloc[0].to_dict() if not frame.empty else None


def export_row(store: Store, sha256: str) -> dict | None:
    frame = store.con.execute(
        "SELECT * FROM exports WHERE sha256 = ? ORDER BY created_at LIMIT 1", [sha256]
    ).df()
    if frame.empty:
        return None
    row = frame.iloc[0].to_dict()
    row["filters"] = json.loads(row.pop("filters_json") or "{}")
    return row


def export_problem_ids(store: Store, path: str) -> set[str]:
    """The distinct problem ids in an export file (Parquet or JSON lines)."""
    if not Path(path).exists():
        raise StoreError(
            f"The export {path} is missing, so the problems it trained on are unknown. Restore the file, or "
            "evaluate with --allow-overlap to skip the held-out check."
        )
    reader = "read_parquet" if str(path).endswith(".parquet") else "read_json_auto"
    # An export written before problem ids followed the question holds old ids: problem_aliases maps them.
    rows = store.con.execute(
        f"""SELECT DISTINCT coalesce(a.problem_id, e.problem_id) FROM {reader}(?) e
            LEFT JOIN problem_aliases a ON a.old_id = e.problem_id""", [str(path)]).fetchall()
    return {r[0] for r in rows if r[0] is not None}


def current_problem_ids(store: Store, problem_ids: set[str] | list[str]) -> set[str]:
    """Problem ids as the store knows them now: an id recorded before problem ids followed the question (in a
    model card, say) is mapped through ``problem_aliases``; others are kept as they are."""
    rows = store.con.execute(
        """SELECT DISTINCT coalesce(a.problem_id, i.id) FROM (SELECT unnest($ids) AS id) i
           LEFT JOIN problem_aliases a ON a.old_id = i.id""", {"ids": sorted(problem_ids)}).fetchall()
    return {r[0] for r in rows if r[0] is not None}


def problems_by_id(store: Store, problem_ids: list[str]) -> pd.DataFrame:
    return store.con.execute(
        """SELECT problem_id, dataset, split, question, reference_answer FROM problems
           WHERE list_contains($ids, problem_id)""",
        {"ids": list(problem_ids)},
    ).df()
