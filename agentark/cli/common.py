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


def refreshed_store() -> "Store":
    """The store, refreshed from the job folders: what a command that reads or writes labels starts from."""
    from agentark.store import Store

    store = Store()
    store.refresh()
    return store


def fmt(v: Any) -> str:
    """One table cell: floats to three decimals, None and NaN (unknown, never 0) as "—"."""
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def print_place(place: int) -> None:
    """What a foreground command says while its job waits for a slot (``jobs.run_job``'s ``on_wait``)."""
    print(f"waiting for a slot: {place} in the queue (other jobs hold the device; `python -m agentark jobs` lists "
          "them); it starts by itself", file=sys.stderr, flush=True)


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


def add_labeling_job(sub: argparse._SubParsersAction, name: str, help_text: str, config_cls: type,
                     func) -> argparse.ArgumentParser:
    """A labeling-job command: the config's flags, ``--job-id`` to resume one and ``--background``."""
    from agentark.options import add_arguments

    p = sub.add_parser(name, help=help_text)
    add_home(p)
    add_arguments(p, config_cls)
    p.add_argument("--job-id", type=job_id_arg, default=None, help="resume this job instead of starting a new one")
    p.add_argument("--background", action="store_true", help="run in a background process")
    p.set_defaults(func=func)
    return p


def run_labeling_job(args: argparse.Namespace, kind: str, config_cls: type, folder_cls: type,
                     title: str, unit: str = "trajectories") -> tuple[str, dict | None]:
    """Create (or, with ``--job-id``, resume) a step-labeling job of ``kind`` from the parsed flags and run it in
    this terminal, or start it in the background; returns the job id and its final progress (None when it was
    started in the background). The labeling commands differ only in what they print after."""
    from agentark import jobs
    from agentark.options import from_namespace

    if args.job_id:
        job_id = folder_cls(args.job_id).require().job_id
    else:
        cfg = from_namespace(config_cls, args)
        with refreshed_store() as store:
            job_id = jobs.create(kind, cfg, store=store).job_id
        print(f"{title} job {job_id}: {folder_cls(job_id).progress().get('total')} {unit}")
    if args.background:
        pid = jobs.spawn(kind, job_id)
        print(f"started in the background (pid {pid}); follow it with `python -m agentark jobs`")
        return job_id, None
    final = jobs.run_job(job_id, on_progress=lambda d, t: print(f"\r{d}/{t} {unit}", end="", file=sys.stderr),
                         on_wait=print_place)
    print(file=sys.stderr)
    return job_id, final
