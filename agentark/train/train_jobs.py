"""The three training kinds (prm, sft, pad) on the one job framework, and publishing their models.

A training job's folder (``$AGENTARK_HOME/jobs/JOB_ID/``) holds the manifest (kind, the job's config
dataclass as stored, the export's path and sha256), ``checkpoints/checkpoint-N`` (the Trainer's resumable
checkpoints; each is a loadable model folder, so a failed or cancelled job's last checkpoint stays usable),
metrics shards, progress and log. Design decision: everything that can be refused is refused in
``create_train_job`` before the folder exists (nothing written), and the job itself only trains: when it
finishes, its ``final`` folder is renamed to ``$AGENTARK_HOME/checkpoints/JOB_ID`` with a model card, which
is what makes it a registered model on the next refresh, usable by id wherever a model is picked.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable

from agentark.clock import new_id, now
from agentark.errors import ConfigError, JobError
from agentark.jobs.folder import JobFolder, JobStopped
from agentark.jobs.registry import JobKind, Progress, register_kind
from agentark.checkpoints import model_dir, read_card, write_card
from agentark.train.kinds import KINDS, TITLES, config_class, config_from_dict

def new_job_id(kind: str) -> str:
    return new_id(kind)


def resolve_export(ref: str, exports=None) -> Path:
    """A training file from an export id, a sha256 (or its first 8+ characters), or a file path.

    ``exports`` is the store's exports table (``agentark.export.list_exports``); without it only paths work.
    """
    path = Path(ref).expanduser()
    if path.is_file():
        return path.resolve()
    if exports is not None and len(exports):
        hit = exports[(exports["export_id"] == ref) |
                      ((len(ref) >= 8) & exports["sha256"].str.startswith(ref.lower()))]
        if len(hit) >= 1:
            found = Path(hit.iloc[0]["path"])
            if not found.is_file():
                raise ConfigError(f"Export {ref} was recorded at {found}, which no longer exists; export again.")
            return found
    raise ConfigError(f"'{ref}' is neither an export id, an export sha256 nor a file; list exports with "
                      "`python -m agentark exports`, or pass the path of a .parquet/.jsonl file.")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def preflight(kind: str, cfg) -> None:
    """Refuse, before anything is written, what would only fail in the worker."""
    if kind == "prm":
        from agentark.train.prm import preflight as prm_preflight

        prm_preflight(cfg)
    elif kind == "sft":
        from agentark.train.sft import check_sft

        check_sft(cfg)
    else:
        from agentark.train.pad import check_pad

        check_pad(cfg)
    world = getattr(cfg, "num_processes", 1)
    if world * getattr(cfg, "num_machines", 1) > 1:
        import torch

        from agentark.train.launch import check_engine_installed

        if torch.cuda.device_count() < world:
            raise ConfigError(f"num_processes {world} needs {world} GPUs on this machine and "
                              f"{torch.cuda.device_count()} are visible; use --num-processes "
                              f"{max(torch.cuda.device_count(), 1)}.")
        check_engine_installed(cfg.distributed)


class TrainFolder(JobFolder):
    """A training job's folder (the framework's layout; checkpoints are the Trainer's ``checkpoint-N``)."""


def create_train_job(kind: str, cfg, exports=None, job_id: str | None = None) -> str:
    """Check everything, then write the job's folder (queued); return its id. ``cfg.export`` may be an export
    id or sha256 (resolved against ``exports``, the store's exports table) or a path."""
    config_class(kind)
    export_sha = None
    if kind in ("prm", "sft"):
        path = resolve_export(cfg.export, exports)
        cfg = config_from_dict(kind, {**cfg.to_dict(), "export": str(path)})
        export_sha = _sha256(path)
    preflight(kind, cfg)
    job_id = job_id or new_job_id(kind)
    folder = TrainFolder(job_id)
    if folder.exists():
        raise JobError(f"Job '{job_id}' already exists; resume it or pick a new id.")
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.create({"kind": kind, "config": cfg.to_dict(), "export_sha256": export_sha,
                   "base_model": cfg.base_model, "title": TITLES[kind],
                   "created_at": now().isoformat()})
    folder.write_progress(status="queued", done=0, total=cfg.max_steps or 0, stage="queued")
    return job_id


def _trainer(kind: str) -> Callable:
    if kind == "prm":
        from agentark.train.prm import train_prm

        return train_prm
    if kind == "sft":
        from agentark.train.sft import train_sft

        return train_sft
    from agentark.train.pad import train_pad

    return train_pad


def publish(folder: JobFolder, final: Path, meta: dict) -> str:
    """Move a finished job's final model to the models folder under the job's id, completing its card."""
    target = model_dir(folder.job_id)
    if target.exists():
        raise JobError(f"A model '{folder.job_id}' already exists at {target}; remove it to publish again.")
    card = read_card(final) or {}
    card.update(model_id=folder.job_id, job_id=folder.job_id, export_sha256=meta.get("export_sha256"),
                base_model=meta.get("base_model"), kind=meta["kind"],
                created_at=now().isoformat())
    write_card(final, card)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(final, target)
    return folder.job_id


def launch_command(kind: str, cfg, out_dir: Path, resume: bool) -> list[str]:
    """The ``accelerate launch`` command line of a multi-GPU job (writing its configs into ``out_dir``)."""
    if kind == "prm":
        from agentark.train.prm_launch import prm_launch

        return prm_launch(cfg, out_dir, resume=resume)
    from agentark.train.rank import rank_launch

    return rank_launch(kind, cfg, out_dir, resume=resume)


