"""``segment``, ``autolabel``, ``label``, one ``label-NAME`` per job labeler (``label-mc``, ``label-prm``,
``label-judge``), ``import-steps``, ``steps``, ``labels`` (``list``, ``report``, ``gold-set``, ``gold``,
``overlap``, ``team``), ``export`` and ``exports``:
steps, labels and training sets from the command line.

Design decision: every command here but the labeling jobs opens the store once, refreshed, runs one library call
and closes it; the job commands hold the store only while they create the job or count its labels. The labeling
commands are read off the labeler registry (``agentark.labels.labelers``): a job labeler gets a command, an
inline one is an ``autolabel --source`` choice; no command here names a label source.
"""
from __future__ import annotations

import argparse
import json
import sys

from agentark.cli.common import (add_home, add_labeling_job, print_table, refreshed_store, run_id_arg,
                                 run_labeling_job)
from agentark.options import add_arguments, from_namespace



def config_command(sub, name: str, help_text: str, cls, func) -> None:
    """A command whose every option is a field of ``cls`` (plus the studio home)."""
    parser = sub.add_parser(name, help=help_text)
    add_home(parser)
    add_arguments(parser, cls)
    parser.set_defaults(func=func)

def register(sub: argparse._SubParsersAction) -> None:
    """Add the step, label and export commands; a command that builds a config takes that config's options."""
    from agentark.training_sets import ExportConfig, export_kind_names
    from agentark.labels.assignments import AssignmentConfig
    from agentark.labels.auto_labelers import AutoLabelConfig
    from agentark.labels.gold import GoldConfig
    from agentark.labels.labelers import job_labelers
    from agentark.labels.segment import SegmentConfig
    from agentark.labels.step_import import StepImportConfig

    s = sub.add_parser("segment", help="split the runs' messages into steps (labels of unchanged steps are kept)")
    add_home(s)
    s.add_argument("--run", type=run_id_arg, action="append", dest="runs", help="run id (repeat; default: every run)")
    add_arguments(s, SegmentConfig)
    s.set_defaults(func=cmd_segment)

    config_command(sub, "autolabel", "label steps from outcomes and the debate signal", AutoLabelConfig,
                   cmd_autolabel)

    h = sub.add_parser("label", help="append a human label to a step")
    add_home(h)
    h.add_argument("step_id")
    h.add_argument("--value", type=int, choices=(-1, 0, 1))
    h.add_argument("--flag", action="store_true", help="mark the step 'unsure'")
    h.add_argument("--note")
    h.add_argument("--annotator", required=True)
    h.set_defaults(func=cmd_label)

    for labeler in job_labelers():
        job = add_labeling_job(sub, labeler.command, f"{labeler.title} step labels ({labeler.source}: "
                               f"{labeler.description}) as a resumable job", labeler.config, cmd_label_job)
        job.set_defaults(labeler=labeler.source)

    st = sub.add_parser("steps", help="find steps: ids, text and the labels in force, by run, problem, message, text "
                                      "or label source")
    add_home(st)
    st.add_argument("--run", type=run_id_arg, action="append", dest="runs", help="run id (repeat; default: every run)")
    st.add_argument("--problem", action="append", dest="problems", help="problem id (repeat)")
    st.add_argument("--message", action="append", dest="messages", help="message id (repeat)")
    st.add_argument("--contains", default="", help="text the step contains (case-insensitive)")
    st.add_argument("--source", default=None, help="only steps with a label of this source in force, e.g. auto:debate")
    st.add_argument("--limit", type=int, default=50, help="rows to print at most (default 50; 0: all)")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_steps)

    lb = sub.add_parser("labels", help="how right the automatic labelers are (report) and gold debates to measure them")
    lsub = lb.add_subparsers(dest="labels_command", required=True)
    ls = lsub.add_parser("list", help="the label sources: each labeler (how it runs, its command) and reference")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_labels_list)
    rep = lsub.add_parser("report", help="each automatic source's negatives precision/recall, first-error accuracy "
                                         "and coverage against human and gold labels")
    add_home(rep)
    rep.add_argument("--run", type=run_id_arg, action="append", dest="runs", help="run id (repeat; default: every run)")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=cmd_labels_report)
    gs = lsub.add_parser("gold-set", help="each inline labeler's coverage, precision and recall by error kind on a "
                                          "gold set of hand-marked first errors, and the PRM export's under its "
                                          "defaults")
    gs.add_argument("--path", default=None,
                    help="a gold-set file (default: agentark/labels/data/first_errors.jsonl)")
    gs.add_argument("--json", action="store_true")
    gs.set_defaults(func=cmd_labels_gold_set)
    gold = lsub.add_parser("gold", help="build a real-style gold debate (persona openings, Step k lines, planted first "
                                        "errors), import it, segment it and store its key as 'gold' labels")
    add_home(gold)
    add_arguments(gold, GoldConfig)
    gold.add_argument("--run-id", type=run_id_arg, default=None, help="default: gold-debate-SEED")
    gold.set_defaults(func=cmd_labels_gold)
    config_command(lsub, "overlap", "set the share of runs' steps two annotators label, for agreement",
                   AssignmentConfig, cmd_labels_overlap)
    team = lsub.add_parser("team", help="each annotator's steps and labels, and Cohen's kappa of every pair of people")
    add_home(team)
    team.add_argument("--run", type=run_id_arg, action="append", dest="runs", help="run id (repeat; default: every run)")
    team.set_defaults(func=cmd_labels_team)

    config_command(sub, "import-steps", "import labeled steps (PRM800K, Math-Shepherd, ...) as a run",
                   StepImportConfig, cmd_import_steps)

    e = sub.add_parser("export", help=f"write an immutable training set ({', '.join(export_kind_names())})")
    add_home(e)
    add_arguments(e, ExportConfig)
    e.add_argument("--out", default=None, help="file to write (.parquet or .jsonl); default: $AGENTARK_HOME/exports/")
    e.set_defaults(func=cmd_export)

    x = sub.add_parser("exports", help="the training sets written so far: id, kind, rows, sha256, figures, created")
    add_home(x)
    x.add_argument("--kind", default=None, help=f"only exports of this kind ({', '.join(export_kind_names())})")
    x.add_argument("--json", action="store_true")
    x.set_defaults(func=cmd_exports)


