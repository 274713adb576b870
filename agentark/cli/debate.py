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
    d.add_argument("--method", default=None, help="cot, self_consistency, debate (default), mad or critique")
    d.add_argument("--agents", type=int, default=None)
    d.add_argument("--rounds", type=int, default=None)
    d.add_argument("--temperature", type=float, default=None)
    d.add_argument("--max-tokens", type=int, default=None)
    d.add_argument("--seed", type=int, default=None)
    d.add_argument("--aggregator", action="store_true", default=None, help="add a final aggregator call")
    d.add_argument("--engine", default=None, help="transformers (default), openai, vllm or scripted")
    d.add_argument("--model", default=None, help="checkpoint folder or model id (default: embedded SmolLM2-135M)")
    d.add_argument("--chunk-size", type=int, default=None, help="problems per batch and per shard (default 16)")
    d.add_argument("--base-url", action="append", default=None,
                   help="OpenAI-compatible server, e.g. http://HOST:8000/v1 (repeat to spread load over replicas)")
    d.add_argument("--concurrency", type=int, default=None, help="requests in flight at once (openai engine, default 16)")
    d.add_argument("--api-key-env", default=None, help="environment variable holding the API key (default OPENAI_API_KEY)")
    d.add_argument("--timeout", type=float, default=None, help="seconds per request before a retry (openai engine)")
    d.add_argument("--max-retries", type=int, default=None, help="retries on 429/5xx/timeouts (openai engine, default 3)")
    d.add_argument("--agent-model", action="append", default=None, metavar="[ENGINE=]MODEL",
                   help="one per speaker in order (e.g. agent_1, agent_2, ...; mad: affirmative, negative, judge)")
    d.add_argument("--agent-system", action="append", default=None, metavar="TEXT",
                   help="system prompt (role) per speaker, in the same order as --agent-model")
    d.add_argument("--early-stop", action="store_true", default=None, help="stop once every agent gives the same answer")
    d.add_argument("--critics", type=int, default=None, help="critic agents (method critique, default 1)")
    d.add_argument("--judge-last-round-only", action="store_true", default=None,
                   help="MAD: the judge decides only after the last round")
    d.add_argument("--question-col", default=None, help="column holding the question (files and hf: datasets)")
    d.add_argument("--answer-col", default=None, help="column holding the answer")
    d.add_argument("--id-col", default=None, help="column holding a stable problem id")
    d.add_argument("--run-id", default=None, help="resume this run instead of starting a new one")
    d.add_argument("--background", action="store_true", help="start the run as a background job and return")

    r = sub.add_parser("runs", help="list runs with method, model, problems, status and final accuracy")
    _add_home(r)
    r.add_argument("--json", action="store_true")

    w = sub.add_parser("worker", help="(internal) run a debate job in this process")
    _add_home(w)
    w.add_argument("run_id")

    i = sub.add_parser("import", help="import transcripts from another tool (or an export) into the store")
    _add_home(i)
    i.add_argument("--format", required=True, choices=["du2023", "maslab", "transcripts"])
    i.add_argument("path")
    i.add_argument("--run-id", default=None, help="run to import into (du2023/maslab; default: derived from the path)")
    i.add_argument("--dataset", default=None, help="dataset name for the imported problems (default import:FILE)")

    st = sub.add_parser("stats", help="the runs dashboard's numbers: accuracy and agreement per round, corrections, cost")
    _add_home(st)
    st.add_argument("run_ids", nargs="+", metavar="RUN_ID")
    st.add_argument("--json", action="store_true")

    mk = sub.add_parser("mark", help="mark a problem of a run (or one message with --message) keep or exclude")
    _add_home(mk)
    mk.add_argument("run_id", metavar="RUN_ID")
    mk.add_argument("problem_id", metavar="PROBLEM_ID")
    choice = mk.add_mutually_exclusive_group(required=True)
    choice.add_argument("--keep", dest="mark", action="store_const", const="keep")
    choice.add_argument("--exclude", dest="mark", action="store_const", const="exclude")
    mk.add_argument("--message", default=None, metavar="MESSAGE_ID", help="mark this transcript turn only")
    mk.add_argument("--note", default=None)
    mk.add_argument("--annotator", default=None, help="who marks (default: $USER)")

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
    options = {"base_urls": args.base_url, "concurrency": args.concurrency, "api_key_env": args.api_key_env,
               "timeout_s": args.timeout, "max_retries": args.max_retries}
    fields["engine_options"] = {k: v for k, v in options.items() if v is not None} or None
    method_options = {"critics": args.critics,
                      "judge_every_round": False if args.judge_last_round_only else None}
    fields["method_options"] = {k: v for k, v in method_options.items() if v is not None} or None
    fields["early_stop"] = args.early_stop
    fields["agent_specs"] = agent_specs(args.agent_model or [], args.agent_system or []) or None
    if args.question_col or args.answer_col or args.id_col:
        fields["columns"] = {"question": args.question_col, "answer": args.answer_col, "id": args.id_col}
    return DebateConfig(**{k: v for k, v in fields.items() if v is not None})


def agent_specs(models: list[str], systems: list[str]) -> list:
    """Pair --agent-model and --agent-system by position; a speaker may have either or both."""
    from agentark.debate import AgentSpec

    specs = []
    for i in range(max(len(models), len(systems))):
        system = systems[i] if i < len(systems) else None
        specs.append(AgentSpec.parse(models[i], system) if i < len(models) else AgentSpec(system=system))
    return specs


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
              f"{cfg.agents} agents x {cfg.rounds} rounds, model {', '.join(cfg.models())}")
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

    folder = RunFolder(run_id)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(folder.progress().get("stage", ""), refresh=False)
        bar.refresh()

    final = jobs.run_debate_job(run_id, on_progress=progress)
    bar.close()
    _report_rounds(run_id)
    if final["status"] == "failed":
        print(f"warning: {final['error']}: python -m agentark debate --run-id {run_id}", file=sys.stderr)
        return 1
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


def cmd_import(args: argparse.Namespace) -> int:
    from agentark.store import Store
    from agentark.transcripts import import_file

    with Store() as store:
        report = import_file(store, args.format, args.path, run_id=args.run_id, dataset=args.dataset)
    for line, reason in report.rejected:
        print(f"rejected: {args.path} line {line}: {reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from agentark.tasks import dataset_choices

    names = dataset_choices()
    print(json.dumps(names) if args.json else "\n".join(names))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from agentark.stats import print_stats
    from agentark.store import Store

    with Store() as store:
        store.refresh()
        print_stats(store, args.run_ids, as_json=args.json)
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    from agentark.curation import Mark, mark_targets
    from agentark.store import Store

    annotator = args.annotator or os.environ.get("USER") or "cli"
    with Store() as store:
        store.refresh()
        mark = Mark(args.run_id, args.problem_id, args.mark, message_id=args.message, note=args.note, annotator=annotator)
        mark_targets(store, [mark])
    target = f"message {args.message}" if args.message else f"problem {args.problem_id}"
    print(f"{args.mark}: {target} of run {args.run_id} (by {annotator})")
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
        if args.command == "stats":
            return cmd_stats(args)
        if args.command == "mark":
            return cmd_mark(args)
        if args.command == "datasets":
            return cmd_datasets(args)
        if args.command == "import":
            return cmd_import(args)
        from agentark import cli_labels

        handled = cli_labels.dispatch(args)
        if handled is not None:
            return handled
    except AgentArkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1