def run_distributed(folder: JobFolder, kind: str, cfg, resume: bool, on_metrics: Callable[[int, dict], None],
                    poll_s: float = 1.0):
    """Run the ranks under ``accelerate launch`` and relay them: new lines of ``metrics.jsonl`` become metrics,
    a cancel request becomes the ``STOP`` file every rank polls, ``result.json`` becomes the result."""
    import json
    import subprocess
    import time

    from agentark.train.prm_launch import METRICS_FILE, RESULT_FILE, STOP_FILE
    from agentark.train.runtime import TrainResult

    out = folder.path
    for name in (STOP_FILE, RESULT_FILE):
        (out / name).unlink(missing_ok=True)
    metrics_path = out / METRICS_FILE
    offset = metrics_path.stat().st_size if metrics_path.exists() else 0

    def relay() -> None:
        nonlocal offset
        if not metrics_path.exists():
            return
        with open(metrics_path, encoding="utf-8") as f:
            f.seek(offset)
            for line in f:
                if not line.endswith("\n"):
                    break  # a line still being written; read it next time
                offset += len(line.encode())
                values = json.loads(line)
                on_metrics(int(values.pop("step")), values)

    with open(folder.log_path, "ab") as log:
        proc = subprocess.Popen(launch_command(kind, cfg, out, resume), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            while proc.poll() is None:
                relay()
                if folder.cancel_requested() and not (out / STOP_FILE).exists():
                    (out / STOP_FILE).write_text("stop")
                time.sleep(poll_s)
        except BaseException:
            proc.terminate()
            raise
    relay()
    if proc.returncode != 0 or not (out / RESULT_FILE).exists():
        raise JobError(f"accelerate launch exited with status {proc.returncode} and no result; the ranks' output "
                       f"is in {folder.log_path}.")
    r = json.loads((out / RESULT_FILE).read_text())
    return TrainResult(Path(r["model_dir"]) if r.get("model_dir") else None, int(r["step"]), r.get("metrics", {}),
                       r.get("hardware", {}), float(r.get("peak_memory_mb") or 0.0), bool(r["stopped"]),
                       Path(r["checkpoint"]) if r.get("checkpoint") else None)


def run_train_job(folder: JobFolder, on_progress: Progress | None = None, **options: Any) -> dict:
    """Train (or resume from the newest checkpoint), report metrics as shards, publish the model when done."""
    from agentark.train.runtime import last_checkpoint

    meta = folder.meta()
    kind = meta["kind"]
    cfg = config_from_dict(kind, meta["config"])
    total = cfg.max_steps or 0

    def on_metrics(step: int, values: dict) -> None:
        folder.write_metrics([(step, name, value) for name, value in values.items()])
        folder.write_progress(done=step, total=total, stage=f"step {step}")
        if on_progress:
            on_progress(step, total)

    resume = last_checkpoint(folder.path) is not None
    folder.write_progress(stage="resuming from " + last_checkpoint(folder.path).name if resume else "loading the model")
    if getattr(cfg, "num_processes", 1) * getattr(cfg, "num_machines", 1) > 1:
        result = run_distributed(folder, kind, cfg, resume, on_metrics)
    else:
        result = _trainer(kind)(cfg, folder.path, on_metrics=on_metrics, should_stop=folder.cancel_requested,
                                resume=resume, **options)
    if result.stopped:
        raise JobStopped(f"stopped at step {result.step}; checkpoint {result.checkpoint}")
    fields_out = {"done": result.step, "stage": "finished", "device": result.hardware.get("device"),
                  "precision": result.hardware.get("precision"), "world_size": result.hardware.get("world_size"),
                  "peak_memory_mb": round(result.peak_memory_mb, 1)}
    fields_out["model_id"] = publish(folder, Path(result.model_dir), meta)
    return fields_out


def _ingest(store, folder: JobFolder) -> int:
    """Metrics and the job row are the framework's; the model row comes from the ``models`` ingester."""
    return 0


TRAIN_KINDS = {k: register_kind(JobKind(name=k, folder=TrainFolder, run=run_train_job, ingest=_ingest,
                                        title=TITLES[k])) for k in KINDS}


def start_train_job(kind: str, cfg, exports=None) -> str:
    """Create a training job and start it in the background (the Train page's button); return its id."""
    from agentark.jobs.runner import spawn

    job_id = create_train_job(kind, cfg, exports=exports)
    spawn(kind, job_id)
    return job_id


def stop_train_job(job_id: str) -> bool:
    """Ask a training job to stop after its current step; it saves a checkpoint there."""
    from agentark.jobs.runner import stop

    return stop(job_id)


def resume_train_job(job_id: str) -> int:
    """Start a stopped, failed or interrupted training job again; it continues from its newest checkpoint."""
    from agentark.jobs.runner import resume

    return resume(job_id)


def training_jobs() -> list[dict]:
    """The Jobs table's rows of the training kinds, newest first."""
    from agentark.jobs.runner import list_jobs

    return [j for j in list_jobs() if j["kind"] in KINDS]


def job_metrics(store, job_id: str):
    """A job's metrics (step, name, value) as ingested from its shards."""
    from agentark.store.job_tables import job_metrics as metrics

    return metrics(store, job_id)
