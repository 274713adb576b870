"""What this machine offers heavy work: its devices, how many heavy jobs each may run at once, and the threads
each of them gets.

A device is ``cpu`` or ``cuda:N`` (a GPU by index). ``AGENTARK_SLOTS`` sets the slots per device
(``cpu=2,cuda=1``: two CPU jobs at once, one per GPU; ``cuda:1=2`` for one GPU alone); the default is one heavy
job per device. Design decision: threads follow the slot, not the machine: a CPU job gets the cores divided by
the CPU slots, so jobs that run together never ask for more threads than there are cores (torch's default of
one thread per core in every process is what made two jobs at once 4.8x slower than one after the other).
GPUs are found without importing torch (``/proc/driver/nvidia/gpus``, narrowed by ``CUDA_VISIBLE_DEVICES``),
so a page or a command that only lists jobs stays fast.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from agentark.errors import ConfigError

CPU = "cpu"
# What a config's ``device`` field offers (``devices`` also takes cuda:N): auto is the first GPU when there is one.
DEVICE_CHOICES = ("auto", CPU, "cuda")
NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def gpu_count() -> int:
    """GPUs visible to this process, without importing torch: the NVIDIA driver's list, narrowed by
    ``CUDA_VISIBLE_DEVICES`` when it is set."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([v for v in visible.split(",") if v.strip() and v.strip() != "-1"])
    try:
        return len(list(NVIDIA_GPUS.iterdir()))
    except OSError:
        return 0


def devices(device: str = "auto", count: int = 1) -> tuple[str, ...]:
    """The devices a job that asks for ``device`` (auto, cpu, cuda, cuda:N) holds; ``count`` GPUs for a job
    that trains on several. ``auto`` is the first GPU when there is one, else the CPU."""
    device = (device or "auto").strip().lower()
    if device == "auto":
        device = "cuda" if gpu_count() else CPU
    if device == CPU:
        return (CPU,)
    if device == "cuda":
        return tuple(f"cuda:{i}" for i in range(max(1, count)))
    if device.startswith("cuda:") and device[5:].isdigit():
        return (device,)
    raise ConfigError(f"Unknown device '{device}': use auto, cpu, cuda or cuda:N.")


def slot_counts() -> dict[str, int]:
    """``AGENTARK_SLOTS`` parsed: device or device class (``cpu``, ``cuda``, ``cuda:1``) -> slots."""
    raw = os.environ.get("AGENTARK_SLOTS", "").strip()
    counts: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, value = part.partition("=")
        if not value.strip().isdigit() or int(value) < 1:
            raise ConfigError(f"AGENTARK_SLOTS must look like 'cpu=1,cuda=1' (slots per device, at least 1); "
                              f"got {raw!r}.")
        counts[name.strip().lower()] = int(value)
    return counts


def slots(device: str) -> int:
    """How many heavy jobs may use ``device`` at once: its own setting, its class's (``cuda``), else 1."""
    counts = slot_counts()
    return counts.get(device, counts.get(device.partition(":")[0], 1))


def threads_per_slot() -> int:
    """Threads for a job holding a slot: the cores divided by the CPU slots (a GPU job still tokenizes and
    collates on the CPU, so it gets the same share)."""
    return max(1, cpu_count() // slots(CPU))


def apply_threads(threads: int) -> dict[str, str | None]:
    """Make this process compute with ``threads`` threads: the OpenMP/MKL variables (read when torch is first
    imported) and torch itself when it is already loaded. Returns what to hand ``restore_threads``."""
    previous: dict[str, str | None] = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        previous["torch"] = str(torch.get_num_threads())
        torch.set_num_threads(threads)
    return previous


def restore_threads(previous: dict[str, str | None]) -> None:
    """Undo ``apply_threads`` (in-process work gives its slot back; the process goes on)."""
    for name in THREAD_VARIABLES:
        if previous.get(name) is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = str(previous[name])
    torch = sys.modules.get("torch")
    if torch is not None and previous.get("torch"):
        torch.set_num_threads(int(previous["torch"]))
