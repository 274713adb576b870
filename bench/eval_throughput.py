"""Single-agent evaluation, batched versus one problem at a time, on the embedded model.

The same held-out evaluation (``cot``: the model as one agent, greedy, --problems built-in problems, every
completion exactly --new-tokens long) runs twice through the studio's evaluation path (``create_eval_run``
then the run job, in this process, in a scratch AGENTARK_HOME): once with the engine generating every
problem of a chunk in one batch, once with batch size 1. The last line prints the throughput ratio
(problems per second, batched over one at a time); per-problem latency p50 is printed for both, as the
store records it (the wall time of the engine call that served the problem).
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import tempfile
import time

from agentark.config import EMBEDDED_MODEL
from bench import smoke


def evaluate(engine, problems: int, new_tokens: int, model: str) -> tuple[float, float, float]:
    """(seconds, accuracy, latency p50 per problem) of one evaluation run served by ``engine``."""
    from agentark.evaluate.eval_config import EvalConfig
    from agentark.evaluate.metrics import run_metrics
    from agentark.evaluate.run import create_eval_run
    from agentark.debate.debate_job import run_debate_job
    from agentark.store import Store

    cfg = EvalConfig(model=model, limit=problems, max_tokens=new_tokens, chunk_size=problems)
    with Store() as store:
        run_id, _, _ = create_eval_run(store, cfg)
    started = time.perf_counter()
    run_debate_job(run_id, engines={"default": engine})
    elapsed = time.perf_counter() - started
    with Store() as store:
        store.refresh()
        (m,) = run_metrics(store, [run_id])
    return elapsed, m.accuracy, m.latency_p50_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--model", default=EMBEDDED_MODEL)
    args = smoke.parse(parser, problems=2, new_tokens=4, model=smoke.tiny_model)
    os.environ["AGENTARK_HOME"] = tempfile.mkdtemp(prefix="agentark-bench-")
    from agentark.backends.transformers_engine import TransformersEngine

    batched = TransformersEngine(args.model, max_batch_size=args.problems, ignore_eos=True)
    one = TransformersEngine(args.model, max_batch_size=1, ignore_eos=True)
    evaluate(batched, 2, 4, args.model)  # warm-up: load weights, first kernels
    b_time, b_acc, b_p50 = evaluate(batched, args.problems, args.new_tokens, args.model)
    s_time, s_acc, s_p50 = evaluate(one, args.problems, args.new_tokens, args.model)
    n = args.problems
    print(f"batched:      {n} problems in {b_time:.1f} s = {n / b_time:.2f} problems/s "
          f"(accuracy {b_acc:.2f}, latency p50 {b_p50:.2f} s per problem)")
    print(f"one at a time: {n} problems in {s_time:.1f} s = {n / s_time:.2f} problems/s "
          f"(accuracy {s_acc:.2f}, latency p50 {s_p50:.2f} s per problem)")
    print(f"batched/one-at-a-time throughput ratio: {s_time / b_time:.2f}")


if __name__ == "__main__":
    main()
