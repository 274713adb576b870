"""Helpers every command module shares: the --home flag, plain text tables, opening the store.

Design decision: numbers print the same way in every command (``fmt``: three decimals, "-" for missing),
so tables from ``runs``, ``stats`` and the job list read alike and tests can parse them.
"""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from agentark.errors import IdError
from agentark.ids import check_id

if TYPE_CHECKING:
    from agentark.store import Store


def run_id_arg(text: str) -> str:
    """argparse ``type`` for a run id: refused with the rule before any command runs."""
    try:
        return check_id(text, "run id")
    except IdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def job_id_arg(text: str) -> str:
    """argparse ``type`` for a job id."""
    try:
        return check_id(text, "job id")
    except IdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_home(p: argparse.ArgumentParser) -> None:
    """The ``--home`` flag every command that touches the data folder takes."""
    p.add_argument("--home", help="data folder (default: $AGENTARK_HOME or ./data)")


def add_server_options(p: argparse.ArgumentParser) -> None:
    """The served-engine flags (``--engine openai``), the same on every command that generates."""
    p.add_argument("--base-url", action="append", default=None,
                   help="OpenAI-compatible server, e.g. http://HOST:8000/v1 (repeat to spread load over replicas)")
    p.add_argument("--concurrency", type=int, default=None, help="requests in flight at once (openai engine, default 16)")
    p.add_argument("--api-key-env", default=None, help="environment variable holding the API key (default OPENAI_API_KEY)")
    p.add_argument("--timeout", type=float, default=None, help="seconds per request before a retry (openai engine)")
    p.add_argument("--max-retries", type=int, default=None, help="retries on 429/5xx/timeouts (openai engine, default 3)")


def server_options(args: argparse.Namespace) -> dict | None:
    """The engine options the served-engine flags give; None when none was given."""
    options = {"base_urls": args.base_url, "concurrency": args.concurrency, "api_key_env": args.api_key_env,
               "timeout_s": args.timeout, "max_retries": args.max_retries}
    return {k: v for k, v in options.items() if v is not None} or None


def fmt(v: Any) -> str:
    """One table cell: floats to three decimals, None and NaN as "-"."""
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def print_table(rows: list[dict], columns: list[str]) -> None:
    """Print ``rows`` as an aligned text table of ``columns``."""
    widths = {c: max(len(c), *(len(fmt(r.get(c))) for r in rows)) if rows else len(c) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(fmt(r.get(c)).ljust(widths[c]) for c in columns))


def open_store_or_none() -> "Store | None":
    """The store, or None (with a note on stderr) when another process holds it."""
    from agentark.errors import StoreLockedError
    from agentark.store import Store

    try:
        return Store()
    except StoreLockedError as exc:
        print(f"note: {exc}", file=sys.stderr)
        return None
