"""The Parquet schemas of the debate shards the store ingests: the contract between jobs and the store.

Design decision: the store, which reads these files, owns their schemas; a job writing shards imports them
from here, never the other way round, so the store depends on no job module.
"""
from __future__ import annotations

import pyarrow as pa

MESSAGE_SCHEMA = pa.schema([
    ("message_id", pa.string()), ("run_id", pa.string()), ("problem_id", pa.string()), ("agent", pa.string()),
    ("round", pa.int32()), ("role", pa.string()), ("seq", pa.int32()), ("model", pa.string()),
    ("content", pa.string()), ("answer", pa.string()), ("answer_norm", pa.string()), ("is_correct", pa.bool_()),
    ("prompt_tokens", pa.int32()), ("completion_tokens", pa.int32()), ("latency_ms", pa.float64()),
    ("error", pa.string()), ("finish_reason", pa.string()),
])
OUTCOME_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("problem_id", pa.string()), ("final_answer", pa.string()), ("is_correct", pa.bool_()),
    ("consensus", pa.float64()), ("answer_changes", pa.int32()), ("prompt_tokens", pa.int64()),
    ("completion_tokens", pa.int64()), ("engine_calls", pa.int32()), ("wall_ms", pa.float64()),
])
