"""Where AgentArk keeps its things, and the defaults every other module reads.

Everything lives under one folder, ``AGENTARK_HOME`` (default ``./data``): the DuckDB store, one folder per
run, exports and checkpoints. The converted model cache defaults to ``$AGENTARK_HOME/models`` but can be
pointed elsewhere with ``AGENTARK_MODEL_CACHE`` so that many homes (tests, say) share one conversion.
Paths are read from the environment on every call, never frozen at import time, so a test that sets
``AGENTARK_HOME`` sees its own folder.
"""
from __future__ import annotations

import os
from pathlib import Path

from agentark.errors import ConfigError

EMBEDDED_MODEL = "embedded:smollm2-135m"
DEFAULT_DATASET = "builtin:arithmetic"
DEFAULT_LOCK_TIMEOUT_S = 30.0
DEFAULT_SYMBOLIC_TIMEOUT_S = 5


def home() -> Path:
    """The studio's data folder, created on first use."""
    path = Path(os.environ.get("AGENTARK_HOME", "data")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_upload(filename: str, data: bytes) -> Path:
    """Keep bytes uploaded through the app under ``imports/<sha256>/NAME`` in the home, and return that path:
    named by content as well as by name, so the same bytes land in one place and two files with one name do
    not overwrite each other. People who may not type server paths give files this way."""
    import hashlib

    name = Path(filename).name or "upload"
    folder = home() / "imports" / hashlib.sha256(data).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(data)
    return target


def store_path() -> Path:
    """The DuckDB file: ``$AGENTARK_STORE`` or ``$AGENTARK_HOME/agentark.duckdb``."""
    explicit = os.environ.get("AGENTARK_STORE")
    return Path(explicit).expanduser().resolve() if explicit else home() / "agentark.duckdb"


def runs_dir() -> Path:
    """One sub-folder per run: its config, problems, Parquet shards, progress and log."""
    path = home() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def exports_dir() -> Path:
    path = home() / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def checkpoints_dir() -> Path:
    path = home() / "checkpoints"
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_cache_dir() -> Path:
    """Converted model weights; shared across homes when ``AGENTARK_MODEL_CACHE`` is set."""
    explicit = os.environ.get("AGENTARK_MODEL_CACHE")
    path = Path(explicit).expanduser().resolve() if explicit else home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def lock_timeout_s() -> float:
    """How long a store operation waits for another process to let go of the file: ``AGENTARK_LOCK_TIMEOUT``
    seconds (default 30)."""
    raw = os.environ.get("AGENTARK_LOCK_TIMEOUT", str(DEFAULT_LOCK_TIMEOUT_S))
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ConfigError(f"AGENTARK_LOCK_TIMEOUT must be a number of seconds, 0 or more (got {raw!r}).")
    return value


def symbolic_timeout_s() -> int:
    """How long one symbolic answer comparison (math-verify) may take: ``AGENTARK_SYMBOLIC_TIMEOUT`` whole
    seconds (default 5); past it the answers count as different."""
    raw = os.environ.get("AGENTARK_SYMBOLIC_TIMEOUT", str(DEFAULT_SYMBOLIC_TIMEOUT_S))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"AGENTARK_SYMBOLIC_TIMEOUT must be a whole number of seconds, 1 or more (got {raw!r}).")
    return value
