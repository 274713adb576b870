"""PRM scoring: one batched forward pass per trajectory versus one forward pass per step prefix.

Trajectories are the built-in dataset's reference solutions (one step per line). A PRM is trained for a few
steps on them from the embedded model (or --base), then both ways score the same trajectories: batched
one-pass scoring (``PRMScorer.score``, what the studio uses) and the per-prefix baseline
(``PRMScorer.score_prefixes``: question + steps 1..k, read at the last token, one pass each). The two must
agree to float precision; the ratio of their times is expected to reach at least the mean number of steps
per trajectory (batching adds more on top). Where a GPU is present the PRM trainer's model FLOPs
utilisation (MFU) is measured too; without one the benchmark says so.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import random
import re
import statistics
import tempfile
import time

from agentark.config import EMBEDDED_MODEL
from agentark.tasks import load_problems
from agentark.train.flops import mfu, peak_bf16_flops
from agentark.train.prm import PRMConfig, train_prm
from agentark.train.prm_scoring import load_prm
from bench import smoke

def trajectories(dataset: str, n: int) -> list[tuple[str, list[str]]]:
    items = []
    for p in load_problems(dataset, limit=n).problems:
        steps = [re.sub(r"<<[^<>]*>>", "", line).strip() for line in p.meta["solution"].splitlines()]
        items.append((p.question, [s for s in steps if s]))
    return items


def write_training_file(items: list[tuple[str, list[str]]], path: Path, seed: int = 0) -> Path:
    """Stepwise rows whose bad steps carry a wrong result: enough signal for a few steps of training."""
    rng = random.Random(seed)
    rows = []
    for question, steps in items:
        labels = [rng.random() > 0.3 for _ in steps]
        texts = [s if ok else s + " (off by one)" for s, ok in zip(steps, labels)]
        rows.append({"prompt": question, "completions": texts, "labels": labels})
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def measure_mfu(data: Path, base: str, out: Path, steps: int, batch: int) -> None:
    import torch

    if not torch.cuda.is_available():
        print("MFU: no GPU found on this machine; run this benchmark on a CUDA machine to measure the PRM "
              "trainer's model FLOPs utilisation.")
        return
    name = torch.cuda.get_device_name(0)
    peak = peak_bf16_flops(name)
    rates: list[float] = []
    result = train_prm(PRMConfig(export=str(data), base_model=base, max_steps=steps, per_device_batch_size=batch,
                                 save_steps=10**6, learning_rate=1e-5),
                       out, on_metrics=lambda s, m: rates.append(m["tokens_per_s"]) if "tokens_per_s" in m else None)
    steady = statistics.median(rates[2:] or rates)
    print(f"PRM training on {name} ({result.hardware['precision']}, gradient checkpointing "
          f"{result.hardware['gradient_checkpointing']}): {result.total_parameters / 1e6:.1f}M parameters, "
          f"{steady:,.0f} tokens/s (median after warm-up), peak memory {result.peak_memory_mb:,.0f} MB")
    if peak is None:
        print(f"MFU: unknown peak FLOP/s for '{name}'; add it to agentark.train.flops.PEAK_BF16.")
        return
    print(f"MFU: {mfu(6 * result.total_parameters, steady, peak):.1%} "
          f"(6 x parameters x tokens/s over {peak / 1e12:.0f} TFLOP/s dense bf16)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="builtin:arithmetic-hard")
    parser.add_argument("--trajectories", type=int, default=24)
    parser.add_argument("--base", default=EMBEDDED_MODEL, help="the PRM's backbone")
    parser.add_argument("--prm", default=None, help="score with this trained PRM instead of training one")
    parser.add_argument("--batch-size", type=int, default=8, help="trajectories per forward pass")
    parser.add_argument("--mfu-steps", type=int, default=30)
    parser.add_argument("--mfu-batch", type=int, default=16)
    args = smoke.parse(parser, trajectories=3, batch_size=2, base=smoke.tiny_model, mfu_steps=2, mfu_batch=2)

    items = trajectories(args.dataset, args.trajectories)
    n_steps = [len(s) for _, s in items]
    with tempfile.TemporaryDirectory() as tmp:
        data = write_training_file(items, Path(tmp) / "train.jsonl")
        prm = args.prm
        if prm is None:
            started = time.perf_counter()
            prm = str(train_prm(PRMConfig(export=str(data), base_model=args.base, max_steps=2,
                                          per_device_batch_size=4), Path(tmp) / "prm").model_dir)
            print(f"trained a PRM for 2 steps from {args.base} in {time.perf_counter() - started:.1f} s")
        scorer = load_prm(prm, batch_size=args.batch_size)
        scorer.score(items[:2])  # warm-up
        started = time.perf_counter()
        fast = scorer.score(items)
        one_pass = time.perf_counter() - started
        started = time.perf_counter()
        slow = scorer.score_prefixes(items)
        per_prefix = time.perf_counter() - started
        diff = max(abs(a - b) for fa, sa in zip(fast, slow) for a, b in zip(fa, sa))
        mean_steps = statistics.mean(n_steps)
        print(f"{len(items)} trajectories from {args.dataset}, {sum(n_steps)} steps "
              f"(mean {mean_steps:.2f} per trajectory), device {scorer.device}")
        print(f"one pass per trajectory, batched by {args.batch_size}: {one_pass:.3f} s "
              f"({len(items)} trajectories, {-(-len(items) // args.batch_size)} forward passes)")
        print(f"one pass per step prefix: {per_prefix:.3f} s ({sum(n_steps)} forward passes)")
        print(f"largest difference between the two scorings: {diff:.2e}")
        measure_mfu(data, args.base, Path(tmp) / "mfu", args.mfu_steps, args.mfu_batch)
    print(f"ratio (per-prefix time / one-pass time): {per_prefix / one_pass:.2f}x "
          f"(expected >= mean steps per trajectory, {mean_steps:.2f})")


if __name__ == "__main__":
    main()
