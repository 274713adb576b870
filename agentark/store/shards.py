"""The debate shards the store ingests: their Parquet schemas (the contract between jobs and the store),
and the run report read straight from them when the store itself cannot be opened.

Design decision: the store, which reads these files, owns their schemas; a job writing shards imports them
from here, never the other way round, so the store depends on no job module.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from agentark.store.run_tables import accuracy_per_round, shard_relations

MESSAGE_SCHEMA = pa.schema([
    ("message_id", pa.string()), ("run_id", pa.string()), ("problem_id", pa.string()), ("agent", pa.string()),
    ("round", pa.int32()), ("role", pa.string()), ("seq", pa.int32()), ("model", pa.string()),
    ("content", pa.string()), ("answer", pa.string()), ("answer_norm", pa.string()), ("is_correct", pa.bool_()),
    ("prompt_tokens", pa.int32()), ("completion_tokens", pa.int32()), ("latency_ms", pa.float64()),
    ("error", pa.string()), ("finish_reason", pa.string()), ("answer_kind", pa.string()),
])
OUTCOME_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("problem_id", pa.string()), ("final_answer", pa.string()), ("is_correct", pa.bool_()),
    ("consensus", pa.float64()), ("answer_changes", pa.int32()), ("prompt_tokens", pa.int64()),
    ("completion_tokens", pa.int64()), ("engine_calls", pa.int32()), ("wall_ms", pa.float64()),
    ("vote_tie", pa.bool_()),
])


def shard_report(shards: list[tuple[Path, Path]], run_id: str) -> tuple[pd.DataFrame, float | None]:
    """(accuracy per round, final accuracy) of a run from its finished shards, (messages file, outcomes file)
    in the order they were written, with the store's own SQL in an in-memory DuckDB: for when another
    process holds the store. Each problem counts from its latest shard, as in the store."""
    con = duckdb.connect()
    try:
        shard_relations(con, shards)
        table = accuracy_per_round(con, run_id, "messages")
        final = con.execute("SELECT avg(is_correct::INT) FROM outcomes WHERE run_id = ?", [run_id]).fetchall()[0][0]
    finally:
        con.close()
    return table, final
