"""``python -m agentark``: the studio's batch face. Every command calls the same library the pages call.

Design decision: one module per area, each with ``register(subparsers)`` that adds its commands and binds
each to its function with ``set_defaults(func=...)``. Adding a command means adding a module and one line
to ``AREAS``; ``main`` never changes. Domain errors print their message (which says what to do, naming each
config field as the flag the command gave it) and exit with status 2; nothing else is caught.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from agentark.errors import AgentArkError
from agentark.options import word_field

# One line per area, alphabetical (so parallel additions do not collide): agentark.cli.cmd_NAME.register(sub).
AREAS = (
    "app",
    "debate",
    "evaluate",
    "jobs",
    "labels",
    "names",
    "runs",
    "stats",
    "study",
    "train",
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser: every area's commands, each with ``func`` set."""
    parser = argparse.ArgumentParser(prog="python -m agentark", description="AgentArk Studio: debate, curate, distill.")
    sub = parser.add_subparsers(dest="command", required=True)
    for area in AREAS:
        importlib.import_module(f"agentark.cli.cmd_{area}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit status."""
    args = build_parser().parse_args(argv)
    if getattr(args, "home", None):
        os.environ["AGENTARK_HOME"] = str(Path(args.home).resolve())
    # Registers every job kind's ingester, so any command's Store.refresh ingests every kind.
    import agentark.jobs.builtin  # noqa: F401
    try:
        return args.func(args)
    except AgentArkError as exc:
        print(f"error: {exc.worded(word_field(args))}", file=sys.stderr)
        return 2
