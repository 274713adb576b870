"""Store queries for imported and exported transcripts, and for per-run cost.

Imports are short and done by the store's owner, so they write the tables directly, in one transaction
per import: the run row (if new), problems, run_problems, messages and outcomes. Duplicates are decided by
the caller from ``known_message_ids``/``problems_with_messages`` so it can count them; the inserts still
use ``INSERT OR IGNORE`` so that a race can never overwrite a stored row.
"""
from __future__ import annotations


import pandas as pd
import pyarrow as pa

from agentark.store import Store, operation
from agentark.store.run_tables import insert_run
from agentark.store.shards import MESSAGE_SCHEMA, OUTCOME_SCHEMA

PROBLEM_SCHEMA = pa.schema([
    ("problem_id", pa.string()), ("dataset", pa.string()), ("split", pa.string()), ("question", pa.string()),
    ("reference_answer", pa.string()), ("meta_json", pa.string()),
])
RUN_PROBLEM_SCHEMA = pa.schema([("run_id", pa.string()), ("problem_id", pa.string()), ("idx", pa.int32()),
                                ("dataset", pa.string()), ("split", pa.string())])


@operation
def known_message_ids(store: Store, run_id: str) -> set[str]:
    rows = store.con.execute("SELECT message_id FROM messages WHERE run_id = ?", [run_id]).fetchall()
    return {r[0] for r in rows}


@operation
def problems_with_messages(store: Store, run_id: str) -> set[str]:
    rows = store.con.execute("SELECT DISTINCT problem_id FROM messages WHERE run_id = ?", [run_id]).fetchall()
    return {r[0] for r in rows}


def run_model(store: Store, run_id: str) -> tuple[str | None] | None:
    """(model,) of a stored run, or None when there is no such run."""
    rows = store.con.execute("SELECT model FROM runs WHERE run_id = ?", [run_id]).fetchall()
    return (rows[0][0],) if rows else None


def next_problem_idx(store: Store, run_id: str) -> int:
    return int(store.scalar("SELECT coalesce(max(idx) + 1, 0) FROM run_problems WHERE run_id = ?", [run_id]))


def save_transcripts(
    store: Store,
    run: dict,
    problems: list[dict],
    run_problems: list[dict],
    messages: list[dict],
    outcomes: list[dict],
) -> None:
    """Write one import in one transaction; rows whose keys are already stored are left as they are."""
    tables = {
        "problems": pa.Table.from_pylist(problems, schema=PROBLEM_SCHEMA),
        "run_problems": pa.Table.from_pylist(run_problems, schema=RUN_PROBLEM_SCHEMA),
        "messages": pa.Table.from_pylist(messages, schema=MESSAGE_SCHEMA),
        "outcomes": pa.Table.from_pylist(outcomes, schema=OUTCOME_SCHEMA),
    }
    with store.transaction() as con:
        insert_run(con, run, "imported")
        for name, table in tables.items():
            con.register("_import_rows", table)
            try:
                con.execute(f"INSERT OR IGNORE INTO {name} BY NAME SELECT * FROM _import_rows")
            finally:
                con.unregister("_import_rows")


def transcript_rows(store: Store, run_id: str) -> pd.DataFrame:
    """Every message of a run with its problem, its place in the run and its problem's outcome."""
    return store.df(
        """SELECT m.*, p.dataset AS p_dataset, p.split AS p_split, p.question AS p_question,
                  p.reference_answer AS p_reference_answer, p.meta_json AS p_meta_json, rp.idx AS p_idx,
                  o.final_answer AS o_final_answer, o.is_correct AS o_is_correct, o.consensus AS o_consensus,
                  o.answer_changes AS o_answer_changes, o.prompt_tokens AS o_prompt_tokens,
                  o.completion_tokens AS o_completion_tokens, o.engine_calls AS o_engine_calls,
                  o.wall_ms AS o_wall_ms, o.vote_tie AS o_vote_tie, o.run_id IS NOT NULL AS has_outcome
           FROM messages m JOIN problems p USING (problem_id)
           LEFT JOIN run_problems rp ON rp.run_id = m.run_id AND rp.problem_id = m.problem_id
           LEFT JOIN outcomes o ON o.run_id = m.run_id AND o.problem_id = m.problem_id
           WHERE m.run_id = ? ORDER BY rp.idx NULLS LAST, m.problem_id, m.seq""",
        [run_id],
    )


def run_costs(store: Store) -> pd.DataFrame:
    """Per run: finished problems, and mean tokens, engine calls and wall time per problem, with failures."""
    return store.df(
        """SELECT o.run_id, count(*) AS problems,
                  avg(o.prompt_tokens) AS prompt_tokens_per_problem,
                  avg(o.completion_tokens) AS completion_tokens_per_problem,
                  avg(o.engine_calls) AS calls_per_problem,
                  avg(o.wall_ms) / 1000 AS wall_s_per_problem,
                  coalesce(f.failed, 0) AS failed_messages
           FROM outcomes o
           LEFT JOIN (SELECT run_id, count(*) AS failed FROM messages WHERE error IS NOT NULL GROUP BY run_id) f
                USING (run_id)
           GROUP BY o.run_id, f.failed ORDER BY o.run_id"""
    )
