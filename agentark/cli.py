"""``python -m agentark``: the studio's batch face. Every command calls the same library the pages call.

Domain errors print their message (which says what to do) and exit with status 2; nothing else is caught.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from agentark.errors import AgentArkError


def _add_home(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home", help="data folder (default: $AGENTARK_HOME or ./data)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m agentark", description="AgentArk Studio: debate, curate, distill.")
    sub = parser.add_subparsers(dest="command", required=True)

    d = sub.add_parser("debate", help="run (or resume) a multi-agent debate and store every message")
    _add_home(d)
    d.add_argument("--dataset", default=None, help="builtin:arithmetic, gsm8k, hf:NAME or a .jsonl/.parquet/.csv path")
    d.add_argument("--split", default=None)
    d.add_argument("--limit", type=int, default=None, help="number of problems (default 8)")
    d.add_argument("--method", default=None, help="cot or debate (default debate)")
    d.add_argument("--agents", type=int, default=None)
    d.add_argument("--rounds", type=int, default=None)
    d.add_argument("--temperature", type=float, default=None)
    d.add_argument("--max-tokens", type=int, default=None)
    d.add_argument("--seed", type=int, default=None)
    d.add_argument("--aggregator", action="store_true", default=None, help="add a final aggregator call")
    d.add_argument("--engine", default=None, help="transformers (default) or scripted")
    d.add_argument("--model", default=None, help="checkpoint folder or model id (default: embedded SmolLM2-135M)")
    d.add_argument("--chunk-size", type=int, default=None, help="problems per batch and per shard (default 16)")
    d.add_argument("--run-id", default=None, help="resume this run instead of starting a new one")
    d.add_argument("--background", action="store_true", help="start the run as a background job and return")

    r = sub.add_parser("runs", help="list runs with method, model, problems, status and final accuracy")
    _add_home(r)
    r.add_argument("--json", action="store_true")

    w = sub.add_parser("worker", help="(internal) run a debate job in this process")
    _add_home(w)
    w.add_argument("run_id")

    s = sub.add_parser("datasets", help="list the dataset names the studio understands")
    s.add_argument("--json", action="store_true")

    from agentark import cli_labels

    cli_labels.add_parsers(sub, _add_home)
    return parser


def _config_from_args(args: argparse.Namespace):
    from agentark.debate import DebateConfig

    fields = {
        "dataset": args.dataset, "split": args.split, "limit": args.limit, "method": args.method,
        "agents": args.agents, "rounds": args.rounds, "temperature": args.temperature,
        "max_tokens": args.max_tokens, "seed": args.seed, "aggregator": args.aggregator, "engine": args.engine,
        "model": args.model, "chunk_size": args.chunk_size,
    }
    return DebateConfig(**{k: v for k, v in fields.items() if v is not None})


def _open_store_or_none():
    from agentark.errors import StoreLockedError
    from agentark.store import Store

    try:
        return Store()
    except StoreLockedError as exc:
        print(f"note: {exc}", file=sys.stderr)
        return None


def _print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) if rows else len(c) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in columns))


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def cmd_debate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from agentark import jobs
    from agentark.runfolder import RunFolder

    if args.run_id:
        folder = RunFolder(args.run_id).require()
        run_id = args.run_id
        print(f"resuming run {run_id} ({len(folder.done_problem_ids())} problems already done)")
    else:
        cfg = _config_from_args(args)
        run_id, report = jobs.create_debate_run(cfg)
        for line, reason in report.rejected:
            print(f"warning: {report.source} line {line} skipped: {reason}", file=sys.stderr)
        print(f"run {run_id}: {len(report.problems)} problems, method {cfg.method}, "
              f"{cfg.agents} agents x {cfg.rounds} rounds, model {cfg.model}")
    if args.background:
        store = _open_store_or_none()
        if store is None:
            pid = jobs.start_background(run_id)
        else:
            with store:
                pid = jobs.resume_background(store, run_id)
        print(f"started in the background (pid {pid}); follow it with `python -m agentark runs`")
        return 0
    bar = tqdm(total=None, unit="problem", desc=run_id, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    jobs.run_debate_job(run_id, on_progress=progress)
    bar.close()
    _report_rounds(run_id)
    return 0


def _report_rounds(run_id: str) -> None:
    from agentark.runfolder import RunFolder

    store = _open_store_or_none()
    if store is not None:
        with store:
            store.refresh()
            table = store.round_accuracy(run_id)
            final = store.scalar("SELECT avg(is_correct::INT) FROM outcomes WHERE run_id = ?", [run_id])
    else:
        import duckdb

        from agentark.store import round_accuracy

        # The store is held by another process: read the same numbers straight from the shards.
        folder = RunFolder(run_id)
        con = duckdb.connect()
        con.execute(f"CREATE VIEW messages AS SELECT * FROM read_parquet('{folder.shards}/*.messages.parquet')")
        table = round_accuracy(con, run_id, "messages")
        final = con.execute(
            f"SELECT avg(is_correct::INT) FROM read_parquet('{folder.shards}/*.outcomes.parquet')"
        ).fetchall()[0][0]
    print("accuracy per round (agent = mean over agents' answers, vote = majority vote):")
    _print_table(table.to_dict("records"), ["round", "problems", "messages", "agent_accuracy", "vote_accuracy"])
    print(f"final accuracy: {_fmt(final)}")


def cmd_runs(args: argparse.Namespace) -> int:
    from agentark.store import Store

    with Store() as store:
        store.refresh()
        frame = store.list_runs()
    rows = json.loads(frame.to_json(orient="records", date_format="iso"))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows, ["run_id", "method", "model", "dataset", "problems", "done", "status", "accuracy"])
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from agentark.tasks import dataset_choices

    names = dataset_choices()
    print(json.dumps(names) if args.json else "\n".join(names))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "home", None):
        os.environ["AGENTARK_HOME"] = str(Path(args.home).resolve())
    try:
        if args.command == "debate":
            return cmd_debate(args)
        if args.command == "runs":
            return cmd_runs(args)
        if args.command == "worker":
            from agentark.jobs import worker_main

            return worker_main(args.run_id)
        if args.command == "datasets":
            return cmd_datasets(args)
        from agentark import cli_labels

        handled = cli_labels.dispatch(args)
        if handled is not None:
            return handled
    except AgentArkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1
