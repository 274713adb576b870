"""Batched round scheduler versus one request at a time, on the embedded model.

The same debate (8 built-in problems x 3 agents x 2 rounds, greedy, every completion exactly
--new-tokens long) runs three times in this process: with the engine as the studio uses it (every agent of
every problem of a round in one batch, what prompts share computed once and identical greedy requests
answered once: see agentark.backends.prefix_cache), with batching alone (nothing kept or shared between
requests), and one request at a time with nothing kept or shared, the way the reference scripts call the model. The last line prints the throughput
ratios (completion tokens per wall second, and per CPU second of this process) of batching alone and of the
studio's engine over one request at a time.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os
import time

import torch

from agentark.backends.transformers_engine import TransformersEngine
from agentark.config import EMBEDDED_MODEL
from bench import smoke
from agentark.debate import DebateConfig, run_chunk
from agentark.tasks import load_problems


def run(engine: TransformersEngine, cfg: DebateConfig, problems) -> tuple[float, float, int, list[str]]:
    """(wall seconds, this process's CPU seconds, completion tokens, the replies) of one debate."""
    started, cpu = time.perf_counter(), time.process_time()
    result = run_chunk(problems, cfg, "bench", engines={"default": engine})
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return elapsed, cpu, sum(m["completion_tokens"] for m in result.messages), [m["content"] for m in result.messages]


def main() -> None:
    args = smoke.parse(smoke.sized(__doc__, problems=(8, 2), agents=(3, 2), rounds=(2, 2), new_tokens=(64, 4),
                                   model=(EMBEDDED_MODEL, smoke.tiny_model)))
    problems = load_problems("builtin:arithmetic", limit=args.problems).problems
    cfg = DebateConfig(method="debate", agents=args.agents, rounds=args.rounds, temperature=0.0,
                       max_tokens=args.new_tokens, chunk_size=args.problems)
    studio = TransformersEngine(args.model, max_batch_size=args.problems * args.agents, ignore_eos=True)
    batched = TransformersEngine(args.model, max_batch_size=args.problems * args.agents, ignore_eos=True,
                                 prefix_cache_mb=0)
    sequential = TransformersEngine(args.model, max_batch_size=1, ignore_eos=True, prefix_cache_mb=0)
    run(batched, DebateConfig(method="cot", max_tokens=4, temperature=0.0), problems[:2])  # warm-up
    load = os.getloadavg()[0]
    arms = {}
    for name, engine in (("batched + shared prefixes", studio), ("batched alone", batched),
                         ("one request at a time", sequential)):
        arms[name] = run(engine, cfg, problems)
        wall, cpu, tokens, _ = arms[name]
        print(f"{name + ':':27s}{tokens} tokens in {wall:.1f} s = {tokens / wall:.1f} tok/s "
              f"({cpu:.1f} s of CPU = {tokens / cpu:.1f} tok/CPU-s)", flush=True)
    texts = [arms[name][3] for name in ("batched + shared prefixes", "batched alone")]
    same = sum(a == b for a, b in zip(*texts))
    print(f"{studio.prefix_cache.reused_tokens} prompt tokens reused; {same}/{len(texts[0])} replies identical to "
          f"batching alone; load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
          f"({os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads)")
    # CPU seconds count the work whatever else runs on the machine; wall seconds are what a user waits for.
    seq_wall, seq_cpu, seq_tokens, _ = arms["one request at a time"]
    for name in ("batched alone", "batched + shared prefixes"):
        wall, cpu, tokens, _ = arms[name]
        print(f"{name} / one at a time: {(tokens / wall) / (seq_tokens / seq_wall):.2f}x wall, "
              f"{(tokens / cpu) / (seq_tokens / seq_cpu):.2f}x CPU")


if __name__ == "__main__":
    main()
