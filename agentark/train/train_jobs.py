"""Training kinds on the one job framework: registering a trainer as a kind, running it (on one device or under
``accelerate launch``), and publishing its model. Each trainer's module (prm, sft, pad) registers its kind.

A training job's folder (``$AGENTARK_HOME/jobs/JOB_ID/``) holds the manifest (kind, the job's config
dataclass as stored, the export's path and sha256), ``checkpoints/checkpoint-N`` (the Trainer's resumable
checkpoints; each is a loadable model folder, so a failed or cancelled job's last checkpoint stays usable),
metrics shards, progress and log. Design decision: everything that can be refused is refused by the kind's
preflight (``plan_training``) before the folder exists (nothing written), and the job itself only trains: when it
finishes, its ``final`` folder is renamed to ``$AGENTARK_HOME/checkpoints/JOB_ID`` with a model card, which
is what makes it a registered model on the next refresh, usable by id wherever a model is picked.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from agentark.checkpoints import model_dir, read_card, write_card
from agentark.clock import now
from agentark.errors import ConfigError, JobError
from agentark.jobs.folder import JobFolder, JobStopped
from agentark.jobs.registry import JobKind, Plan, Progress, get_kind, kinds, register_kind
from agentark.jobs.runner import list_jobs
from agentark.train.launch import check_gpus
from agentark.train.rank import METRICS_FILE, RESULT_FILE, STOP_FILE, launch_command
from agentark.ids import file_sha256
from agentark.train.runtime import TrainResult, last_checkpoint, planned_steps
from agentark.train.train_config import TrainConfig


def resolve_export(ref: str, exports=None) -> Path:
    """A training file from an export id, a sha256 (or its first 8+ characters), or a file path.

    ``exports`` is the store's exports table (``agentark.training_sets.list_exports``); without it only paths work.
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
                      "`python -m agentark exports`, or set [[export]] to the path of a .parquet/.jsonl file.")


class TrainFolder(JobFolder):
    """A training job's folder (the framework's layout; checkpoints are the Trainer's ``checkpoint-N``)."""


def plan_training(cfg: TrainConfig, exports=None, *, kind: str, check: Callable[[Any], Any]) -> Plan:
    """A training kind's preflight: resolve the export it reads (``cfg.export``: an export id or sha256, looked
    up in ``exports``, the store's exports table, or a path), run the kind's ``check`` and refuse a job for
    more GPUs than this machine has."""
    export_sha = None
    if get_kind(kind).export_kinds:
        path = resolve_export(cfg.export, exports)
        cfg = type(cfg).from_dict({**cfg.to_dict(), "export": str(path)})
        export_sha = file_sha256(path)
    check(cfg)
    check_gpus(cfg)
    return Plan(cfg, total=cfg.max_steps or 0, id_prefix=kind, meta={
        "export_sha256": export_sha, "base_model": cfg.base_model, "title": get_kind(kind).title})


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


def run_distributed(folder: JobFolder, kind: JobKind, cfg, resume: bool, on_metrics: Callable[[int, dict], None],
                    poll_s: float = 1.0) -> TrainResult:
    """Run the ranks under ``accelerate launch`` and relay them: new lines of ``metrics.jsonl`` become metrics,
    a cancel request becomes the ``STOP`` file every rank polls, ``result.json`` becomes the result."""
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
                       Path(r["checkpoint"]) if r.get("checkpoint") else None, r.get("applied") or {})


def run_train_job(folder: JobFolder, on_progress: Progress | None = None, **options: Any) -> dict:
    """Train (or resume from the newest checkpoint), report metrics as shards, publish the model when done."""
    meta = folder.meta()
    kind = get_kind(meta["kind"])
    cfg = kind.config.from_dict(meta["config"])

    def on_metrics(step: int, values: dict) -> None:
        folder.write_metrics([(step, name, value) for name, value in values.items()])
        # The Trainer's own plan (epochs turned into steps) once it began; max_steps or unknown (0) before.
        total = planned_steps(folder.path) or cfg.max_steps or 0
        folder.write_progress(done=step, total=total, stage=f"step {step} of {total}" if total else f"step {step}")
        if on_progress:
            on_progress(step, total)

    resume = last_checkpoint(folder.path) is not None
    folder.write_progress(stage="resuming from " + last_checkpoint(folder.path).name if resume else "loading the model")
    if cfg.world_size > 1:
        result = run_distributed(folder, kind, cfg, resume, on_metrics)
    else:
        result = kind.trainer(cfg, folder.path, on_metrics=on_metrics, should_stop=folder.cancel_requested,
                              resume=resume, **options)
    if result.stopped:
        raise JobStopped(f"stopped at step {result.step}; checkpoint {result.checkpoint}")
    fields_out = {"done": result.step, "total": planned_steps(folder.path) or result.step, "stage": "finished",
                  "device": result.hardware.get("device"),
                  "precision": result.hardware.get("precision"), "world_size": result.hardware.get("world_size"),
                  "peak_memory_mb": round(result.peak_memory_mb, 1), "applied": result.applied}
    fields_out["model_id"] = publish(folder, Path(result.model_dir), meta)
    return fields_out


def _ingest(store, folder: JobFolder) -> int:
    """Metrics and the job row are the framework's; the model row comes from the ``models`` ingester."""
    return 0


def register_training_kind(name: str, title: str, config: type[TrainConfig], check: Callable[[Any], Any],
                           trainer: Callable[..., TrainResult], reads: tuple[str, ...]) -> JobKind:
    """Register a trainer as a job kind (each trainer's module does, beside its config): ``check(cfg)`` refuses
    a config before anything is written, ``trainer`` trains (see ``agentark.train``)."""
    return register_kind(JobKind(name, TrainFolder, run_train_job, _ingest, title=title, config=config,
                                 preflight=partial(plan_training, kind=name, check=check), reads=reads,
                                 registers="model", trainer=trainer,
                                 resources={"cpus": 4, "time_limit": "1-00:00:00"}))


def training_kinds() -> dict[str, JobKind]:
    """The kinds that train a model (the Train page's and the ``train`` command's choices), by name."""
    return {name: kind for name, kind in kinds().items() if kind.trainer is not None}


def training_jobs() -> list[dict]:
    """The Jobs table's rows of the training kinds, newest first."""
    return list_jobs(*training_kinds())


def job_metrics(store, job_id: str):
    """A job's metrics (step, name, value) as ingested from its shards."""
    from agentark.store.job_tables import job_metrics as metrics

    return metrics(store, job_id)
