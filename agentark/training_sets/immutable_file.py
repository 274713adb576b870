"""The immutable write every export goes through: written under a temporary name, hashed (sha256), renamed
(named by its hash unless a file was asked for), made read-only, never overwritten, and recorded in the
``exports`` table with the config that produced it and its summary."""
from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from agentark import config
from agentark.clock import new_id
from agentark.errors import ConfigError
from agentark.ids import file_sha256
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.store.eval_tables import export_row
from agentark.training_sets.export_config import ExportConfig
from agentark.training_sets.export_summary import ExportResult, ExportSummary


def frame_writer(frame: pd.DataFrame, fmt: str) -> Callable[[Path], None]:
    """A writer of rows as Parquet or JSON lines (which ``datasets.load_dataset`` opens)."""
    def write(path: Path) -> None:
        if fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return write


def write_immutable(store: Store, cfg: ExportConfig, out: Path | None, summary: ExportSummary,
                    write: Callable[[Path], None], reuse: bool = False) -> ExportResult:
    """Write through ``write(tmp)``, name the file by its hash unless ``out`` is given, make it read-only,
    never overwrite, and record it in the store. With ``reuse``, an export with the same content, kind, path
    and recorded config is returned instead of being recorded twice."""
    target_dir = out.parent if out is not None else config.exports_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = target_dir / f".export-{secrets.token_hex(6)}.tmp"
    write(tmp)
    digest = file_sha256(tmp)
    path = out if out is not None else target_dir / f"{cfg.kind}-{digest[:12]}.{cfg.format}"
    if path.exists():
        tmp.unlink()
        if out is not None or file_sha256(path) != digest:
            raise ConfigError(f"{path} exists and exports are immutable; choose another output file.")
    else:
        os.replace(tmp, path)
        path.chmod(0o444)
    filters = {**cfg.to_dict(), "summary": summary.to_dict()}
    same = export_row(store, digest) if reuse else None
    if same is not None and same["kind"] == cfg.kind and same["path"] == str(path) and \
            same["filters"] == json.loads(json.dumps(filters, sort_keys=True)):
        return ExportResult(same["export_id"], path, digest, summary.rows, summary)
    export_id = new_id(cfg.kind)
    q.record_export(store, {"export_id": export_id, "kind": cfg.kind, "path": str(path), "sha256": digest,
                            "n_rows": summary.rows, "filters": filters})
    return ExportResult(export_id, path, digest, summary.rows, summary)
