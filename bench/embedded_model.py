"""The embedded model's load times (cold GGUF conversion, warm cache) and greedy tokens/s at batch 1 and 8.

Numbers for the README; the cold conversion runs into a temporary model cache so the real one is untouched.
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

from bench import smoke


def load_times(model: str) -> None:
    """Print the cold conversion (into a temporary model cache, so the real one is untouched) and the warm load
    from that cache; a model other than the embedded one has only its load timed."""
    from agentark.backends import transformers_engine as te
    from agentark.config import EMBEDDED_MODEL
    from agentark.embedded import ensure_embedded

    if model != EMBEDDED_MODEL:
        started = time.perf_counter()
        te.load_model(model, "cpu")
        print(f"load {model}: {time.perf_counter() - started:.1f} s")
        return
    with tempfile.TemporaryDirectory() as cache:
        previous = os.environ.get("AGENTARK_MODEL_CACHE")
        os.environ["AGENTARK_MODEL_CACHE"] = cache
        started = time.perf_counter()
        ensure_embedded()
        cold = time.perf_counter() - started
        started = time.perf_counter()
        te.load_model(EMBEDDED_MODEL, "cpu")
        warm = time.perf_counter() - started
        te._LOADED.clear()
        if previous is None:
            del os.environ["AGENTARK_MODEL_CACHE"]
        else:
            os.environ["AGENTARK_MODEL_CACHE"] = previous
    print(f"cold conversion (GGUF -> safetensors): {cold:.1f} s")
    print(f"warm load from cache: {warm:.1f} s")


def main() -> None:
    from agentark.backends import transformers_engine as te
    from agentark.backends.base import ChatRequest
    from agentark.config import EMBEDDED_MODEL

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=EMBEDDED_MODEL, help="a model to time instead (no cold conversion)")
    parser.add_argument("--max-tokens", type=int, default=64)
    args = smoke.parse(parser, model=smoke.tiny_model, max_tokens=4)
    load_times(args.model)
    engine = te.TransformersEngine(args.model, ignore_eos=True)
    request = ChatRequest([{"role": "user", "content": "Count from one to fifty in words."}], max_tokens=args.max_tokens)
    engine.generate([request])
    rates = {}
    for batch in (1, 8):
        started = time.perf_counter()
        out = engine.generate([request] * batch)
        rates[batch] = sum(c.completion_tokens for c in out) / (time.perf_counter() - started)
    print(f"greedy tok/s: batch 1 = {rates[1]:.1f}, batch 8 = {rates[8]:.1f} (total)")
    print(f"batch 8 / batch 1 throughput ratio: {rates[8] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
