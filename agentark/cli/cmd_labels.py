"""``segment``, ``autolabel``, ``label``, ``label-mc``, ``import-steps``, ``export``: steps,
labels and training sets from the command line.

Design decision: every command here but the Monte-Carlo job opens the store once, refreshed, runs one
library call and closes it; the job commands hold the store only while they create or start the job.
"""
from __future__ import annotations

import argparse
import json
import sys

from agentark.cli.common import add_home, add_server_options, job_id_arg, run_id_arg, server_options


def register(sub: argparse._SubParsersAction) -> None:
    """Add the step, label and export commands."""
    from agentark.export import DEFAULT_PRECEDENCE, KINDS
    from agentark.labels.segment import SEGMENTERS

    s = sub.add_parser("segment", help="split the runs' messages into steps (labels of unchanged steps are kept)")
    add_home(s)
    s.add_argument("--run", type=run_id_arg, action="append", dest="runs", help="run id (repeat; default: every run)")
    s.add_argument("--method", default="paragraphs", choices=SEGMENTERS)
    s.set_defaults(func=cmd_segment)

    a = sub.add_parser("autolabel", help="label steps from outcomes and the debate signal")
    add_home(a)
    a.add_argument("--run", type=run_id_arg, action="append", dest="runs")
    a.add_argument("--source", action="append", dest="sources", help="auto:outcome or auto:debate (default both)")
    a.set_defaults(func=cmd_autolabel)

    h = sub.add_parser("label", help="append a human label to a step")
    add_home(h)
    h.add_argument("step_id")
    h.add_argument("--value", type=int, choices=(-1, 0, 1))
    h.add_argument("--flag", action="store_true", help="mark the step 'unsure'")
    h.add_argument("--note")
    h.add_argument("--annotator", required=True)
    h.set_defaults(func=cmd_label)

    m = sub.add_parser("label-mc", help="Monte-Carlo step labels (Math-Shepherd rollouts) as a resumable job")
    add_home(m)
    m.add_argument("--run", type=run_id_arg, action="append", dest="runs")
    m.add_argument("--k", type=int, default=None, help="rollouts per step prefix (default 4)")
    m.add_argument("--max-tokens", type=int, default=None)
    m.add_argument("--temperature", type=float, default=None)
    m.add_argument("--seed", type=int, default=None)
    m.add_argument("--engine", default=None, help="transformers (default), openai, vllm or scripted")
    m.add_argument("--model", default=None, help="checkpoint folder or model id (default: embedded SmolLM2-135M)")
    add_server_options(m)
    m.add_argument("--chunk-size", type=int, default=None, help="step prefixes per batch and per shard")
    m.add_argument("--job-id", type=job_id_arg, default=None, help="resume this job instead of starting a new one")
    m.add_argument("--background", action="store_true")
    m.set_defaults(func=cmd_label_mc)

    i = sub.add_parser("import-steps", help="import PRM800K or Math-Shepherd labeled steps as a run")
    add_home(i)
    i.add_argument("format", choices=("prm800k", "math-shepherd"))
    i.add_argument("path")
    i.add_argument("--model", default=None, help="the model that wrote the solutions, recorded on the run")
    i.set_defaults(func=cmd_import_steps)

    e = sub.add_parser("export", help="write an immutable training set (R-SFT, DA, PRM or transcripts)")
    add_home(e)
    e.add_argument("kind", choices=KINDS)
    e.add_argument("--run", type=run_id_arg, action="append", dest="runs", help="run id (repeat; default: every run)")
    e.add_argument("--out", default=None, help="file to write (.parquet or .jsonl); default: $AGENTARK_HOME/exports/")
    e.add_argument("--format", default=None, choices=("parquet", "jsonl"))
    e.add_argument("--max-per-problem", type=int, default=None, help="DA: distinct trajectories per problem (4)")
    e.add_argument("--precedence", nargs="+", default=None,
                   help=f"PRM: label sources, winner first (default: {' '.join(DEFAULT_PRECEDENCE)})")
    e.add_argument("--neutral", choices=("positive", "negative"), default=None, help="PRM: how a 0 label counts")
    e.add_argument("--soft", action="store_true", help="PRM: soft labels (Monte-Carlo fraction) instead of booleans")
    e.add_argument("--no-first-error", dest="first_error", action="store_false", default=None,
                   help="PRM: keep only messages with every step labelled, instead of the first-error convention "
                        "(steps before a known first error good, it bad, the rest dropped; right answers all good)")
    e.add_argument("--balance-threshold", type=float, default=None,
                   help="PRM: warn when negatives are under this share of steps (0.1)")
    e.add_argument("--keep-truncated", dest="require_finished", action="store_false", default=None,
                   help="R-SFT/DA: keep messages cut off at the token limit")
    e.add_argument("--keep-implicit", dest="require_explicit_answer", action="store_false", default=None,
                   help="R-SFT/DA: keep messages without an explicit final answer (boxed, 'The answer is', ####)")
    e.add_argument("--corrections", choices=("any", "only", "none"), default=None,
                   help="only problems whose debate has a correction (wrong -> right), or none of them (ablations)")
    e.set_defaults(func=cmd_export)


