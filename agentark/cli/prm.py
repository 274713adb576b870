"""``label-prm``: label stored steps with a trained studio PRM (the ``auto:prm`` source).

Design decision: the PRM is loaded before the store is opened and the store is held only for reading the
steps and appending the labels, so the app stays usable while the PRM scores.
"""
from __future__ import annotations

import argparse

from agentark.cli.common import add_home


def register(sub: argparse._SubParsersAction) -> None:
    """Add the PRM labeling command."""
    p = sub.add_parser("label-prm", help="label steps with a trained PRM (source auto:prm, with confidence)")
    add_home(p)
    p.add_argument("--model", required=True, help="studio PRM id, or the model/checkpoint folder a PRM job wrote")
    p.add_argument("--run", action="append", dest="runs", help="run id (repeat; default: every run)")
    p.add_argument("--threshold", type=float, default=0.5, help="below this probability of good a step gets -1")
    p.add_argument("--batch-size", type=int, default=16, help="trajectories per forward pass")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.set_defaults(func=cmd_label_prm)


def cmd_label_prm(args: argparse.Namespace) -> int:
    from agentark.prm_labels import PRMLabelConfig, run_prm_labeler
    from agentark.store import Store
    from agentark.train.prm_scoring import load_prm

    cfg = PRMLabelConfig(model=args.model, run_ids=args.runs or [], threshold=args.threshold,
                         batch_size=args.batch_size, device=args.device)
    scorer = load_prm(cfg.model, device=cfg.device, batch_size=cfg.batch_size)
    store = Store()
    store.refresh()
    with store:
        written = run_prm_labeler(store, cfg, scorer)
    print(f"auto:prm: {written} labels appended")
    return 0
