"""``train prm|sft|pad`` and ``models``: start a training job, list the models the studio trained.

Design decision: each ``train KIND`` command's flags are generated from the kind's config dataclass
(``agentark.options``), the same definition the Train page's form is built from, so the two faces cannot
offer different options. By default the job runs in this process and prints its metrics; ``--background``
starts it as a worker (like the page does) and returns its id at once.
"""
from __future__ import annotations

import argparse
import json
import sys

from agentark.cli.common import add_executor, add_home, print_place, print_table, submit_if_slurm


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``train`` (one sub-command per kind) and ``models``."""
    from agentark.options import add_arguments
    from agentark.train.train_jobs import training_kinds

    train = sub.add_parser("train", help="train a PRM, an SFT student (R-SFT/DA) or a PAD student as a job")
    train.set_defaults(func=cmd_train)
    kinds = train.add_subparsers(dest="train_kind", required=True)
    for name, kind in training_kinds().items():
        p = kinds.add_parser(name, help=kind.title, description=(kind.config.__doc__ or "").strip())
        add_home(p)
        add_arguments(p, kind.config)
        p.add_argument("--background", action="store_true",
                       help="start the job as a background worker and return its id (watch it on the Train page)")
        p.add_argument("--job-id", default=None, help="id for the new job (default: KIND-DATE-TIME-XXXX)")
        add_executor(p)
        p.set_defaults(func=cmd_train)

    models = sub.add_parser("models", help="models the studio trained (usable by id as --model everywhere)")
    add_home(models)
    models.add_argument("--kind", choices=list(training_kinds()), default=None)
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=cmd_models)


def cmd_train(args: argparse.Namespace) -> int:
    from agentark import jobs
    from agentark.training_sets import list_exports
    from agentark.options import from_namespace
    from agentark.store import Store

    kind = args.train_kind
    cfg = from_namespace(jobs.get_kind(kind).config, args)
    with Store() as store:
        exports = list_exports(store)
    if jobs.get_kind(kind).export_kinds:
        print_prm_figures(cfg.export, exports)
    if args.background and from_namespace(jobs.ExecutorConfig, args).chosen() != "slurm":
        started = jobs.start(kind, cfg, job_id=args.job_id, exports=exports)
        print(f"{kind} job {started.job_id} started (pid {started.pid}); follow it on the Train page or "
              f"`python -m agentark jobs`")
        return 0
    # Created first, so the id is printed before the training starts (to stop it from another terminal).
    job_id = jobs.create(kind, cfg, job_id=args.job_id, exports=exports).job_id
    print(f"{kind} job {job_id}")
    if submit_if_slurm(args, job_id):
        return 0
    progress = jobs.run_job(job_id, on_progress=lambda done, total: print(f"step {done}/{total or '?'}", flush=True),
                           on_wait=print_place)
    with Store() as store:
        store.refresh()
    if progress.get("status") != "done":
        print(f"{kind} job {job_id} {progress.get('status')}: {progress.get('error') or progress.get('stage')}")
        return 1
    print(f"model {progress['model_id']} registered ({progress.get('device')}, {progress.get('precision')}, "
          f"peak {progress.get('peak_memory_mb')} MB); use it with --model {progress['model_id']}")
    return 0


def print_prm_figures(ref: str, exports) -> None:
    """A stepwise (PRM) file's figures (rows, steps, positives and negatives, by label source) and the balance
    warning, before the job starts; nothing for another kind of file, or one that cannot be read (the job's
    preflight says why)."""
    from agentark.errors import AgentArkError
    from agentark.labels.label_policy import file_figures
    from agentark.train.train_jobs import resolve_export

    try:
        figures = file_figures(resolve_export(ref, exports))
    except (AgentArkError, OSError, ValueError):
        return
    print("PRM data: " + "\n".join(figures.lines()))
    if figures.warning():
        print(f"warning: {figures.warning()}", file=sys.stderr)


def cmd_models(args: argparse.Namespace) -> int:
    import pandas as pd

    from agentark.checkpoints import list_models
    from agentark.store import Store

    with Store() as store:
        frame = list_models(store, args.kind)
    # A model without an export (PAD) has a missing cell, which pandas may hand over as NaN: plain None here.
    rows = [{k: (None if pd.api.types.is_scalar(v) and pd.isna(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]
    if args.json:
        print(json.dumps(rows, default=str, indent=2))
        return 0
    for r in rows:
        metrics = json.loads(r.get("metrics_json") or "{}")
        r["loss"] = metrics.get("loss")
        r["export"] = (r["export_sha256"] or "")[:12] or None
    print_table(rows, ["model_id", "kind", "base_model", "export", "step", "loss", "device", "precision", "path"])
    return 0
