"""``rename`` and ``tag``: the names and tags people give runs, shown instead of long ids.

Design decision: a command that takes a run takes its id or its name (names are unique), so a run named
once is addressed by that name from then on.
"""
from __future__ import annotations

import argparse

from agentark.cli.common import add_home


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``rename`` and ``tag`` commands."""
    r = sub.add_parser("rename", help="give a run a name shown instead of its id (an empty name clears it)")
    add_home(r)
    r.add_argument("run", metavar="RUN", help="run id or current name")
    r.add_argument("name", metavar="NAME", help="new name, unique among runs; '' clears it")
    r.set_defaults(func=cmd_rename)

    t = sub.add_parser("tag", help="add or remove tags of a run; prints its tags")
    add_home(t)
    t.add_argument("run", metavar="RUN", help="run id or name")
    t.add_argument("--add", action="append", default=[], metavar="TAG", help="tag to add (repeat, or comma-separated)")
    t.add_argument("--remove", action="append", default=[], metavar="TAG", help="tag to remove (repeat)")
    t.set_defaults(func=cmd_tag)


def name_run(run_id: str, name: str | None) -> None:
    """Store ``name`` for a run the store may not have registered yet (a run folder just written)."""
    from agentark.runs import names
    from agentark.store import Store

    with Store() as store:
        store.refresh()
        names.rename(store, run_id, name)


def check_name_free(name: str) -> str | None:
    """The cleaned name, refused before anything is written when another run has it already."""
    from agentark.runs import names
    from agentark.errors import ConfigError
    from agentark.store import Store
    from agentark.store import name_tables

    cleaned = names.clean_name(name)
    if cleaned is not None:
        with Store() as store:
            taken = name_tables.resolve(store, cleaned)
        if taken is not None:
            raise ConfigError(f"The name '{cleaned}' is already used by run {taken}: choose another --name.")
    return cleaned


def cmd_rename(args: argparse.Namespace) -> int:
    from agentark.runs import names
    from agentark.store import Store

    with Store() as store:
        store.refresh()
        run_id = names.resolve(store, args.run)
        name = names.rename(store, run_id, args.name)
    print(f"run {run_id}: " + (f"named '{name}'" if name else "name cleared"))
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    from agentark.runs import names
    from agentark.store import Store

    with Store() as store:
        store.refresh()
        run_id = names.resolve(store, args.run)
        tags = names.tag(store, run_id, add=args.add, remove=args.remove)
    print(f"run {run_id}: tags " + (", ".join(tags) if tags else "(none)"))
    return 0
