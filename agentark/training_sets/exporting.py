"""Preview, write and list training sets: each kind's rows come from its record in the registry
(``agentark.training_sets.kind_registry``), and every file goes through the immutable write."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from agentark.errors import ConfigError
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.training_sets.export_config import FORMATS, ExportConfig
from agentark.training_sets.kind_registry import get_export_kind
from agentark.training_sets.export_summary import ExportResult, ExportSummary
from agentark.training_sets.immutable_file import frame_writer, write_immutable


def prepare(store: Store, cfg: ExportConfig) -> tuple[pd.DataFrame, ExportSummary]:
    """The rows an export would hold and its summary, without writing anything."""
    return get_export_kind(cfg.kind).prepare(store, cfg)


def build_rows(store: Store, cfg: ExportConfig) -> pd.DataFrame:
    """The rows an export would hold, without writing anything."""
    return prepare(store, cfg)[0]


def export(store: Store, cfg: ExportConfig, out: Path | str | None = None) -> ExportResult:
    """Write an export file (never overwriting one), record it, and return where it is and its hash."""
    if out is not None:
        out = Path(out).expanduser().resolve()
        suffix = out.suffix.lstrip(".")
        if suffix in FORMATS and suffix != cfg.format:
            cfg = ExportConfig(**{**cfg.to_dict(), "format": suffix})
        if out.exists():
            raise ConfigError(f"{out} exists and exports are immutable; choose another output file.")
    kind = get_export_kind(cfg.kind)
    if kind.file is not None:
        summary, write = kind.file(store, cfg)
        return write_immutable(store, cfg, out, summary, write)
    rows, summary = kind.prepare(store, cfg)
    if rows.empty:
        why = "; ".join(f"{n} message(s) dropped: {rule}" for rule, n in summary.dropped.items())
        raise ConfigError(
            f"The {cfg.kind} export is empty for these runs: check the run ids, curation marks, (for prm) that steps "
            "are segmented and labelled by a source listed in the precedence, and (for pairs and [[corrections]] "
            "human) that people wrote corrections on the Label steps page" + (f" ({why})" if why else "")
            + "."
        )
    return write_immutable(store, cfg, out, summary, frame_writer(rows, cfg.format))


def write_export(store: Store, cfg: ExportConfig, rows: pd.DataFrame, summary: ExportSummary) -> ExportResult:
    """Write rows from ``prepare(store, cfg)`` (or a subset of them, e.g. a study's matched-volume arm, which
    ``summary`` says) as an immutable export named by its hash. An export with the same content, kind and recorded
    config already in the store is returned instead of being recorded twice (a study re-exporting unchanged data)."""
    if rows.empty:
        why = "; ".join(f"{n} message(s) dropped: {rule}" for rule, n in summary.dropped.items())
        raise ConfigError(f"The {cfg.kind} export is empty for these runs" + (f" ({why})" if why else "") + ".")
    return write_immutable(store, cfg, None, summary, frame_writer(rows, cfg.format), reuse=True)


def list_exports(store: Store) -> pd.DataFrame:
    return q.list_exports(store)
