"""``debate``: start, resume or run a debate job from the command line.

Design decision: the command writes the run folder first and then either runs the job in this process
(with a progress bar) or starts it in the background; when another process holds the store, it still runs
and reports accuracy straight from the run's shards.
"""
from __future__ import annotations

import argparse
import sys

from agentark.cli.common import (
    add_home,
    add_server_options,
    fmt,
    open_store_or_none,
    print_table,
    run_id_arg,
    server_options,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``debate`` command."""
    d = sub.add_parser("debate", help="run (or resume) a multi-agent debate and store every message")
    add_home(d)
    d.add_argument("--dataset", default=None, help="builtin:arithmetic, gsm8k, hf:NAME or a .jsonl/.parquet/.csv path")
    d.add_argument("--split", default=None,
                   help="dataset split (default test); the built-in generator draws its own problems for each split "
                        "name: train to distill on, test held out")
    d.add_argument("--limit", type=int, default=None, help="number of problems (default 8)")
    d.add_argument("--method", default=None, help="cot, self_consistency, debate (default), mad or critique")
    d.add_argument("--agents", type=int, default=None)
    d.add_argument("--rounds", type=int, default=None)
    d.add_argument("--temperature", type=float, default=None)
    d.add_argument("--max-tokens", type=int, default=None)
    d.add_argument("--seed", type=int, default=None, help="sampling seed (default 0)")
    d.add_argument("--problem-seed", type=int, default=None,
                   help="seed that picks the built-in generator's problems (default 0), apart from the sampling seed")
    d.add_argument("--aggregator", action="store_true", default=None, help="add a final aggregator call")
    d.add_argument("--engine", default=None, help="transformers (default), openai, vllm or scripted")
    d.add_argument("--model", default=None, help="checkpoint folder or model id (default: embedded SmolLM2-135M)")
    d.add_argument("--chunk-size", type=int, default=None, help="problems per batch and per shard (default 16)")
    add_server_options(d)
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
    d.add_argument("--run-id", type=run_id_arg, default=None, help="resume this run instead of starting a new one")
    d.add_argument("--name", default=None,
                   help="a name for the run, shown instead of its id and usable in its place (unique among runs)")
    d.add_argument("--background", action="store_true", help="start the run as a background job and return")
    d.set_defaults(func=cmd_debate)


def config_from_args(args: argparse.Namespace):
    """The ``DebateConfig`` the flags describe; flags left out keep the config's defaults."""
    from agentark.debate import DebateConfig

    fields = {
        "dataset": args.dataset, "split": args.split, "limit": args.limit, "method": args.method,
        "agents": args.agents, "rounds": args.rounds, "temperature": args.temperature,
        "max_tokens": args.max_tokens, "seed": args.seed, "problem_seed": args.problem_seed,
        "aggregator": args.aggregator, "engine": args.engine,
        "model": args.model, "chunk_size": args.chunk_size,
    }
    fields["engine_options"] = server_options(args)
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


def cmd_debate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from agentark import jobs
    from agentark.debate import debate_job
    from agentark.cli.cmd_names import check_name_free, name_run
    from agentark.debate.debate_job import RunFolder

    name = check_name_free(args.name) if args.name else None
    if args.run_id:
        folder = RunFolder(args.run_id).require()
        run_id = args.run_id
        print(f"resuming run {run_id} ({len(folder.done_problem_ids())} problems already done)")
    else:
        cfg = config_from_args(args)
        run_id, report = debate_job.create_debate_run(cfg)
        for line, reason in report.rejected:
            print(f"warning: {report.source} line {line} skipped: {reason}", file=sys.stderr)
        for line, reason in report.warnings:
            print(f"warning: {report.source} line {line}: {reason}", file=sys.stderr)
        print(f"run {run_id}: {len(report.problems)} problems, method {cfg.method}, "
              f"{cfg.agents} agents x {cfg.rounds} rounds, model {', '.join(cfg.models())}")
    if name:
        name_run(run_id, name)
        print(f"named '{name}'")
    if args.background:
        pid = jobs.spawn("debate", run_id)
        print(f"started in the background (pid {pid}); follow it with `python -m agentark jobs`, "
              f"stop it with `python -m agentark stop {run_id}`")
        return 0
    bar = tqdm(total=None, unit="problem", desc=run_id, file=sys.stderr)

    folder = RunFolder(run_id)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(folder.progress().get("stage", ""), refresh=False)
        bar.refresh()

    final = debate_job.run_debate_job(run_id, on_progress=progress)
    bar.close()
    _report_rounds(run_id)
    if final["status"] == "failed":
        print(f"warning: {final['error']}: python -m agentark debate --run-id {run_id}", file=sys.stderr)
        return 1
    if final["status"] == "stopped":
        print(f"stopped; resume with `python -m agentark debate --run-id {run_id}`", file=sys.stderr)
    return 0


def _report_rounds(run_id: str) -> None:
    from agentark.debate.debate_job import RunFolder
    from agentark.store import run_tables

    store = open_store_or_none()
    if store is not None:
        with store:
            store.refresh()
            table = run_tables.round_accuracy(store, run_id)
            final = run_tables.final_accuracy(store, run_id)
    else:
        from agentark.store.shards import shard_report

        # The store is held by another process: read the same numbers straight from the finished shards,
        # each problem's latest one (a retry supersedes the failed attempt, as in the store).
        folder = RunFolder(run_id)
        if not folder.finished_shards():
            print("no problem has finished yet")
            return
        table, final = shard_report([folder.shard_paths(name) for name in folder.finished_shards()], run_id)
    print("accuracy per round (agent = mean over agents' answers, vote = majority vote):")
    print_table(table.to_dict("records"), ["round", "problems", "messages", "agent_accuracy", "vote_accuracy"])
    print(f"final accuracy: {fmt(final)}")
