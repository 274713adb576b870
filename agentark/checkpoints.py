"""Models the studio trained, and the one resolver every model name goes through (:func:`locate_model`).

Design decision: a trained model is a folder ``$AGENTARK_HOME/checkpoints/MODEL_ID/`` holding the weights,
the tokenizer and a model card (``agentark_model.json``: kind, base model, job, export sha256, config, final
metrics, device, the solve prompt). The card is the source of truth and the ``models`` table is filled from
it on refresh, so a job never opens the store and the resolver works without it: a debate worker, an
evaluation or a PRM labeler given a studio model id finds the folder by name alone.

A model name is one of: ``embedded:...`` (or empty) for the embedded model, a studio model id, a folder, or a
Hugging Face hub id. :func:`locate_model` is the one place that tells them apart, for the engines, the
trainers' base models and the PRM loader alike; what differs between them is only whether a hub id must
already be in the local cache and which files the folder must hold.
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
# One of these makes a folder's tokenizer loadable.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")
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


def locate_model(name: str, field: str | None = "model", cached: bool = False, config: bool = True,
                 tokenizer: bool = False) -> tuple[str, bool]:
    """(what to load, whether it is a local folder) for a model name, refusing what cannot be loaded.

    ``embedded:...`` (or empty) is the embedded model's folder (converted on first use); a studio model id
    is its folder; an existing folder is its absolute path; a name that looks like a path (starting with
    ``.``, ``/`` or ``~``, ending with ``/``, or with more than one ``/``) but is no folder is refused; anything
    else is a hub id, returned as is for ``from_pretrained`` or, with ``cached``, as its folder in the local
    Hugging Face cache (refused when it is not there). A local folder must hold ``config.json`` (``config``)
    and a tokenizer (``tokenizer``). Errors name the config field ``field`` (None for a caller whose field
    varies).
    """
    fix = f"set [[{field}]] to" if field else "pass"
    if not name or name.startswith("embedded:"):
        from agentark.embedded import ensure_embedded

        return _checked(ensure_embedded(), fix, config, tokenizer), True
    target = resolve(name)
    path = Path(target).expanduser()
    if path.is_dir():
        return _checked(path.resolve(), fix, config, tokenizer), True
    if target.startswith((".", "/", "~")) or target.endswith("/") or target.count("/") > 1:
        raise ModelNotFoundError(
            f"Model folder '{name}' does not exist; {fix} an existing model or checkpoint folder, a studio model "
            "id, a model id in your Hugging Face cache, or embedded:smollm2-135m.")
    if not cached:
        return target, False
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(target, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - any hub failure means "not in the local cache" here
        raise ModelNotFoundError(
            f"'{name}' is neither a folder nor a model in the local Hugging Face cache ({type(exc).__name__}); "
            f"download it into the cache on a connected machine, or {fix} a model folder.") from exc
    return _checked(folder, fix, config, tokenizer), True


def _checked(folder: Path, fix: str, config: bool, tokenizer: bool) -> str:
    """``folder`` as a string, once it holds what loading it needs (``fix``: how the message words the remedy)."""
    if config and not (folder / "config.json").exists():
        raise ModelNotFoundError(f"Model folder {folder} has no config.json; {fix} a saved model or checkpoint folder.")
    if tokenizer and not any((folder / f).exists() for f in TOKENIZER_FILES):
        raise ModelNotFoundError(f"{folder} has no tokenizer ({', '.join(TOKENIZER_FILES)}); save the tokenizer into "
                                 f"that folder (tokenizer.save_pretrained(folder)) or {fix} another model.")
    return str(folder)


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
