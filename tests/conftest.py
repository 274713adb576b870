"""Shared fixtures: every test gets its own AGENTARK_HOME; the converted embedded model is shared."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import agentark.jobs.builtin  # noqa: F401  (registers every job kind's ingester, as the app and the CLI do)

ROOT = Path(__file__).resolve().parent.parent
SHARED_GSM8K = ROOT.parent / "shared" / "data" / "gsm8k"

# One conversion of the embedded model serves the whole suite (and the developer's own ./data).
os.environ.setdefault("AGENTARK_MODEL_CACHE", str(ROOT / "data" / "models"))


@pytest.fixture(autouse=True)
def agentark_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("AGENTARK_HOME", str(home))
    monkeypatch.delenv("AGENTARK_STORE", raising=False)
    return home


@pytest.fixture
def gsm8k_dir() -> Path:
    if not (SHARED_GSM8K / "test.jsonl").exists():
        pytest.skip("../shared/data/gsm8k is absent (only present in the studio's own workspace)")
    return SHARED_GSM8K


@pytest.fixture(scope="session", autouse=True)
def _close_cached_stores():
    """Close stores the AppTest runs cached, so DuckDB connections do not outlive the interpreter's teardown."""
    yield
    import gc

    import streamlit as st

    st.cache_resource.clear()
    gc.collect()
