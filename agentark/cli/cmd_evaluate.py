"""``eval``, ``compare`` and ``prm-eval``: evaluation runs, comparisons (with an HTML report) and PRM scoring.

Design decision: each command prints (or writes as JSON/HTML) exactly the objects ``agentark.evaluate``
returns, the ones the Compare page renders, so the terminal, the page and the report agree.
"""
from __future__ import annotations

import argparse
import json
import sys

from agentark.cli.common import add_executor, add_home, print_place, print_table, run_id_arg, submit_if_slurm
from agentark.options import add_arguments, from_namespace

GATE_MARK = {True: "PASS", False: "FAIL", None: "N/A "}
METRIC_COLUMNS = ["run_id", "method", "problems", "accuracy", "ci_low", "ci_high", "tokens_per_problem",
                  "engine_calls_per_problem", "latency_p50_s", "latency_p95_s", "latency_p99_s", "cost_per_1k_usd",
                  "parse_rate", "cut_off", "ambiguous", "ties", "self_correction_rate"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``eval``, ``compare`` and ``prm-eval`` commands, their options from the configs they build."""
    from agentark.evaluate.eval_config import BonConfig, CompareConfig, EvalConfig, PRMEvalConfig

    e = sub.add_parser("eval", help="evaluate a model (one agent, or a debate method) on held-out problems")
    add_home(e)
    add_arguments(e, EvalConfig)
    # --model is required unless --like names a run whose model (and whole method and config) is reused.
    next(a for a in e._actions if a.dest == "model").required = False
    e.add_argument("--like", type=run_id_arg, default=None, metavar="RUN_ID",
                   help="evaluate this run's method and whole config (the debate, its engine and model) on the "
                        "test split of its dataset; other flags given change that part")
    e.add_argument("--json", action="store_true")
    add_executor(e)
    e.set_defaults(func=cmd_eval)

    c = sub.add_parser("compare", help="compare runs on shared problems: accuracy, McNemar, cost, gates")
    add_home(c)
    c.add_argument("run_ids", type=run_id_arg, nargs="+", metavar="RUN_ID",
                   help="the reference (teacher) first, then candidates")
    c.add_argument("--json", action="store_true")
    c.add_argument("--html", default=None, metavar="OUT", help="write a self-contained HTML report")
    c.add_argument("--prm", default=None, help="PRM (studio id or folder) for best-of-N on runs with k samples")
    c.add_argument("--role", action="append", default=[], type=role_arg, metavar="RUN_ID=ROLE",
                   help="a run's role: teacher, base or student (default: a debate is a teacher, a model the "
                        "studio distilled a student, else a base); repeat the flag for more")
    add_arguments(c, CompareConfig)
    add_arguments(c, BonConfig)
    c.set_defaults(func=cmd_compare)

    p = sub.add_parser("prm-eval", help="ProcessBench-style PRM evaluation on a run's labelled steps")
    add_home(p)
    p.add_argument("--model", required=True, help="the PRM: studio model id or folder")
    p.add_argument("--run", type=run_id_arg, required=True, help="run whose steps carry human or imported labels")
    add_arguments(p, PRMEvalConfig)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_prm_eval)


def role_arg(text: str) -> tuple[str, str]:
    """argparse ``type`` for ``RUN_ID=ROLE``."""
    from agentark.evaluate.compare import ROLES

    run_id, _, role = text.partition("=")
    if role not in ROLES:
        raise argparse.ArgumentTypeError(f"'{text}' is not RUN_ID=ROLE with ROLE one of {', '.join(ROLES)}")
    return run_id_arg(run_id), role


def cmd_eval(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from agentark.evaluate.metrics import run_metrics
    from agentark.evaluate.eval_config import EvalConfig
    from agentark.evaluate.compare import json_safe
    from agentark.evaluate.run import create_eval_run, like_eval_config
    from agentark.debate.debate_job import run_debate_job
    from agentark.options import given_values
    from agentark.store import Store

    if args.like is None and "model" not in vars(args):
        print("eval: error: the following arguments are required: --model (or --like RUN_ID)", file=sys.stderr)
        return 2
    with Store() as store:
        store.refresh()
        cfg = (like_eval_config(store, args.like, **given_values(EvalConfig, args)) if args.like
               else from_namespace(EvalConfig, args))
        run_id, report, overlap = create_eval_run(store, cfg)
    if overlap.overlapping:
        print(f"warning: {overlap.message} (--allow-overlap): this is not a held-out evaluation", file=sys.stderr)
    print(f"evaluation run {run_id}: {len(report.problems)} problems of {cfg.dataset} ({cfg.split}), "
          f"model {cfg.model}, method {cfg.method}" + (f", like run {args.like}" if args.like else ""),
          file=sys.stderr)
    if submit_if_slurm(args, run_id):
        return 0
    bar = tqdm(total=len(report.problems), unit="problem", desc=run_id, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.n = done
        bar.refresh()

    final = run_debate_job(run_id, on_progress=progress, on_wait=print_place)
    bar.close()
    with Store() as store:
        store.refresh()
        (metrics,) = run_metrics(store, [run_id])
    if args.json:
        print(json.dumps(json_safe({**metrics.to_dict(), "overlap": overlap.overlapping}), indent=2, default=str,
                         allow_nan=False))
    else:
        print_table([metrics.to_dict()], METRIC_COLUMNS)
    if final["status"] == "failed":
        print(f"warning: {final['error']}: python -m agentark debate --run-id {run_id}", file=sys.stderr)
        return 1
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from agentark.evaluate.bon import best_of_n, draws_samples
    from agentark.evaluate.compare import compare, json_safe
    from agentark.evaluate.eval_config import BonConfig, CompareConfig
    from agentark.evaluate.report import write_report
    from agentark.store import Store

    cfg = from_namespace(CompareConfig, args)
    bon_cfg = from_namespace(BonConfig, args)
    with Store() as store:
        store.refresh()
        comparison = compare(store, args.run_ids, cfg, dict(args.role))
        curves = []
        if args.prm:
            from agentark.train.prm_scoring import load_prm

            scorer = load_prm(args.prm)
            curves = [best_of_n(store, m.run_id, scorer, bon_cfg, comparison.shared) for m in comparison.metrics
                      if draws_samples(m.method)]
    if args.html:
        path = write_report(comparison, args.html, curves)
        print(f"wrote {path}", file=sys.stderr)
    if args.json:
        data = {**comparison.to_json(), "best_of_n": json_safe([c.to_dict() for c in curves])}
        print(json.dumps(data, indent=2, allow_nan=False))
        return 0
    roles = ", ".join(f"{r} ({comparison.roles[r]})" for r in comparison.run_ids)
    print(f"runs: {roles}\nevery figure below is on the {comparison.problems} problems all of them finished")
    print_table([m.to_dict() for m in comparison.metrics], METRIC_COLUMNS)
    print("\neach run on all its own finished problems (full run, not comparable across runs):")
    print_table([m.to_dict() for m in comparison.full_metrics], ["run_id", "problems", "accuracy", "ci_low", "ci_high"])
    for pair in comparison.pairs:
        t = pair.test
        print(f"\n{pair.candidate} vs {pair.reference} ({pair.kind}) on {t.shared} shared problems: fixed {t.fixed}, "
              f"broken {t.broken}, both right {t.both_right}, both wrong {t.both_wrong}; "
              f"McNemar exact p = {t.p_value:.4g}")
        for gate in pair.gates:
            print(f"  {GATE_MARK[gate.passed]}  {gate.text}")
    for curve in curves:
        print(f"\nbest-of-N on {curve.run_id} (k = {curve.k}, {curve.problems} problems):")
        table = curve.frame().pivot(index="n", columns="strategy", values="accuracy").reset_index()
        print_table(table.to_dict("records"),
                    ["n", "one sample", "majority vote"] + [f"best PRM ({h})" for h in curve.best_of])
    return 0


def cmd_prm_eval(args: argparse.Namespace) -> int:
    from agentark.evaluate.eval_config import PRMEvalConfig
    from agentark.evaluate.prm_eval import evaluate_prm
    from agentark.store import Store
    from agentark.train.prm_scoring import load_prm

    cfg = from_namespace(PRMEvalConfig, args)
    with Store() as store:
        store.refresh()
        scorer = load_prm(args.model)
        result = evaluate_prm(store, args.run, scorer, cfg)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print_table([result.to_dict()], ["run_id", "trajectories", "erroneous", "correct", "threshold",
                                         "accuracy_erroneous", "accuracy_correct", "f1", "step_auc",
                                         "best_threshold", "best_f1"])
    return 0