def cmd_segment(args: argparse.Namespace) -> int:
    from agentark.labels.segment import SegmentConfig, resegment

    with refreshed_store() as store:
        cfg = from_namespace(SegmentConfig, args)
        report = resegment(store, args.runs, cfg)
    print(report.summary(cfg.method))
    return 0


def cmd_autolabel(args: argparse.Namespace) -> int:
    from agentark.labels.auto_labelers import AutoLabelConfig, run_auto_labelers
    from agentark.labels.labelers import summary_lines

    with refreshed_store() as store:
        written = run_auto_labelers(store, from_namespace(AutoLabelConfig, args))
    for line in summary_lines(written):
        print(line)
    return 0


def cmd_label_job(args: argparse.Namespace) -> int:
    """Any job labeler's command: create (or resume) its job, run it here or in the background, count its labels."""
    from agentark.jobs import get_kind
    from agentark.labels.labelers import get_labeler
    from agentark.store import label_tables as q

    labeler = get_labeler(args.labeler)
    job_id, final = run_labeling_job(args, labeler.kind, labeler.config, get_kind(labeler.kind).folder,
                                     f"{labeler.title} labeling", labeler.unit)
    if final is None:
        return 0
    with refreshed_store() as store:
        labels = q.count_labels(store, labeler.source, job_id if labeler.by_job else None)
    print(f"{final.get('status')}: {labels} {labeler.source} labels stored"
          + (f": {final.get('error')}" if final.get("error") else ""))
    for line in labeler.notes(job_id, final) if labeler.notes else []:
        print(line)
    return 0 if final.get("status") == "done" else 1


