"""The job kinds the studio knows: kind name -> a record of what the kind is and how to start, run and ingest it.

Design decision: a kind is a plain record registered at import time by the module beside its domain
(``register_kind``), and registering it also registers its ingester with the store's registry, so
``Store.refresh`` ingests every kind without the store importing any job module. Nothing outside this
module switches on a kind's name: whatever differs between kinds (config class, preflight, trainer, what
it reads and registers) is a field of its record. Looking a job up needs only its id: every kind's root
folder is searched for a manifest with that id. The built-in kinds are imported on the first look-up of a
kind this process does not know (``agentark.jobs.builtin``, by name), so this module imports no domain module.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentark.jobs import machine
from agentark.errors import JobError
from agentark.ids import check_id
from agentark.jobs.folder import JobFolder
from agentark.jobs.sync import sync_folders
from agentark.store import register_ingester

if TYPE_CHECKING:
    import pandas as pd

    from agentark.store import Store

Progress = Callable[[int, int], None]
BUILTIN = "agentark.jobs.builtin"


@dataclass
class Plan:
    """What a kind's preflight decided, for ``jobs.create`` to write: nothing is written before it returns.

    ``config`` is the config as the job stores it (a reference resolved, e.g. an export id to its file);
    ``tables`` are inputs frozen in the folder as ``NAME.parquet`` (a run's problems, a labeling job's
    targets); ``meta`` is more of the manifest; ``info`` is what the caller is told (a load report).
    """

    config: Any
    total: int = 0
    id_prefix: str = "job"
    meta: dict = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    info: Any = None


@dataclass(frozen=True)
class JobKind:
    """One kind of job.

    ``preflight(cfg, **inputs)`` refuses what would only fail in the worker and returns the ``Plan`` to write.
    ``run(folder, on_progress, **options)`` does (or resumes) the work in this process, calling
    ``folder.check_cancel()`` between steps and skipping work whose shards exist; it returns the fields to
    record in progress.json, ``status`` among them ("done" when left out). ``ingest(store, folder)`` takes
    the folder's finished kind-specific shards into the store once and returns how many it took; metrics
    shards and the job's row are handled for every kind by the framework. ``reads`` names its inputs
    (``problems``, ``runs``, ``export:KIND``, ``model:KIND``), ``registers`` what it adds (a run, labels, a model);
    ``trainer(cfg, out_dir, on_metrics, should_stop, resume)`` is a training kind's work outside a job folder
    (a rank under ``accelerate launch``). ``runs_as`` names the kind its jobs are, when it only launches them
    (an evaluation is a debate run). ``needs(cfg)`` names the devices a job computes on (``cpu``, ``cuda:N``;
    none for work done elsewhere), which it waits for a slot of; by default they follow the config's engines
    or its ``device`` (see ``job_needs``). ``resources`` are what a Slurm job of this kind asks for when its
    ``ExecutorConfig`` leaves a field empty (``cpus``, ``mem``, ``time_limit``, ``gpus``, ``partition``...,
    see ``agentark.jobs.slurm``). ``chunked``: its run does only its share of the work as a task of a Slurm
    job array (``slurm.chunk()``), so ``ExecutorConfig.chunks`` may split it.
    """

    name: str
    folder: type[JobFolder]
    run: Callable[..., dict[str, Any]]
    ingest: Callable[[Store, JobFolder], int]
    title: str = ""
    config: type | None = None
    preflight: Callable[..., Plan] | None = None
    reads: tuple[str, ...] = ()
    registers: str = ""
    trainer: Callable[..., Any] | None = None
    runs_as: str = ""
    needs: Callable[[Any], tuple[str, ...]] | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    chunked: bool = False

    @property
    def export_kinds(self) -> tuple[str, ...]:
        """The export kinds it trains on (``export:KIND`` among ``reads``); empty when it reads no export."""
        return tuple(r.partition(":")[2] for r in self.reads if r.startswith("export:"))


def job_needs(kind: JobKind, cfg: Any) -> tuple[str, ...]:
    """The devices a job of this kind with this config computes on: the kind's ``needs``, else its engines'
    devices (a served model: none), else its ``device`` (``num_processes`` GPUs for a distributed trainer)."""
    if kind.needs is not None:
        return tuple(kind.needs(cfg))
    if hasattr(cfg, "engine_specs"):
        specs = list(cfg.engine_specs().values())
    elif hasattr(cfg, "engine_spec"):
        specs = [cfg.engine_spec()]
    else:
        return machine.devices(getattr(cfg, "device", "auto"), getattr(cfg, "num_processes", 1))
    return tuple(sorted({device for spec in specs for device in spec.devices()}))


_KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> JobKind:
    """Make a kind known to ``jobs.start``, the worker, the Jobs table and ``Store.refresh``."""
    _KINDS[kind.name] = kind
    if not kind.runs_as:
        register_ingester(kind.name, lambda store: sync_folders(store, kind.name, folders(kind), kind.ingest))
    return kind


def kinds() -> dict[str, JobKind]:
    """Every registered kind by name, the built-in ones included, in registration order."""
    importlib.import_module(BUILTIN)
    return dict(_KINDS)


def get_kind(name: str) -> JobKind:
    if name not in _KINDS:
        importlib.import_module(BUILTIN)
    if name not in _KINDS:
        raise JobError(f"Unknown job kind '{name}'. Known kinds: {', '.join(sorted(_KINDS)) or 'none'}.")
    return _KINDS[name]


def find(job_id: str) -> tuple[JobKind, JobFolder]:
    """The kind and folder of the job with this id, whatever its kind; JobError when there is none.

    A kind that is not built in is imported from the module its manifest names, so a kind defined
    anywhere runs under the one worker entry point.
    """
    check_id(job_id, "job id")
    for folder_cls in dict.fromkeys([*(k.folder for k in kinds().values()), JobFolder]):
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
