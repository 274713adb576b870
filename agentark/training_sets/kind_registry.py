"""The export kinds: one record per training set the studio writes, registered by its module.

A kind says what its rows are (``columns``), how they are built from the store under an ``ExportConfig``
(``prepare``, which returns the rows and their ``ExportSummary`` without writing anything), and what sets it
apart: its default file format, a ``file`` writer when the file is not the previewed rows (transcripts nest),
whether ``corrections = "human"`` applies to it, and any check of its own on the config. The CLI's ``export``
choices, the Export page's selectbox and ``export()`` all read this registry, so a new kind is one module that
calls :func:`register_export_kind` and nothing else.

Design decision: this module imports no other training-set module (the config and the summary read it), so the
records type their callables loosely; each kind's module gives them their real signatures.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentark.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from agentark.store import Store


@dataclass(frozen=True)
class ExportKind:
    """One training set: ``name`` (the CLI's positional argument and the stored kind), ``title`` (the choice's
    label), ``description`` (what the Export page says it is for), ``columns`` (the columns of its rows),
    ``prepare(store, cfg) -> (rows, summary)``, ``default_format`` (when the config sets none), ``file(store, cfg)
    -> (summary, write(path))`` for a file that is not the rows ``prepare`` previews, ``human_corrections``
    (whether ``corrections = "human"`` makes its trajectories from people's corrections) and ``check(cfg)``,
    which raises a ``ConfigError`` naming the field for a config this kind cannot write."""

    name: str
    title: str
    description: str
    columns: tuple[str, ...]
    prepare: Callable[[Store, Any], tuple[pd.DataFrame, Any]]
    default_format: str = "parquet"
    file: Callable[[Store, Any], tuple[Any, Callable[[Path], None]]] | None = None
    human_corrections: bool = False
    check: Callable[[Any], None] | None = None


_KINDS: dict[str, ExportKind] = {}


def register_export_kind(kind: ExportKind) -> ExportKind:
    """Make a kind known to the export config's choices, the CLI, the Export page and ``export()``."""
    _KINDS[kind.name] = kind
    return kind


def export_kinds() -> dict[str, ExportKind]:
    """Every registered kind by name, in registration order."""
    return dict(_KINDS)


def export_kind_names() -> tuple[str, ...]:
    """The kinds' names: the choices of ``ExportConfig.kind``."""
    return tuple(_KINDS)


def get_export_kind(name: str) -> ExportKind:
    if name not in _KINDS:
        raise ConfigError(f"Unknown export '{name}'; set [[kind]] to one of: {', '.join(_KINDS)}.")
    return _KINDS[name]


class _Titles(Mapping):
    """Each kind's title by name, read from the registry when asked (a kind registered later shows too)."""

    def __getitem__(self, name: str) -> str:
        return _KINDS[name].title

    def __iter__(self) -> Iterator[str]:
        return iter(_KINDS)

    def __len__(self) -> int:
        return len(_KINDS)


KIND_TITLES: Mapping[str, str] = _Titles()
