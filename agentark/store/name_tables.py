"""Queries behind run names and tags: the words people choose for runs, shown instead of long ids.

A name is unique among runs, so a name can stand for its run wherever a run id is asked for; the check
and the write happen in one write operation, so two sessions cannot give two runs the same name.
"""
from __future__ import annotations

import pandas as pd

from agentark.errors import StoreError
from agentark.store import Store, operation


def _require_run(con, run_id: str) -> None:
    if not con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchall():
        raise StoreError(f"No run '{run_id}' in the store. List runs with `python -m agentark runs`.")


def _log(con, run_id: str, by: str | None) -> None:
    """Append the run's name and tags now in force, with who changed them, to ``run_name_history``."""
    con.execute("""INSERT INTO run_name_history SELECT run_id, name, tags, ?, current_localtimestamp()
                   FROM runs WHERE run_id = ?""", [by, run_id])


def set_name(store: Store, run_id: str, name: str | None, by: str | None = None) -> None:
    """Give a run a name (None clears it); a name another run has is refused with that run's id. ``by`` (who
    renamed it) goes to the history."""
    with store.transaction() as con:
        _require_run(con, run_id)
        if name is not None:
            other = con.execute("SELECT run_id FROM runs WHERE name = ? AND run_id <> ?", [name, run_id]).fetchall()
            if other:
                raise StoreError(f"The name '{name}' is already the name of run {other[0][0]}: choose another name, "
                                 f"or rename that run first.")
        con.execute("UPDATE runs SET name = ? WHERE run_id = ?", [name, run_id])
        _log(con, run_id, by)


def set_tags(store: Store, run_id: str, tags: list[str], by: str | None = None) -> None:
    """Replace a run's tags; ``by`` (who) goes to the history."""
    with store.transaction() as con:
        _require_run(con, run_id)
        con.execute("UPDATE runs SET tags = ? WHERE run_id = ?", [list(tags), run_id])
        _log(con, run_id, by)


def history(store: Store, run_id: str | None = None) -> pd.DataFrame:
    """Every rename and retag (of one run or all), newest first, with who and when."""
    return store.df("""SELECT run_id, name, coalesce(tags, []) AS tags, changed_by, changed_at FROM run_name_history
                       WHERE $run IS NULL OR run_id = $run ORDER BY changed_at DESC""", {"run": run_id})


@operation
def names(store: Store) -> pd.DataFrame:
    """Every run's id, name, tags and creation time, newest first."""
    return store.con.execute(
        "SELECT run_id, name, coalesce(tags, []) AS tags, created_at FROM runs ORDER BY created_at DESC").df()


@operation
def resolve(store: Store, ref: str) -> str | None:
    """The run id a reference stands for: a run id, else a run's name; None when neither matches."""
    rows = store.con.execute(
        "SELECT run_id FROM runs WHERE run_id = $ref OR name = $ref ORDER BY run_id = $ref DESC LIMIT 1",
        {"ref": ref}).fetchall()
    return rows[0][0] if rows else None
