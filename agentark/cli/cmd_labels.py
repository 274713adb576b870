"""``segment``, ``autolabel``, ``label``, ``label-mc``, ``import-steps``, ``export``: steps,
labels and training sets from the command line.

Design decision: every command here but the Monte-Carlo job opens the store once, refreshed, runs one
library call and closes it; the job commands hold the store only while they create or start the job.
"""
from __future__ import annotations

import argparse
import json
import sys

from agentark.cli.common import add_home, job_id_arg, print_place, refreshed_store, run_id_arg
from agentark.options import add_arguments, from_namespace


def register(sub: argparse._SubParsersAction) -> None:
    """Add the step, label and export commands; a command that builds a config takes that config's options."""
    from agentark.export import ExportConfig
    from agentark.labels.auto_labelers import AutoLabelConfig
    from agentark.labels.montecarlo import MCConfig
    from agentark.labels.segment import SegmentConfig

    s = sub.add_parser("segment", help="split the runs' messages into steps (labels of unchanged steps are kept)")
    add_home(s)
    s.add_argument("--run", type=run_id_arg, action="append", dest="runs", help="run id (repeat; default: every run)")
    add_arguments(s, SegmentConfig)
    s.set_defaults(func=cmd_segment)

    a = sub.add_parser("autolabel", help="label steps from outcomes and the debate signal")
    add_home(a)
    add_arguments(a, AutoLabelConfig)
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
    add_arguments(m, MCConfig)
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
    add_arguments(e, ExportConfig)
    e.add_argument("--out", default=None, help="file to write (.parquet or .jsonl); default: $AGENTARK_HOME/exports/")
    e.set_defaults(func=cmd_export)


def cmd_segment(args: argparse.Namespace) -> int:
    from agentark.labels.segment import SegmentConfig, segment_runs

    with refreshed_store() as store:
        cfg = from_namespace(SegmentConfig, args)
        n = segment_runs(store, args.runs, cfg)
    print(f"{n} steps stored ({cfg.method})")
    return 0


def cmd_autolabel(args: argparse.Namespace) -> int:
    from agentark.labels.auto_labelers import AutoLabelConfig, run_auto_labelers

    with refreshed_store() as store:
        written = run_auto_labelers(store, from_namespace(AutoLabelConfig, args))
    for source, n in written.items():
        print(f"{source}: {n} labels appended")
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    from agentark.labels.human_labels import HumanLabel, add_human_labels

    with refreshed_store() as store:
        add_human_labels(store, [HumanLabel(args.step_id, args.value, args.annotator, args.flag, args.note)])
    print(f"labelled {args.step_id}")
    return 0


def cmd_import_steps(args: argparse.Namespace) -> int:
    from agentark.labels.step_import import import_steps

    with refreshed_store() as store:
        report = import_steps(store, args.path, args.format, model=args.model)
    for line, reason in report.pop("rejected"):
        print(f"warning: line {line} skipped: {reason}", file=sys.stderr)
    print(json.dumps(report))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from agentark.export import ExportConfig, export

    with refreshed_store() as store:
        result = export(store, from_namespace(ExportConfig, args), args.out)
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

    with refreshed_store() as store:
        if args.job_id:
            job_id = montecarlo_job.MCFolder(args.job_id).require().job_id
        else:
            cfg = from_namespace(mc.MCConfig, args)
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

    montecarlo_job.run_mc_job(job_id, on_progress=progress, on_wait=print_place)
    bar.close()
    from agentark.store import label_tables as q

    with refreshed_store() as store:
        labels = q.count_labels(store, mc.SOURCE, job_id)
    print(f"{labels} Monte-Carlo labels stored")
    return 0
