"""The team load (bench/team_load.py), 2 minutes of it: 8 sessions labelling on the card, 2 CLI label loops, a
debate job, an import and page reloads at once. It asserts the issue's goals (no page exception or failed command,
every label stored exactly once, label in the store p95 <= 2 s) and prints its figures. The smoke run is in
tests/test_bench_smoke.py."""
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
    assert percentile(figures["label_ms"], 0.95) <= 2000
