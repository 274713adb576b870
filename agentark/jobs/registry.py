"""The job kinds the studio knows: kind name -> how to run it, where its folders live, how to ingest them.

Design decision: a kind is a plain record registered at import time (``register_kind``), and registering
it also registers its ingester with the store's registry, so ``Store.refresh`` ingests every kind without
the store importing any job module. Looking a job up needs only its id: every kind's root folder is
searched for a manifest with that id.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentark.errors import JobError
from agentark.ids import check_id
from agentark.jobs.folder import JobFolder
from agentark.jobs.sync import sync_kind
from agentark.store import register_ingester

if TYPE_CHECKING:
    from agentark.store import Store

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JobKind:
    """One kind of job.

    ``run(folder, on_progress, **options)`` does (or resumes) the work in this process, calling
    ``folder.check_cancel()`` between steps and skipping work whose shards exist; it returns the fields to
    record in progress.json, ``status`` among them ("done" when left out). ``ingest(store, folder)``
    takes the folder's finished kind-specific shards into the store once and returns how many it took;
    metrics shards and the job's row are handled for every kind by the framework.
    """

    name: str
    folder: type[JobFolder]
    run: Callable[..., dict[str, Any]]
    ingest: Callable[[Store, JobFolder], int]
    title: str = ""


_KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> JobKind:
    """Make a kind known to spawn, the worker, the Jobs table and ``Store.refresh``."""
    _KINDS[kind.name] = kind
    register_ingester(kind.name, lambda store: sync_kind(store, kind))
    return kind


def kinds() -> dict[str, JobKind]:
    """Every registered kind by name."""
    return dict(_KINDS)


def get_kind(name: str) -> JobKind:
    if name not in _KINDS:
        raise JobError(f"Unknown job kind '{name}'. Known kinds: {', '.join(sorted(_KINDS)) or 'none'}.")
    return _KINDS[name]


def find(job_id: str) -> tuple[JobKind, JobFolder]:
    """The kind and folder of the job with this id, whatever its kind; JobError when there is none.

    A kind not registered in this process (a worker that imported only the built-in kinds) is imported
    from the module its manifest names, so a kind defined anywhere runs under the one worker entry point.
    """
    check_id(job_id, "job id")
    for folder_cls in dict.fromkeys([*(k.folder for k in _KINDS.values()), JobFolder]):
        folder = folder_cls(job_id)
        if not folder.exists():
            continue
        meta = folder.meta()
        if meta.get("kind") not in _KINDS and meta.get("module"):
            importlib.import_module(meta["module"])
        kind = get_kind(meta.get("kind", ""))
        return kind, kind.folder(job_id)
    raise JobError(f"No job '{job_id}' in any job folder. List jobs with `python -m agentark jobs`, or check "
                   "the AGENTARK_HOME it was started with.")


def folders(kind: JobKind) -> list[JobFolder]:
    """Every folder of this kind with a manifest, in name order."""
    return kind.folder.of_kind(kind.name)
