"""A debate against a served model: wall time with 32 requests in flight versus 1.

A local OpenAI-compatible server (tests/openai_server.py) answers every request after a fixed latency,
standing in for a model server's per-request time. The same debate (8 built-in problems x 3 agents x 2
rounds) runs twice in this process through the openai engine, once with --concurrency 32 and once with 1.
The last line prints the wall-time ratio (concurrency 1 over concurrency 32).
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import time

from agentark.backends.openai_engine import OpenAIEngine
from agentark.debate import DebateConfig, run_chunk
from agentark.tasks import load_problems
from bench import smoke
from tests.openai_server import OpenAIServer


def timed_debate(base_url: str, concurrency: int, cfg: DebateConfig, problems) -> tuple[float, int]:
    engine = OpenAIEngine("served-model", base_urls=[base_url], concurrency=concurrency)
    started = time.perf_counter()
    result = run_chunk(problems, cfg, "bench", engines={"default": engine})
    elapsed = time.perf_counter() - started
    failed = [m for m in result.messages if m["error"]]
    if failed:
        raise SystemExit(f"{len(failed)} requests failed: {failed[0]['error']}")
    return elapsed, len(result.messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the server waits per request")
    parser.add_argument("--concurrency", type=int, default=32)
    args = smoke.parse(parser, problems=2, agents=2, latency=0.02, concurrency=4)
    problems = load_problems("builtin:arithmetic", limit=args.problems).problems
    cfg = DebateConfig(method="debate", agents=args.agents, rounds=args.rounds, temperature=0.0,
                       chunk_size=args.problems, engine="openai", model="served-model")
    with OpenAIServer(latency_s=args.latency) as server:
        timed_debate(server.base_url, 4, DebateConfig(method="cot", engine="openai", model="m"), problems[:2])
        wide, n = timed_debate(server.base_url, args.concurrency, cfg, problems)
        peak = server.max_in_flight
        narrow, _ = timed_debate(server.base_url, 1, cfg, problems)
    print(f"{n} requests, {args.latency * 1000:.0f} ms per request at the server")
    print(f"concurrency {args.concurrency}: {wide:.2f} s (peak {peak} in flight)")
    print(f"concurrency 1:  {narrow:.2f} s")
    print(f"wall-time ratio concurrency 1 / concurrency {args.concurrency}: {narrow / wide:.1f}x")


if __name__ == "__main__":
    main()
