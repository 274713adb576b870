"""``study run``, ``study show``, ``study list`` and ``study resume``: declared experiments from the terminal.

Design decision: a study file is the config; every ``StudyConfig`` option is also a flag (generated, a part's
fields with its prefix: ``--teacher-agents``, ``--sft-epochs``), and a flag given overrides the file's value, so
``study run builtin --seed 0 --seed 1`` reruns the built-in study over two seeds without editing it. A study is a job like any other: ``python -m agentark stop ID`` and ``resume ID`` work
on it too.
"""
from __future__ import annotations

import argparse
import json
import sys

from agentark.cli.common import add_executor, add_home, job_id_arg, print_table
from agentark.options import add_arguments, from_namespace, option_names
from agentark.studies.study_config import BUILTIN_NAME, StudyConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``study`` command and its subcommands."""
    study = sub.add_parser("study", help="declared experiments: does distilling the debate beat cheaper data?")
    verbs = study.add_subparsers(dest="study_command", required=True)

    run = verbs.add_parser("run", help="run a study (a TOML file, or 'builtin'); finished steps are reused",
                           description=(StudyConfig.__doc__ or "").strip())
    add_home(run)
    run.add_argument("file", nargs="?", default=None, metavar="FILE",
                     help=f"the study file (TOML), or '{BUILTIN_NAME}' for the built-in study; flags override it")
    run.add_argument("--background", action="store_true", help="start it as a background job and return")
    run.add_argument("--study-id", type=job_id_arg, default=None, help="the study's id (default: a new one)")
    add_arguments(run, StudyConfig)
    add_executor(run, skip=("executor",))
    run.set_defaults(func=cmd_run)

    show = verbs.add_parser("show", help="a study's result table: one row per arm, with intervals and links")
    add_home(show)
    show.add_argument("study_id", type=job_id_arg, metavar="STUDY_ID")
    fmt = show.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the result as JSON")
    fmt.add_argument("--html", action="store_true", help="print the result as a self-contained HTML page")
    show.set_defaults(func=cmd_show)

    listing = verbs.add_parser("list", help="every study with its status")
    add_home(listing)
    listing.set_defaults(func=cmd_list)

    resume = verbs.add_parser("resume", help="continue a stopped, failed or killed study in this terminal")
    add_home(resume)
    resume.add_argument("study_id", type=job_id_arg, metavar="STUDY_ID")
    resume.add_argument("--background", action="store_true", help="resume it as a background job")
    resume.set_defaults(func=cmd_resume)


def study_from_args(args: argparse.Namespace) -> StudyConfig:
    """The study file's config with the flags given on top (a flag not given leaves the file's value)."""
    from agentark.studies.study_config import study_file_values, study_from_values

    base = study_file_values(args.file) if args.file else {}
    known = option_names(StudyConfig)
    given = {name: value for name, value in vars(args).items() if name in known}
    return study_from_values({**base, **given}, args.file or "flags")


def _follow(job_id: str):
    from agentark.jobs import find

    def report(done: int, total: int) -> None:
        print(f"[{done} steps] {find(job_id)[1].progress().get('stage', '')}", flush=True)

    return report


def _finish(job_id: str, progress: dict) -> int:
    if progress.get("status") != "done":
        print(f"study {job_id} {progress.get('status')}: {progress.get('error') or progress.get('stage')}; "
              f"continue it with `python -m agentark study resume {job_id}`", file=sys.stderr)
        return 1
    print(f"study {job_id} {progress.get('stage')}; see `python -m agentark study show {job_id}`")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from agentark import jobs

    cfg = study_from_args(args)
    # The study file's ``executor`` (or --executor) with the other executor flags: a Slurm study is submitted.
    executor = from_namespace(jobs.ExecutorConfig, args, executor=cfg.executor)
    if args.background or executor.chosen() == "slurm":
        started = jobs.start("study", cfg, job_id=args.study_id, executor=executor)
        where = f"Slurm job {started.slurm_job_id}" if started.slurm_job_id else f"pid {started.pid}"
        print(f"study {started.job_id} started ({where}); follow it with `python -m agentark study show "
              f"{started.job_id}` or on the Study page")
        return 0
    job_id = jobs.create("study", cfg, job_id=args.study_id).job_id
    print(f"study {job_id}", flush=True)
    return _finish(job_id, jobs.run_job(job_id, on_progress=_follow(job_id)))


def cmd_resume(args: argparse.Namespace) -> int:
    from agentark import jobs

    if args.background or jobs.is_slurm(args.study_id):
        print(f"resumed {args.study_id} in the background (pid {jobs.resume(args.study_id)})")
        return 0
    return _finish(args.study_id, jobs.run_job(args.study_id, on_progress=_follow(args.study_id)))


def cmd_show(args: argparse.Namespace) -> int:
    from agentark.store import Store
    from agentark.studies.study_report import html_report, require_study, study_result, table_rows, text_report

    require_study(args.study_id)
    with Store() as store:
        result = study_result(store, args.study_id)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, default=str))
    elif args.html:
        print(html_report(result))
    else:
        lines = text_report(result)
        print("\n".join(lines[:2]))
        rows = table_rows(result)
        print_table(rows, list(rows[0]) if rows else ["arm"])
        print("\n".join(lines[2:]))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from agentark.studies.study_job import list_studies

    rows = [{"study_id": f.job_id, "name": f.meta().get("name"), "status": f.status(),
             "stage": f.progress().get("stage"), "started_at": f.progress().get("started_at")}
            for f in list_studies()]
    print_table(rows, ["study_id", "name", "status", "stage", "started_at"])
    return 0

