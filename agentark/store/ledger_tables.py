"""The shard ledger (``ingested_shards``): which finished shards of a run or job the store has taken in.

Design decision: a shard is ingested once, in the same transaction that records it in the ledger
(``ingest_once``), so a refresh interrupted at any point neither loses nor doubles a shard's rows; every
kind of shard (debate messages, metrics, labels) goes through that one function.
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb

from agentark.clock import now
from agentark.store import Store


def ingested_shards(store: Store, owner_id: str) -> set[str]:
    """The ledger names of the shards of a run or job (``owner_id``) already ingested."""
    with store.connection() as con:
        rows = con.execute("SELECT shard FROM ingested_shards WHERE run_id = ?", [owner_id]).fetchall()
    return {r[0] for r in rows}


def ingest_once(store: Store, owner_id: str, shard: str, write: Callable[[duckdb.DuckDBPyConnection], int]) -> int:
    """Run ``write(con)`` (which stores the shard's rows and returns how many it read) in one transaction
    with the ledger entry, unless ``shard`` of ``owner_id`` is already in the ledger; return 1 if it was new."""
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM ingested_shards WHERE run_id = ? AND shard = ?", [owner_id, shard]).fetchall():
            return 0
        rows = write(con)
        con.execute("INSERT INTO ingested_shards VALUES (?, ?, ?, ?)", [owner_id, shard, rows, now()])
    return 1
