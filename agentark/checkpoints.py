"""Models the studio trained, and the one resolver every model picker goes through.

Design decision: a trained model is a folder ``$AGENTARK_HOME/checkpoints/MODEL_ID/`` holding the weights,
the tokenizer and a model card (``agentark_model.json``: kind, base model, job, export sha256, config, final
metrics, device, the solve prompt). The card is the source of truth and the ``models`` table is filled from
it on refresh, so a job never opens the store and the resolver works without it: a debate worker, an
evaluation or a PRM labeler given a studio model id finds the folder by name alone.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from agentark import config
from agentark.errors import ModelNotFoundError
from agentark.store import register_ingester

MODEL_CARD = "agentark_model.json"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def model_dir(model_id: str) -> Path:
    """Where a studio model with this id lives (whether or not it exists yet)."""
    if not _ID.match(model_id or ""):
        raise ModelNotFoundError(
            f"'{model_id}' is not a valid model id: use letters, digits, '.', '_' or '-' (at most 128)."
        )
    return config.checkpoints_dir() / model_id


def read_card(folder: Path | str) -> dict | None:
    """The model card of a studio model folder, or None for any other folder."""
    path = Path(folder) / MODEL_CARD
    if not path.exists():
        return None
    return json.loads(path.read_text())


def write_card(folder: Path | str, card: dict) -> None:
    """Write the card under a temp name then rename, so a folder with a card is always complete."""
    path = Path(folder) / MODEL_CARD
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(card, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def studio_model_path(name: str) -> Path | None:
    """The folder of the studio model called ``name``, or None when ``name`` is not one."""
    if not name or not _ID.match(name):
        return None
    folder = config.checkpoints_dir() / name
    return folder if (folder / MODEL_CARD).exists() else None


def resolve(name: str) -> str:
    """What a model picker should load for ``name``: a studio model id becomes its folder; a path, a hub id or
    ``embedded:...`` is returned unchanged for the engine to interpret."""
    folder = studio_model_path(name)
    return str(folder) if folder is not None else name


def prompt_for(name: str) -> str | None:
    """The solve prompt a studio model (id or folder) was trained with, or None when it has none recorded."""
    folder = studio_model_path(name) or Path(name).expanduser()
    card = read_card(folder) if folder.is_dir() else None
    return card.get("prompt") if card else None


def model_ids(kind: str) -> list[str]:
    """Ids of the studio's finished models that a job of this kind trained, newest first."""
    return [c["model_id"] for c in reversed(local_models()) if c.get("kind") == kind and c.get("model_id")]


def local_models() -> list[dict]:
    """Cards of every finished studio model folder under the checkpoints folder, oldest first."""
    cards = []
    for card_path in sorted(config.checkpoints_dir().glob(f"*/{MODEL_CARD}")):
        card = json.loads(card_path.read_text())
        card["path"] = str(card_path.parent)
        cards.append(card)
    return sorted(cards, key=lambda c: str(c.get("created_at", "")))


def sync_models(store) -> int:
    """Register model folders the store has not seen yet; return how many were added."""
    from agentark.store import model_tables as q

    known = q.model_ids(store)
    added = 0
    for card in local_models():
        if card["model_id"] not in known:
            added += q.register_model(store, card, card["path"])
    return added


def list_models(store, kind: str | None = None):
    """Registered models (after picking up new folders), newest first."""
    from agentark.store import model_tables as q

    sync_models(store)
    return q.list_models(store, kind)


# Trained model folders (written by training jobs) become rows of the models table on refresh too.
register_ingester("models", sync_models)
