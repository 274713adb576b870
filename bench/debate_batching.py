"""Batched round scheduler versus one request at a time, on the embedded model.

The same debate (8 built-in problems x 3 agents x 2 rounds, greedy, every completion exactly
--new-tokens long) runs three times in this process: with the engine as the studio uses it (every agent of
every problem of a round in one batch, and what prompts share computed once: see
agentark.backends.prefix_cache), with batching alone (no states kept between requests), and one request at a
time with nothing kept, the way the reference scripts call the model. The last line prints the throughput
ratio (completion tokens per second) of the studio's engine over one request at a time.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import time

from agentark.backends.transformers_engine import TransformersEngine
from agentark.debate import DebateConfig, run_chunk
from agentark.tasks import load_problems


def run(engine: TransformersEngine, cfg: DebateConfig, problems) -> tuple[float, int, list[str]]:
    started = time.perf_counter()
    result = run_chunk(problems, cfg, "bench", engines={"default": engine})
    elapsed = time.perf_counter() - started
    return elapsed, sum(m["completion_tokens"] for m in result.messages), [m["content"] for m in result.messages]


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
    studio = TransformersEngine(max_batch_size=args.problems * args.agents, ignore_eos=True)
    batched = TransformersEngine(max_batch_size=args.problems * args.agents, ignore_eos=True, prefix_cache_mb=0)
    sequential = TransformersEngine(max_batch_size=1, ignore_eos=True, prefix_cache_mb=0)
    run(batched, DebateConfig(method="cot", max_tokens=4, temperature=0.0), problems[:2])  # warm-up
    load = os.getloadavg()[0]
    r_time, r_tokens, r_texts = run(studio, cfg, problems)
    b_time, b_tokens, b_texts = run(batched, cfg, problems)
    s_time, s_tokens, _ = run(sequential, cfg, problems)
    same = sum(a == b for a, b in zip(r_texts, b_texts))
    print(f"load average at start {load:.1f}, at end {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    print(f"batched + shared prefixes: {r_tokens} tokens in {r_time:.1f} s = {r_tokens / r_time:.1f} tok/s "
          f"({studio.prefix_cache.reused_tokens} prompt tokens reused; {same}/{len(b_texts)} replies identical "
          "to batching alone)")
    print(f"batched alone:             {b_tokens} tokens in {b_time:.1f} s = {b_tokens / b_time:.1f} tok/s")
    print(f"one request at a time:     {s_tokens} tokens in {s_time:.1f} s = {s_tokens / s_time:.1f} tok/s")
    print(f"batched alone / one at a time: {(b_tokens / b_time) / (s_tokens / s_time):.2f}")
    print(f"studio engine (batched + shared prefixes) / one at a time: {(r_tokens / r_time) / (s_tokens / s_time):.2f}")


if __name__ == "__main__":
    main()
