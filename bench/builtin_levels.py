"""How well the embedded model does on each built-in level: one agent (CoT) against a 3 x 2 debate.

Everything runs through the studio itself (run folders, the debate job, the store) in a scratch
AGENTARK_HOME, so the figures are what a user of the app would see. For each level and method it prints the
accuracy with a 95% percentile-bootstrap interval, then the debate's accuracy as a ratio of the single
agent's, measured side by side in the same run. For each debate it also segments the messages
(paragraphs), runs the automatic labelers (outcome, debate signal) and prints what a PRM export would hold:
rows, rows with a negative step, steps, positives and negatives (the first-error convention, default).

Each finished measurement is appended to ``--out`` as one JSON line, so a long run on a busy machine keeps
what it measured.

    python bench/builtin_levels.py --levels onestep easy --limit 40 --max-tokens 160
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import smoke  # noqa: E402

METHODS = {"single": dict(method="cot"), "debate": dict(method="debate", agents=3, rounds=2)}


def accuracy_interval(correct: list[bool]) -> tuple[float, float]:
    from agentark.evaluate.stats import bootstrap_ci

    if len(set(correct)) <= 1:  # every answer right or every one wrong: the bootstrap has nothing to resample
        value = float(correct[0]) if correct else math.nan
        return value, value
    return bootstrap_ci([float(c) for c in correct])


def measure(level: str, kind: str, args: argparse.Namespace) -> dict:
    import agentark.jobs.builtin  # noqa: F401  (registers the debate kind's ingester, as the app and the CLI do)
    from agentark.debate import debate_job
    from agentark.debate import DebateConfig
    from agentark.training_sets import ExportConfig, prepare
    from agentark.labels.auto_labelers import AutoLabelConfig, run_auto_labelers
    from agentark.labels.segment import SegmentConfig, segment_runs
    from agentark.store import Store, run_tables

    cfg = DebateConfig(dataset=f"builtin:arithmetic-{level}", model=args.model, limit=args.limit, max_tokens=args.max_tokens,
                       temperature=args.temperature, seed=args.seed, **METHODS[kind])
    started = time.perf_counter()
    run_id, _ = debate_job.create_debate_run(cfg)
    debate_job.run_debate_job(run_id)
    seconds = time.perf_counter() - started
    with Store() as store:
        store.refresh()
        correct = [bool(c) for c in run_tables.run_problems(store, run_id)["is_correct"]]
        result = {"level": level, "method": kind, "run_id": run_id, "problems": len(correct),
                  "accuracy": sum(correct) / len(correct), "interval": accuracy_interval(correct),
                  "seconds": round(seconds, 1), "max_tokens": args.max_tokens, "temperature": args.temperature}
        if kind == "debate":
            segment_runs(store, [run_id], SegmentConfig())
            run_auto_labelers(store, AutoLabelConfig(run_ids=[run_id]))
            _, summary = prepare(store, ExportConfig(kind="prm", run_ids=[run_id]))
            result["prm"] = summary.prm.to_dict()
            result["prm_dropped"] = summary.dropped
            messages = run_tables.messages(store, run_id)
            result["truncated_share"] = float((messages["finish_reason"] == "length").mean())
    return result


def show(r: dict) -> None:
    low, high = r["interval"]
    print(f"{r['level']:>8} {r['method']:>6}: {r['accuracy']:6.1%} [{low:.1%}, {high:.1%}] on {r['problems']} "
          f"problems, {r['seconds']:.0f} s", flush=True)
    if "prm" in r:
        p = r["prm"]
        share = p["rows_with_negative"] / p["rows"] if p["rows"] else 0.0
        print(f"{'':>16}PRM export: {p['rows']} rows, {p['rows_with_negative']} with a negative step ({share:.0%}), "
              f"{p['steps']} steps, {p['positives']} positive, {p['negatives']} negative; dropped {r['prm_dropped']}; "
              f"{r['truncated_share']:.0%} of messages cut off at the token limit", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", nargs="+", default=["onestep", "easy", "medium", "hard"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--home", default=None, help="AGENTARK_HOME to run in (default: a new temporary folder)")
    parser.add_argument("--out", default="builtin_levels.jsonl", help="append one JSON line per measurement")
    parser.add_argument("--model", default=None, help="the model every agent is (default: the embedded model)")
    args = smoke.parse(parser, levels=["onestep"], limit=2, max_tokens=4, out=os.devnull, model=smoke.tiny_model)
    os.environ["AGENTARK_HOME"] = args.home or tempfile.mkdtemp(prefix="agentark-levels-")
    print(f"AGENTARK_HOME={os.environ['AGENTARK_HOME']}", flush=True)
    results: dict[tuple[str, str], dict] = {}
    for level in args.levels:
        for kind in args.methods:
            r = measure(level, kind, args)
            results[(level, kind)] = r
            show(r)
            with open(args.out, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(r) + "\n")
        single, debate = results.get((level, "single")), results.get((level, "debate"))
        if single and debate:
            ratio = f"{debate['accuracy'] / single['accuracy']:.2f}x" if single["accuracy"] else "undefined (0 right)"
            print(f"{level:>8}: debate / single accuracy = {ratio}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
