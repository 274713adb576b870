"""The team load (bench/team_load.py), 2 minutes of it: 8 sessions labelling on the card, 2 CLI label loops, a
debate job, an import and page reloads at once. It asserts what holds today (no page exception or failed command,
every label stored exactly once) and prints its figures. The latency goal (label in the store p95 <= 2 s) is NOT
met on the 2-core machine: 31.9 s measured on a quiet one (docs/figures.md), so the test reports it rather than
gating on it. The smoke run is in tests/test_bench_smoke.py."""
from __future__ import annotations

import pytest

from tests.browser import chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(chromium_path() is None, reason="needs /usr/bin/chromium")]


@pytest.mark.timeout(1200)
def test_two_minutes_of_team_load_lose_nothing_and_crash_nothing():
    from bench.team_load import percentile, run

    figures = run(minutes=2, sessions=8, steps=20_000, import_size=1000, debate_size=10)
    assert figures["exceptions"] == []
    assert figures["card_sent"] > 0 and figures["card_stored"] == figures["card_sent"]
    assert figures["cli_stored"] == figures["cli_sent"]
    assert figures["lost"] == figures["extra"] == figures["doubled"] == 0
    p95 = percentile(figures["label_ms"], 0.95)
    print(f"label in the store p95 {p95:.0f} ms (goal 2000 ms: {'met' if p95 <= 2000 else 'NOT met'})")
