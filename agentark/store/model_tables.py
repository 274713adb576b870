"""SQL for the models registry: one row per trained checkpoint the studio made.

Rows are only inserted from a checkpoint's model card (``agentark.checkpoints``); re-registering the same model
id changes nothing, so a refresh may run any number of times.
"""
from __future__ import annotations

import json

import pandas as pd

from agentark.clock import now
from agentark.store import Store

_COLUMNS = ("model_id", "kind", "path", "base_model", "job_id", "created_at", "export_sha256", "config_json",
            "metrics_json", "device", "precision", "world_size", "peak_memory_mb", "prompt", "step")


def register_model(store: Store, card: dict, path: str) -> bool:
    """Insert a model from its card unless its id is already registered; return whether it was new."""
    row = {
        "model_id": card["model_id"], "kind": card.get("kind"), "path": path, "base_model": card.get("base_model"),
        "job_id": card.get("job_id"), "created_at": card.get("created_at") or now(),
        "export_sha256": card.get("export_sha256"), "config_json": json.dumps(card.get("config", {}), sort_keys=True),
        "metrics_json": json.dumps(card.get("metrics", {}), sort_keys=True), "device": card.get("device"),
        "precision": card.get("precision"), "world_size": card.get("world_size"),
        "peak_memory_mb": card.get("peak_memory_mb"), "prompt": card.get("prompt"), "step": card.get("step"),
    }
    with store.transaction() as con:
        if con.execute("SELECT count(*) FROM models WHERE model_id = ?", [row["model_id"]]).fetchone()[0]:
            return False
        con.execute(f"INSERT INTO models ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})",
                    [row[c] for c in _COLUMNS])
    return True


def model_ids(store: Store) -> set[str]:
    return {r[0] for r in store.con.execute("SELECT model_id FROM models").fetchall()}


def list_models(store: Store, kind: str | None = None) -> pd.DataFrame:
    """Registered models, newest first; ``kind`` in prm/sft/pad narrows the list."""
    return store.con.execute(
        "SELECT * FROM models WHERE $kind IS NULL OR kind = $kind ORDER BY created_at DESC, model_id",
        {"kind": kind},
    ).df()


def get_model(store: Store, model_id: str) -> dict | None:
    frame = store.con.execute("SELECT * FROM models WHERE model_id = ?", [model_id]).df()
    return None if frame.empty else frame.iloc[0].to_dict()
