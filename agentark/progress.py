"""How far a job is and how long it has left, from what its progress file says.

The one design decision: the time left is extrapolated from **measured** progress only: the work done
since the job started working (after its engine loaded) over the time that took. Nothing is guessed
from the config before the first step finishes, so the estimate is "unknown" until then and honest after.
"""
from __future__ import annotations

from typing import NamedTuple


class Point(NamedTuple):
    """Work done (0 to 1) at a time (seconds, any clock shared by the points)."""

    time: float
    fraction: float


def work_fraction(done: int, total: int, chunk_size: int = 0, steps_done: int = 0, steps: int = 0) -> float:
    """Share of a debate run's work done: finished problems, plus the finished steps of the chunk in flight.

    A chunk's problems finish together after its last step, so between shards the chunk's ``steps_done``
    of ``steps`` (an upper bound: early stopping can end a chunk sooner) counts for that share of the chunk.
    """
    if total <= 0:
        return 1.0
    in_flight = chunk_size * min(steps_done, steps) / steps if steps > 0 else 0.0
    return max(0.0, min(1.0, (done + in_flight) / total))


def eta_seconds(start: Point, latest: Point, now: float) -> float | None:
    """Seconds left: the rate from ``start`` to ``latest`` carried to the end, less the time since ``latest``.

    None while no work has been measured (no progress since ``start``, or no time passed).
    """
    worked = latest.fraction - start.fraction
    elapsed = latest.time - start.time
    if worked <= 0 or elapsed <= 0:
        return None
    left = (1.0 - latest.fraction) * elapsed / worked - max(0.0, now - latest.time)
    return max(0.0, left)


def format_eta(seconds: float | None) -> str:
    """'about 40 s left', 'about 3 min left', 'about 1 h 5 min left'; 'estimating time left…' when unknown."""
    if seconds is None:
        return "estimating time left…"
    if seconds < 1:
        return "finishing…"
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5)} s left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60} min left"


def run_eta(progress: dict, now: float) -> float | None:
    """Seconds left for a run from its progress file (``work_started_at``/``work_at_start``: when its engine
    was ready and how much was already done then; ``fraction``/``measured_at``: the latest measurement)."""
    try:
        start = Point(float(progress["work_started_at"]), float(progress.get("work_at_start", 0.0)))
        latest = Point(float(progress["measured_at"]), float(progress["fraction"]))
    except (KeyError, TypeError, ValueError):
        return None
    return eta_seconds(start, latest, now)
