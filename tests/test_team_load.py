"""The team load (bench/team_load.py): sessions labelling on the card, CLI label loops, a debate job, an import and
page reloads at once. The smoke run checks the benchmark runs; the 2-minute run asserts the issue's goals: no page
exception or failed command, every label stored exactly once, label in the store p95 <= 2 s; it prints its
figures."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.skipif(chromium_path() is None, reason="needs /usr/bin/chromium")]


def _goals(figures: dict) -> None:
    assert figures["exceptions"] == []
    assert figures["card_sent"] > 0 and figures["card_stored"] == figures["card_sent"]
    assert figures["cli_stored"] == figures["cli_sent"]
    assert figures["lost"] == figures["extra"] == figures["doubled"] == 0


@pytest.mark.timeout(600)
def test_team_load_smoke():
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = subprocess.run([sys.executable, "bench/team_load.py", "--smoke"], cwd=ROOT, capture_output=True, text=True,
                         timeout=580)
    print(out.stdout)
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    assert "labels sent vs stored" in out.stdout


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_two_minutes_of_team_load_lose_nothing_and_crash_nothing():
    from bench.team_load import percentile, run

    figures = run(minutes=2, sessions=8, steps=20_000, import_size=1000, debate_size=10)
    _goals(figures)
    assert percentile(figures["label_ms"], 0.95) <= 2000
