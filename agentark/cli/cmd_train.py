"""``train prm|sft|pad`` and ``models``: start a training job, list the models the studio trained.

Design decision: each ``train KIND`` command's flags are generated from the kind's config dataclass
(``agentark.options``), the same definition the Train page's form is built from, so the two faces cannot
offer different options. By default the job runs in this process and prints its metrics; ``--background``
starts it as a worker (like the page does) and returns its id at once.
"""
from __future__ import annotations

import argparse
import json

from agentark.cli.common import add_home, print_table


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``train`` (one sub-command per kind) and ``models``."""
    from agentark.options import add_arguments
    from agentark.train.train_jobs import KINDS, TITLES, config_class

    train = sub.add_parser("train", help="train a PRM, an SFT student (R-SFT/DA) or a PAD student as a job")
    train.set_defaults(func=cmd_train)
    kinds = train.add_subparsers(dest="train_kind", required=True)
    for kind in KINDS:
        p = kinds.add_parser(kind, help=TITLES[kind], description=(config_class(kind).__doc__ or "").strip())
        add_home(p)
        add_arguments(p, config_class(kind))
        p.add_argument("--background", action="store_true",
                       help="start the job as a background worker and return its id (watch it on the Train page)")
        p.add_argument("--job-id", default=None, help="id for the new job (default: KIND-DATE-TIME-XXXX)")
        p.set_defaults(func=cmd_train)

    models = sub.add_parser("models", help="models the studio trained (usable by id as --model everywhere)")
    add_home(models)
    models.add_argument("--kind", choices=KINDS, default=None)
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=cmd_models)


def cmd_train(args: argparse.Namespace) -> int:
    import agentark.jobs  # noqa: F401  (registers every job kind, the training ones included)
    from agentark.export import list_exports
    from agentark.jobs import run_job, spawn
    from agentark.options import from_namespace
    from agentark.store import Store
    from agentark.train.train_jobs import config_class, create_train_job

    kind = args.train_kind
    cfg = from_namespace(config_class(kind), args)
    with Store() as store:
        exports = list_exports(store)
    job_id = create_train_job(kind, cfg, exports=exports, job_id=args.job_id)
    if args.background:
        pid = spawn(kind, job_id)
        print(f"{kind} job {job_id} started (pid {pid}); follow it on the Train page or "
              f"`python -m agentark jobs`")
        return 0
    print(f"{kind} job {job_id}")
    progress = run_job(job_id, on_progress=lambda done, total: print(f"step {done}/{total or '?'}", flush=True))
    with Store() as store:
        store.refresh()
    if progress.get("status") != "done":
        print(f"{kind} job {job_id} {progress.get('status')}: {progress.get('error') or progress.get('stage')}")
        return 1
    print(f"model {progress['model_id']} registered ({progress.get('device')}, {progress.get('precision')}, "
          f"peak {progress.get('peak_memory_mb')} MB); use it with --model {progress['model_id']}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from agentark.checkpoints import list_models
    from agentark.store import Store

    with Store() as store:
        frame = list_models(store, args.kind)
    rows = frame.to_dict("records")
    if args.json:
        print(json.dumps(rows, default=str, indent=2))
        return 0
    for r in rows:
        metrics = json.loads(r.get("metrics_json") or "{}")
        r["loss"] = metrics.get("loss")
        r["export"] = (r.get("export_sha256") or "")[:12] or None
    print_table(rows, ["model_id", "kind", "base_model", "export", "step", "loss", "device", "precision", "path"])
    return 0
