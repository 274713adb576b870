"""The ledger of imported transcript files: which bytes became which runs, with which model, and when.

Design decision: a file is known by its content hash, not its name, so the same bytes under another name (or
uploaded twice) are recognised; the importer refuses them unless asked, instead of storing a second run that
exports over all runs would count twice.
"""
from __future__ import annotations

import pandas as pd

from agentark.clock import now
from agentark.store import Store


def imports_of(store: Store, sha256: str) -> pd.DataFrame:
    """Earlier imports of a file with these bytes, oldest first."""
    return store.df("SELECT * FROM imported_files WHERE sha256 = ? ORDER BY imported_at", [sha256])


def record_import(store: Store, sha256: str, path: str, fmt: str, run_ids: list[str], model: str | None,
                  imported: int, duplicates: int) -> None:
    with store.transaction() as con:
        con.execute(
            """INSERT INTO imported_files (sha256, path, format, run_ids, model, imported, duplicates, imported_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [sha256, path, fmt, list(run_ids), model, imported, duplicates, now()])
