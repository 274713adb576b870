"""The registry of ingesters ``Store.refresh`` runs: name (a job kind, or ``models``) -> function(store).

Design decision: the store is the lowest layer and imports no job module. Each job kind registers its
ingester here when its module is imported (``import agentark.jobs.builtin`` registers the built-in
kinds), and ``refresh`` calls whatever is registered; the store never needs to know which kinds exist.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentark.store import Store

_INGESTERS: dict[str, Callable[[Store], int]] = {}


def register_ingester(name: str, ingest: Callable[[Store], int]) -> None:
    """Make ``refresh`` call ``ingest(store)`` (returning how many shards or rows it took in) under ``name``;
    registering a name again replaces its function."""
    _INGESTERS[name] = ingest


def registered() -> dict[str, Callable[[Store], int]]:
    """Every registered ingester by name, in registration order."""
    return dict(_INGESTERS)
