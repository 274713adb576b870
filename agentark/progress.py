"""How far a job is and how long it has left, from what its progress file says.

The one design decision: the time left is extrapolated from **measured** progress only: the work done
since the job started working (after its engine loaded) over the time that took. Nothing is guessed
from the config before the first batch is measured, so the estimate is "unknown" until then and honest after.

Progress within an engine call comes through a ``BatchWatch`` the job sets around the call (``watching``): the
engine reports requests done after every micro-batch (and tokens within one, where it can) and stops between
them when the job was asked to stop, so a long batch neither hides its progress nor delays a stop.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple


class Point(NamedTuple):
    """Work done (0 to 1) at a time (seconds, any clock shared by the points)."""

    time: float
    fraction: float


def work_fraction(done: int, total: int, chunk_size: int = 0, steps_done: float = 0, steps: int = 0) -> float:
    """Share of a debate run's work done: finished problems, plus the finished steps of the chunk in flight.

    A chunk's problems finish together after its last step, so between shards the chunk's ``steps_done``
    of ``steps`` (an upper bound: early stopping can end a chunk sooner) counts for that share of the chunk;
    ``steps_done`` may be fractional (the share of the step in flight that its engine reported done).
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


class BatchWatch:
    """What the code running an engine call hears while the batch is generated, and how it stops it.

    ``on_progress(done, total)`` gets the requests done of the call (a float: the micro-batch in flight counts
    by its tokens generated of its ``max_tokens``); ``should_stop()`` is asked between tokens and micro-batches;
    ``check()`` raises the caller's stop (``JobStopped`` in a job) and is called by the engine once it has
    stopped, so nothing half-generated is handed back as a result.
    """

    def __init__(self, on_progress: Callable[[float, int], None] | None = None,
                 should_stop: Callable[[], bool] | None = None, check: Callable[[], None] | None = None) -> None:
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.check = check or (lambda: None)

    def progress(self, done: float, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total)

    def stop_requested(self) -> bool:
        return bool(self.should_stop and self.should_stop())


_WATCH: ContextVar[BatchWatch | None] = ContextVar("agentark_batch_watch", default=None)


@contextmanager
def watching(watch: BatchWatch) -> Iterator[BatchWatch]:
    """Engines called inside this block report to ``watch`` and obey its stop (see ``current_watch``)."""
    token = _WATCH.set(watch)
    try:
        yield watch
    finally:
        _WATCH.reset(token)


def current_watch() -> BatchWatch | None:
    """The watch of the engine call in flight (None outside ``watching``): engines call ``progress`` after each
    micro-batch (and token, where they can) and stop between micro-batches when ``stop_requested``."""
    return _WATCH.get()


@contextmanager
def share_of(offset: int, total: int) -> Iterator[None]:
    """Within this block the current watch hears an engine call's progress as ``offset`` plus its requests done,
    of ``total``: one debate step that calls several engines reports one rising count."""
    outer = _WATCH.get()
    if outer is None:
        yield
        return
    inner = BatchWatch(lambda done, _total: outer.progress(offset + done, total), outer.should_stop, outer.check)
    with watching(inner):
        yield
