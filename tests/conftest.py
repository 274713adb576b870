"""Shared fixtures: every test gets its own AGENTARK_HOME; the converted embedded model is shared.

Tests say what they are (pytest.ini declares the markers): ``model`` for a test that uses the real embedded
model (it asks for the ``embedded_model`` fixture; a test that reaches the model in this process without the
marker fails, and tests/test_markers.py checks the fixture against the marker), ``browser`` for one that
drives Chromium (the ``browser`` fixture), ``slow`` for one over about 10 s on CI's two cores; the summary
names unmarked tests that took longer than that here.
"""
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


SLOW_S = 10.0


@pytest.fixture(scope="session")
def embedded_model() -> Path:
    """The converted embedded model's folder (converted on first use); a test that asks for it is marked model."""
    from agentark.embedded import ensure_embedded

    return ensure_embedded()


@pytest.fixture(autouse=True)
def _embedded_model_only_in_model_tests(request, monkeypatch):
    """Fail an unmarked test that loads the embedded model in this process, so `-m "not model"` means it."""
    if request.node.get_closest_marker("model"):
        yield
        return
    from agentark import embedded

    calls: list[str] = []
    real = embedded.ensure_embedded

    def recorded() -> Path:
        calls.append(request.node.nodeid)
        return real()

    monkeypatch.setattr(embedded, "ensure_embedded", recorded)
    yield
    if calls:
        pytest.fail(f"{request.node.nodeid} loads the embedded model: mark it @pytest.mark.model and ask for the "
                    "embedded_model fixture.", pytrace=False)


_UNMARKED_SLOW: list[tuple[str, float]] = []


def pytest_runtest_logreport(report) -> None:
    if report.when == "call" and report.duration > SLOW_S and "slow" not in report.keywords:
        _UNMARKED_SLOW.append((report.nodeid, report.duration))


def pytest_terminal_summary(terminalreporter) -> None:
    if _UNMARKED_SLOW:
        terminalreporter.section(f"over {SLOW_S:.0f} s without the slow marker")
        for nodeid, seconds in _UNMARKED_SLOW:
            terminalreporter.write_line(f"{seconds:6.1f} s  {nodeid}")


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
