"""Slots: at most ``machine.slots(device)`` heavy jobs use a device at once; the others wait in one queue.

Every process that is about to compute on a device (a job's worker, a job the CLI runs in the foreground, the
app's in-process work) asks for a slot first: it writes a ticket into the queue folder and polls. The oldest
live ticket among those wanting the same device takes the first slot that frees, so the queue is first come,
first served per device, and a ticket's place is the number of older tickets that share a device with it.

Design decision: no daemon and nobody "starts the next job". A slot is a file ``DEVICE.N.lock`` in the slots
folder (``$AGENTARK_SLOTS_DIR``, default ``$AGENTARK_HOME/slots``) held with ``flock``, which the kernel
releases when its holder exits, however it exits (kill -9 included); a waiting process notices within one
poll. A ticket whose process is gone does not count, so a killed waiter never blocks the queue either.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from agentark import config
from agentark.jobs import machine
from agentark.jobs.folder import atomic_write_bytes, pid_alive

POLL_S = 0.2
# Devices this thread already holds: work nested in a job (a helper that asks for a slot itself) must not
# queue behind the job that runs it.
_HELD = threading.local()


def slots_dir() -> Path:
    """Where slot locks and queue tickets live; point several homes at one folder to share one machine."""
    explicit = os.environ.get("AGENTARK_SLOTS_DIR")
    path = Path(explicit).expanduser().resolve() if explicit else config.home() / "slots"
    (path / "queue").mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class Ticket:
    """One waiter: its place is the order of the ticket names (nanosecond time first)."""

    path: Path
    pid: int
    needs: tuple[str, ...]
    label: str
    job_id: str | None


def tickets() -> list[Ticket]:
    """Live tickets, oldest first; those of processes that are gone are removed."""
    found = []
    for path in sorted((slots_dir() / "queue").glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being written or just removed
        if not pid_alive(data.get("pid")):
            path.unlink(missing_ok=True)
            continue
        found.append(Ticket(path, int(data["pid"]), tuple(data.get("needs") or ()), str(data.get("label", "")),
                            data.get("job_id")))
    return found


def place(ticket: Ticket, queue: list[Ticket]) -> int:
    """1 for the next to start: one more than the older tickets that want a device this one wants."""
    ahead = 0
    for other in queue:
        if other.path == ticket.path:
            break
        if set(other.needs) & set(ticket.needs):
            ahead += 1
    return ahead + 1


def queue_places() -> dict[str, int]:
    """job id -> place in the queue (1 = next to start) of every job waiting for a slot."""
    queue = tickets()
    return {t.job_id: place(t, queue) for t in queue if t.job_id}


@dataclass
class Held:
    """Slots held by this process: released by ``release`` (or the process's end)."""

    devices: tuple[str, ...]
    threads: int
    _files: list = field(default_factory=list, repr=False)
    _previous: dict | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._files:
            _HELD.devices = ()
        for handle in self._files:
            handle.close()  # closing the descriptor drops its flock
        self._files = []
        if self._previous is not None:
            machine.restore_threads(self._previous)
            self._previous = None


def _try_lock(needs: tuple[str, ...], label: str, job_id: str | None) -> list | None:
    """One free slot of every device needed, or None (and nothing held) when some device has none free."""
    held = []
    for device in sorted(set(needs)):
        for index in range(machine.slots(device)):
            handle = open(slots_dir() / f"{device}.{index}.lock", "a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            handle.truncate(0)
            handle.write(json.dumps({"pid": os.getpid(), "label": label, "job_id": job_id, "since": time.time()}))
            handle.flush()
            held.append(handle)
            break
        else:
            for handle in held:
                handle.close()
            return None
    return held


def acquire(needs: tuple[str, ...], *, label: str, job_id: str | None = None,
            check: Callable[[], None] | None = None, on_wait: Callable[[int], None] | None = None,
            since: float | None = None, poll_s: float = POLL_S) -> Held:
    """Wait for a slot on every device in ``needs`` (first come, first served), then set this process's
    threads to the slot's share. ``check`` is called every poll and may raise (a stop request);
    ``on_wait(place)`` hears the place in the queue whenever it changes; ``since`` (epoch seconds, default now)
    is when the work asked to run, which orders the queue: a job's start, not when its worker got this far.
    No needs: nothing to wait for."""
    needs = tuple(needs)
    if not needs or set(needs) <= set(getattr(_HELD, "devices", ())):
        return Held(needs, machine.threads_per_slot())
    order = int((since if since is not None else time.time()) * 1e9)
    name = f"{order:020d}-{os.getpid()}-{secrets.token_hex(4)}.json"
    path = slots_dir() / "queue" / name
    atomic_write_bytes(path, json.dumps({"pid": os.getpid(), "needs": list(needs), "label": label,
                                         "job_id": job_id, "queued_at": time.time()}).encode())
    ticket = Ticket(path, os.getpid(), needs, label, job_id)
    last = None
    try:
        while True:
            if check is not None:
                check()
            current = place(ticket, tickets())
            if current == 1:
                files = _try_lock(needs, label, job_id)
                if files is not None:
                    break
            if current != last and on_wait is not None:
                on_wait(current)
            last = current
            time.sleep(poll_s)
    finally:
        path.unlink(missing_ok=True)
    threads = machine.threads_per_slot()
    _HELD.devices = needs
    return Held(needs, threads, files, machine.apply_threads(threads))


@contextmanager
def hold(needs: tuple[str, ...], **kwargs) -> Iterator[Held]:
    """``acquire`` for the length of a block: ``with hold(("cpu",), label="score BoN"): ...``."""
    held = acquire(needs, **kwargs)
    try:
        yield held
    finally:
        held.release()
