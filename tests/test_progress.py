"""Time left from measured progress: pure functions, hand-built inputs."""
from __future__ import annotations

import pytest

from agentark.progress import Point, eta_seconds, format_eta, work_fraction


def test_fraction_counts_finished_problems_and_the_steps_of_the_chunk_in_flight():
    assert work_fraction(0, 8) == 0
    assert work_fraction(4, 8) == 0.5
    assert work_fraction(0, 6, chunk_size=6, steps_done=1, steps=2) == 0.5
    assert work_fraction(4, 8, chunk_size=4, steps_done=1, steps=4) == pytest.approx(5 / 8)
    assert work_fraction(0, 6, chunk_size=6, steps_done=3, steps=2) == 1.0  # capped at the chunk
    assert work_fraction(8, 8, chunk_size=4, steps_done=2, steps=2) == 1.0
    assert work_fraction(0, 0) == 1.0


def test_eta_extrapolates_the_measured_rate():
    # Half the work took 30 s after the engine loaded at t=100: 30 s more.
    assert eta_seconds(Point(100, 0.0), Point(130, 0.5), now=130) == pytest.approx(30)
    # Ten seconds into the next step, ten of those are already spent.
    assert eta_seconds(Point(100, 0.0), Point(130, 0.5), now=140) == pytest.approx(20)
    # A resumed run starts from what was already done: only the work of this process sets the rate.
    assert eta_seconds(Point(0, 0.5), Point(10, 0.75), now=10) == pytest.approx(10)
    # Never negative once the estimate runs out.
    assert eta_seconds(Point(0, 0.0), Point(10, 0.5), now=100) == 0


def test_eta_is_unknown_until_work_is_measured():
    assert eta_seconds(Point(100, 0.0), Point(100, 0.0), now=160) is None
    assert eta_seconds(Point(100, 0.25), Point(150, 0.25), now=160) is None


@pytest.mark.parametrize("seconds, text", [
    (None, "estimating time left…"), (0.2, "finishing…"), (3, "about 5 s left"), (42, "about 40 s left"),
    (89, "about 90 s left"), (150, "about 2 min left"), (3900, "about 1 h 5 min left"),
])
def test_eta_text(seconds, text):
    assert format_eta(seconds) == text
