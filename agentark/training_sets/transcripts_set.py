"""Transcripts: whole runs in the lossless transcript schema (``agentark.runs.formats.transcript_jsonl``), minus
what curation excluded; re-importable without loss. The file is JSON lines (its records nest); the preview shows
one flat row per message."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from agentark.errors import ConfigError
from agentark.runs.formats.transcript_jsonl import transcript_records, write_records
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.store import run_tables
from agentark.training_sets.export_config import ExportConfig
from agentark.training_sets.kind_registry import ExportKind, register_export_kind
from agentark.training_sets.export_summary import ExportSummary

TRANSCRIPT_PREVIEW = ["run_id", "problem_id", "message_id", "agent", "round", "role", "content", "answer",
                      "is_correct", "finish_reason"]


def curated_records(store: Store, cfg: ExportConfig) -> list[dict]:
    """Whole runs in the lossless transcript schema, minus what curation excluded (the preview and the file
    hold the same records)."""
    run_ids = cfg.run_ids or list(run_tables.list_runs(store)["run_id"])
    kept = q.curated_message_ids(store, run_ids)
    return [r for run_id in run_ids for r in transcript_records(store, run_id) if r["message_id"] in kept]


def prepare_transcripts(store: Store, cfg: ExportConfig) -> tuple[pd.DataFrame, ExportSummary]:
    records = curated_records(store, cfg)
    frame = pd.DataFrame([{k: r.get(k) for k in TRANSCRIPT_PREVIEW} for r in records], columns=TRANSCRIPT_PREVIEW)
    return frame, ExportSummary(cfg.kind, len(frame))


def transcripts_file(store: Store, cfg: ExportConfig) -> tuple[ExportSummary, Callable[[Path], None]]:
    """The records as the file holds them, and the writer of that file."""
    if cfg.format != "jsonl":
        raise ConfigError("Transcript exports are JSON lines; set [[format]] to jsonl or write to a file ending in "
                          ".jsonl.")
    records = curated_records(store, cfg)
    if not records:
        raise ConfigError("The transcripts export is empty: check the run ids (`python -m agentark runs`) and "
                          "curation marks.")
    return ExportSummary(cfg.kind, len(records)), lambda tmp: write_records(records, tmp)


TRANSCRIPTS = register_export_kind(ExportKind(
    name="transcripts", title="Transcripts: every message",
    description="Whole runs, every message, in the lossless transcript schema (re-importable with "
                "`python -m agentark import`).",
    columns=tuple(TRANSCRIPT_PREVIEW), prepare=prepare_transcripts, default_format="jsonl", file=transcripts_file))
