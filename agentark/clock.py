"""The studio's one clock: "now" as a naive UTC datetime, the way every TIMESTAMP column stores it.

Design decision: one helper for every timestamp and every time-stamped id (stored rows, job progress,
manifests, run and export ids), so times written by a job, the app and the CLI compare and sort the same
whatever the machine's time zone.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone


def now() -> datetime:
    """The current time in UTC, without a time zone (DuckDB TIMESTAMP)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_id(prefix: str) -> str:
    """A new id ``PREFIX-YYYYMMDD-HHMMSS-xxxx`` (UTC time, 4 random hex digits): sorts by creation time."""
    return f"{prefix}-{now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