def _store():
    from agentark.store import Store

    store = Store()
    store.refresh()
    return store


def cmd_segment(args: argparse.Namespace) -> int:
    from agentark.labels.segment import SegmentConfig, segment_runs

    with _store() as store:
        n = segment_runs(store, args.runs, SegmentConfig(method=args.method))
    print(f"{n} steps stored ({args.method})")
    return 0


def cmd_autolabel(args: argparse.Namespace) -> int:
    from agentark.labels.auto_labelers import AUTO_SOURCES, AutoLabelConfig, run_auto_labelers

    with _store() as store:
        written = run_auto_labelers(store, AutoLabelConfig(args.runs or [], args.sources or list(AUTO_SOURCES)))
    for source, n in written.items():
        print(f"{source}: {n} labels appended")
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    from agentark.labels.human_labels import HumanLabel, add_human_labels

    with _store() as store:
        add_human_labels(store, [HumanLabel(args.step_id, args.value, args.annotator, args.flag, args.note)])
    print(f"labelled {args.step_id}")
    return 0


def cmd_import_steps(args: argparse.Namespace) -> int:
    from agentark.labels.step_import import import_steps

    with _store() as store:
        report = import_steps(store, args.path, args.format, model=args.model)
    for line, reason in report.pop("rejected"):
        print(f"warning: line {line} skipped: {reason}", file=sys.stderr)
    print(json.dumps(report))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from agentark.export import ExportConfig, export

    fields = {"kind": args.kind, "run_ids": args.runs or [], "format": args.format,
              "max_per_problem": args.max_per_problem, "precedence": args.precedence,
              "neutral": args.neutral, "label_type": "soft" if args.soft else None, "first_error": args.first_error,
              "balance_threshold": args.balance_threshold, "require_finished": args.require_finished,
              "require_explicit_answer": args.require_explicit_answer, "corrections": args.corrections}
    with _store() as store:
        result = export(store, ExportConfig(**{k: v for k, v in fields.items() if v is not None}), args.out)
    for line in result.summary.lines():
        print(line)
    if result.summary.warning():
        print(f"warning: {result.summary.warning()}", file=sys.stderr)
    print(f"{result.n_rows} rows -> {result.path} (sha256 {result.sha256})")
    return 0


def cmd_label_mc(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from agentark import jobs
    from agentark.labels import montecarlo as mc
    from agentark.labels import montecarlo_job

    with _store() as store:
        if args.job_id:
            job_id = montecarlo_job.MCFolder(args.job_id).require().job_id
        else:
            fields = {"run_ids": args.runs or [], "k": args.k, "max_tokens": args.max_tokens,
                      "temperature": args.temperature, "seed": args.seed, "engine": args.engine, "model": args.model,
                      "engine_options": server_options(args), "chunk_size": args.chunk_size}
            cfg = mc.MCConfig(**{k: v for k, v in fields.items() if v is not None})
            job_id = jobs.create(montecarlo_job.KIND, cfg, store=store).job_id
            print(f"Monte-Carlo job {job_id}: {montecarlo_job.MCFolder(job_id).progress().get('total')} step prefixes")
        if args.background:
            pid = jobs.spawn(montecarlo_job.KIND, job_id)
            print(f"started in the background (pid {pid}); follow it with `python -m agentark jobs`")
            return 0
    bar = tqdm(total=None, unit="step", desc=job_id, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total, bar.n = total, done
        bar.refresh()

    montecarlo_job.run_mc_job(job_id, on_progress=progress)
    bar.close()
    from agentark.store import label_tables as q

    with _store() as store:
        labels = q.count_labels(store, mc.SOURCE, job_id)
    print(f"{labels} Monte-Carlo labels stored")
    return 0
