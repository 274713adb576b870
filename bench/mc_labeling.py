"""Monte-Carlo step labeling batched across all step prefixes versus one prefix at a time, on the embedded model.

8 built-in hard problems x their first 4 reference steps = 32 step prefixes, k=4 rollouts each, every
rollout exactly --new-tokens long. Batched: one engine call per round of rollouts with all 32 prefixes
(what ``agentark.labels.montecarlo`` does). Sequential: the same rollouts one prefix at a time, k calls per prefix.
The last line prints the throughput ratio (rollout tokens per second, batched over sequential).
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import re
import time

from agentark.backends.transformers_engine import TransformersEngine
from agentark.config import EMBEDDED_MODEL
from agentark.labels.montecarlo import MCConfig, rollouts
from agentark.tasks import load_problems
from bench import smoke


def targets(n_problems: int, n_steps: int) -> list[dict]:
    out = []
    for p in load_problems("builtin:arithmetic-hard", limit=n_problems).problems:
        lines = [re.sub(r"<<[^<>]*>>", "", line) for line in p.meta["solution"].splitlines()[:n_steps]]
        for i in range(len(lines)):
            out.append({"step_id": f"{p.problem_id}:{i}", "question": p.question,
                        "reference_answer": p.reference_answer, "prefix": "\n".join(lines[: i + 1]) + "\n"})
    return out


def main() -> None:
    args = smoke.parse(smoke.sized(__doc__, problems=(8, 2), steps=(4, 2), k=(4, 2), new_tokens=(24, 4),
                                   model=(EMBEDDED_MODEL, smoke.tiny_model)))
    todo = targets(args.problems, args.steps)
    cfg = MCConfig(k=args.k, max_tokens=args.new_tokens, temperature=0.7)
    batched = TransformersEngine(args.model, max_batch_size=len(todo), ignore_eos=True)
    sequential = TransformersEngine(args.model, max_batch_size=1, ignore_eos=True)
    rollouts(batched, todo[:2], MCConfig(k=1, max_tokens=2))  # warm-up
    tokens = len(todo) * args.k * args.new_tokens
    started = time.perf_counter()
    rollouts(batched, todo, cfg)
    b_time = time.perf_counter() - started
    started = time.perf_counter()
    for t in todo:
        rollouts(sequential, [t], cfg)
    s_time = time.perf_counter() - started
    print(f"{len(todo)} step prefixes x k={args.k} rollouts x {args.new_tokens} tokens = {tokens} tokens")
    print(f"batched across prefixes: {b_time:.1f} s = {tokens / b_time:.1f} tok/s ({args.k} engine calls)")
    print(f"one prefix at a time:    {s_time:.1f} s = {tokens / s_time:.1f} tok/s ({len(todo) * args.k} engine calls)")
    print(f"batched/sequential throughput ratio: {s_time / b_time:.2f}")


if __name__ == "__main__":
    main()
