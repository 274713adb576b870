"""The embedded model's load times (cold GGUF conversion, warm cache) and greedy tokens/s at batch 1 and 8.

Numbers for the README; the cold conversion runs into a temporary model cache so the real one is untouched.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os
import tempfile
import time


def main() -> None:
    from agentark.backends import transformers_engine as te
    from agentark.backends.base import ChatRequest
    from agentark.embedded import ensure_embedded

    with tempfile.TemporaryDirectory() as cache:
        previous = os.environ.get("AGENTARK_MODEL_CACHE")
        os.environ["AGENTARK_MODEL_CACHE"] = cache
        started = time.perf_counter()
        ensure_embedded()
        cold = time.perf_counter() - started
        started = time.perf_counter()
        te.load_model("embedded:smollm2-135m", "cpu")
        warm = time.perf_counter() - started
        te._LOADED.clear()
        if previous is None:
            del os.environ["AGENTARK_MODEL_CACHE"]
        else:
            os.environ["AGENTARK_MODEL_CACHE"] = previous
    engine = te.TransformersEngine(ignore_eos=True)
    request = ChatRequest([{"role": "user", "content": "Count from one to fifty in words."}], max_tokens=64)
    engine.generate([request])
    rates = {}
    for batch in (1, 8):
        started = time.perf_counter()
        out = engine.generate([request] * batch)
        rates[batch] = sum(c.completion_tokens for c in out) / (time.perf_counter() - started)
    print(f"cold conversion (GGUF -> safetensors): {cold:.1f} s")
    print(f"warm load from cache: {warm:.1f} s")
    print(f"greedy tok/s: batch 1 = {rates[1]:.1f}, batch 8 = {rates[8]:.1f} (total)")
    print(f"batch 8 / batch 1 throughput ratio: {rates[8] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
