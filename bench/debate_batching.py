"""Batched round scheduler versus one request at a time, on the embedded model.

The same debate (8 built-in problems x 3 agents x 2 rounds, greedy, every completion exactly
--new-tokens long) runs twice in this process: once with the engine batching every agent of every
problem of a round, once with batch size 1, the way the reference scripts call the model. The last line
prints the throughput ratio (completion tokens per second, batched over sequential).
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import time

from agentark.backends.transformers_engine import TransformersEngine
from agentark.debate import DebateConfig, run_chunk
from agentark.tasks import load_problems


def run(engine: TransformersEngine, cfg: DebateConfig, problems) -> tuple[float, int]:
    started = time.perf_counter()
    result = run_chunk(problems, cfg, "bench", engines={"default": engine})
    elapsed = time.perf_counter() - started
    return elapsed, sum(m["completion_tokens"] for m in result.messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--new-tokens", type=int, default=64)
    args = parser.parse_args()
    problems = load_problems("builtin:arithmetic", limit=args.problems).problems
    cfg = DebateConfig(method="debate", agents=args.agents, rounds=args.rounds, temperature=0.0,
                       max_tokens=args.new_tokens, chunk_size=args.problems)
    batched = TransformersEngine(max_batch_size=args.problems * args.agents, ignore_eos=True)
    sequential = TransformersEngine(max_batch_size=1, ignore_eos=True)
    run(batched, DebateConfig(method="cot", max_tokens=4, temperature=0.0), problems[:2])  # warm-up
    b_time, b_tokens = run(batched, cfg, problems)
    s_time, s_tokens = run(sequential, cfg, problems)
    print(f"batched:    {b_tokens} tokens in {b_time:.1f} s = {b_tokens / b_time:.1f} tok/s")
    print(f"sequential: {s_tokens} tokens in {s_time:.1f} s = {s_tokens / s_time:.1f} tok/s")
    print(f"batched/sequential throughput ratio: {(b_tokens / b_time) / (s_tokens / s_time):.2f}")


if __name__ == "__main__":
    main()
