"""Run names and tags people choose, and the short words shown for a run wherever space is short.

Design decision: every page, chart and picker gets a run's label from one ``RunLabels`` built from the
runs table: the run's name when it has one, else a short form of its id; where two runs would show the
same words, both show their full ids, so a label always identifies one run.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd

from agentark.errors import ConfigError
from agentark.store import Store
from agentark.store import name_tables as q

MAX_NAME = 60
MAX_TAG = 30
_GENERATED_ID = re.compile(r"^(?P<method>.+)-(?P<date>\d{8})-(?P<time>\d{6})-(?P<token>[0-9a-f]+)$")
_SHORT = 24
# Control characters (newlines, tabs, escapes, C1 controls): a name or tag holding one breaks tables and terminals.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _control_free(text: str, what: str) -> str:
    found = _CONTROL.search(text)
    if found:
        raise ConfigError(f"A {what} may not hold control characters (newlines, tabs, escapes); {text!r} holds "
                          f"{found.group()!r} at position {found.start() + 1}. Use plain text.")
    return text


def clean_name(name: str | None) -> str | None:
    """A run name as stored: trimmed, None when empty; refused when too long or on several lines."""
    name = (name or "").strip()
    if not name:
        return None
    if len(name) > MAX_NAME:
        raise ConfigError(f"A run name is one line of at most {MAX_NAME} characters; got {len(name)} characters. "
                          "Use tags for further detail.")
    return _control_free(name, "run name")


def clean_tags(tags: str | Iterable[str]) -> list[str]:
    """Tags as stored: from a comma-separated string or a list, trimmed, empty ones dropped, first spelling kept."""
    items = tags.split(",") if isinstance(tags, str) else [t for tag in tags for t in str(tag).split(",")]
    out: list[str] = []
    for tag in (t.strip() for t in items):
        if not tag or tag in out:
            continue
        if len(tag) > MAX_TAG:
            raise ConfigError(f"A tag is at most {MAX_TAG} characters; '{tag[:40]}...' is longer. Shorten it.")
        out.append(_control_free(tag, "tag"))
    return out


def short_id(run_id: str) -> str:
    """A short form of a run id: ``debate-20261125-091512-ab12`` becomes ``debate ab12``."""
    match = _GENERATED_ID.match(run_id)
    if match:
        return f"{match['method']} {match['token']}"
    if len(run_id) <= _SHORT:
        return run_id
    return run_id[: _SHORT - 9] + "…" + run_id[-8:]


@dataclass(frozen=True)
class RunLabels:
    """The words shown for each run: ``labels(run_id)`` in charts and tables, ``labels.option(run_id)`` in pickers."""

    labels: dict[str, str] = field(default_factory=dict)
    tags: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, runs: pd.DataFrame) -> "RunLabels":
        """From rows with ``run_id`` and, where known, ``name`` and ``tags``."""
        wanted: dict[str, str] = {}
        tags: dict[str, list[str]] = {}
        for row in runs.to_dict("records"):
            name = row.get("name")
            has_name = isinstance(name, str) and bool(name.strip())
            wanted[row["run_id"]] = name if has_name else short_id(row["run_id"])
            raw = row.get("tags")
            tags[row["run_id"]] = [] if raw is None or (isinstance(raw, float) and math.isnan(raw)) else list(raw)
        counts = pd.Series(list(wanted.values()), dtype=object).value_counts()
        labels = {rid: (label if counts.get(label, 0) == 1 else rid) for rid, label in wanted.items()}
        return cls(labels, tags)

    def __call__(self, run_id: str) -> str:
        return self.labels.get(run_id) or short_id(run_id)

    def option(self, run_id: str) -> str:
        tags = self.tags.get(run_id) or []
        return self(run_id) + (f"  [{', '.join(tags)}]" if tags else "")


def run_labels(store: Store) -> RunLabels:
    return RunLabels.of(q.names(store))


def rename(store: Store, run_id: str, name: str | None, by: str | None = None) -> str | None:
    """Give a run a name people choose (empty clears it); return the name stored. ``by``: who, for the history."""
    cleaned = clean_name(name)
    q.set_name(store, run_id, cleaned, by)
    return cleaned


def set_tags(store: Store, run_id: str, tags: str | Iterable[str], by: str | None = None) -> list[str]:
    cleaned = clean_tags(tags)
    q.set_tags(store, run_id, cleaned, by)
    return cleaned


def tag(store: Store, run_id: str, add: Iterable[str] = (), remove: Iterable[str] = (),
        by: str | None = None) -> list[str]:
    """Add and remove tags of a run; return its tags."""
    current = RunLabels.of(q.names(store)).tags.get(run_id, [])
    dropped = set(clean_tags(list(remove)))
    return set_tags(store, run_id, [t for t in current if t not in dropped] + clean_tags(list(add)), by)


def name_history(store: Store, run_id: str | None = None):
    """Who renamed and retagged runs, and when, newest first."""
    return q.history(store, run_id)


def resolve(store: Store, ref: str) -> str:
    """The run id for a run id or a run name; an unknown reference names the fix."""
    run_id = q.resolve(store, ref)
    if run_id is None:
        raise ConfigError(f"No run with id or name '{ref}'. List runs and their names with `python -m agentark runs`.")
    return run_id


def tokens_text(value) -> str:
    """A token count for display: '—' when the run recorded none (imports without usage figures store 0)."""
    if value is None or pd.isna(value) or value == 0:
        return "—"
    return f"{value:,.0f}"