def cmd_labels_list(args: argparse.Namespace) -> int:
    from agentark.labels.labelers import describe, labelers

    rows = [describe(r) for r in labelers()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(rows, ["source", "title", "runs", "command", "kind", "precedence"])
    return 0


def cmd_steps(args: argparse.Namespace) -> int:
    from agentark.store import label_tables as q

    with refreshed_store() as store:
        found = q.find_steps(store, args.runs, args.problems, args.messages, args.contains, args.source,
                             args.limit or None)
        labels = q.labels_of_steps(store, list(found["step_id"])) if len(found) else None
    by_step: dict[str, dict[str, float]] = {}
    if labels is not None:
        for r in labels.itertuples():
            by_step.setdefault(r.step_id, {})[r.source] = float(r.value)
    rows = json.loads(found.drop(columns="matching").to_json(orient="records"))
    for row in rows:
        row["labels"] = by_step.get(row["step_id"], {})
    total = int(found["matching"].iloc[0]) if len(found) else 0
    if args.json:
        print(json.dumps({"matching": total, "steps": rows}, indent=2))
        return 0
    for row in rows:
        row["labels"] = " ".join(f"{k}={v:+g}" for k, v in sorted(row["labels"].items())) or "-"
        text = " ".join(str(row["text"]).split())
        row["text"] = text if len(text) <= 60 else text[:59] + "…"
    print_table(rows, ["step_id", "run_id", "agent", "round", "idx", "claim", "labels", "text"])
    shown = f"{len(rows)} of {total}" if total > len(rows) else f"{total}"
    print(f"{shown} matching steps" + (" (--limit 0 shows all)" if total > len(rows) else ""))
    return 0


def cmd_labels_report(args: argparse.Namespace) -> int:
    from agentark.labels.labeler_report import labeler_report

    with refreshed_store() as store:
        report = labeler_report(store, args.runs)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    for line in report.lines():
        print(line)
    return 0


def cmd_labels_gold_set(args: argparse.Namespace) -> int:
    from agentark.labels.gold_set import GOLD_SET, gold_set_dict
    from agentark.labels.labeler_report import gold_set_report

    figures = gold_set_report(args.path or GOLD_SET)
    if args.json:
        print(json.dumps(gold_set_dict(figures), indent=2))
        return 0
    for f in figures:
        print(f.line())
    return 0


def cmd_labels_gold(args: argparse.Namespace) -> int:
    from agentark.config import home
    from agentark.labels.gold import GoldConfig, store_gold_run

    with refreshed_store() as store:
        run_id, n = store_gold_run(store, home() / "gold", from_namespace(GoldConfig, args), args.run_id)
    print(f"gold debate run {run_id}: {n} gold labels stored; label it (autolabel, label-mc, label-judge), then "
          f"`python -m agentark labels report --run {run_id}`")
    return 0


def cmd_labels_overlap(args: argparse.Namespace) -> int:
    import os

    from agentark.labels.assignments import AssignmentConfig, set_overlap

    cfg = from_namespace(AssignmentConfig, args)
    with refreshed_store() as store:
        set_overlap(store, cfg, by=os.environ.get("USER"))
    print(f"{cfg.overlap:.0%} of the steps of {', '.join(cfg.run_ids)} go to two annotators' queues")
    return 0


def cmd_labels_team(args: argparse.Namespace) -> int:
    from agentark.labels.assignments import team_progress

    with refreshed_store() as store:
        team = team_progress(store, args.runs)
    print_table(team.people.to_dict("records"), ["annotator", "held", "labelled", "overlap_held"])
    print()
    print_table(team.pairs.to_dict("records"), list(team.pairs.columns))
    return 0


def cmd_exports(args: argparse.Namespace) -> int:
    from agentark.training_sets import list_exports

    with refreshed_store() as store:
        frame = list_exports(store)
    if args.kind:
        frame = frame[frame["kind"] == args.kind]
    rows = []
    for r in frame.itertuples():
        filters = json.loads(r.filters_json or "{}")
        summary = filters.pop("summary", None) or {}
        rows.append({"export_id": r.export_id, "kind": r.kind, "rows": r.n_rows, "sha256": r.sha256, "path": r.path,
                     "created_at": str(r.created_at), "figures": summary, "config": filters})
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    for row in rows:
        prm = (row["figures"] or {}).get("prm") or {}
        row["figures"] = (f"{prm.get('steps')} steps, {prm.get('negatives')} negative" if prm
                          else ", ".join(f"-{n} {k}" for k, n in (row["figures"].get("dropped") or {}).items()) or "-")
        row["sha256"] = row["sha256"][:12]
    print_table(rows, ["export_id", "kind", "rows", "sha256", "figures", "created_at"])
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    from agentark.labels.human_labels import HumanLabel, add_human_labels

    with refreshed_store() as store:
        add_human_labels(store, [HumanLabel(args.step_id, args.value, args.annotator, args.flag, args.note)])
    print(f"labelled {args.step_id}")
    return 0


def cmd_import_steps(args: argparse.Namespace) -> int:
    from agentark.labels.step_import import StepImportConfig, import_step_file

    with refreshed_store() as store:
        report = import_step_file(store, from_namespace(StepImportConfig, args))
    for line, reason in report.pop("rejected"):
        print(f"warning: line {line} skipped: {reason}", file=sys.stderr)
    print(json.dumps(report))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from agentark.training_sets import ExportConfig, export

    with refreshed_store() as store:
        result = export(store, from_namespace(ExportConfig, args), args.out)
    for line in result.summary.lines():
        print(line)
    if result.summary.warning():
        print(f"warning: {result.summary.warning()}", file=sys.stderr)
    print(f"{result.n_rows} rows -> {result.path} (sha256 {result.sha256})")
    return 0
