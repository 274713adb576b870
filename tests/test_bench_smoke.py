"""Every benchmark runs in the suite at a tiny size (``--smoke``: bench/smoke.py), so a change to the library that
breaks one (a schema migration, a renamed function) fails here instead of at the next measurement.

Each script runs as a user runs it, ``python bench/NAME.py --smoke``, in its own process; it must exit 0 and print
the line its figures end in (the ratio it exists to measure). A new script in bench/ must be listed here.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.browser import chromium_path
from tests.conftest import ROOT

BROWSER = (pytest.mark.browser, pytest.mark.slow)
SLOW = (pytest.mark.slow,)
# script -> (the line its run ends in, its marks)
SCRIPTS = {
    "app_overhead.py": (r"app open [\d.]+ s / app closed [\d.]+ s = [\d.]+x", BROWSER),
    "builtin_levels.py": (r"onestep: debate / single accuracy = ([\d.]+x|undefined)", ()),
    "debate_batching.py": (r"batched \+ shared prefixes / one at a time: [\d.]+x wall, [\d.]+x CPU", ()),
    "distill_lift.py": (r"lift \(student - base\) [-+][\d.]+%  paired 95% CI", SLOW),
    "embedded_model.py": (r"batch 8 / batch 1 throughput ratio: [\d.]+", ()),
    "eval_throughput.py": (r"batched/one-at-a-time throughput ratio: [\d.]+", ()),
    "first_run.py": (r"first run: app [\d.]+ s / CLI [\d.]+ s = [\d.]+x", BROWSER),
    "import_scale.py": (r"du2023 / transcripts CPU seconds for the same volume: [\d.]+x", ()),
    "job_concurrency.py": (r"together [\d.]+ s, ratio [\d.]+x", SLOW),
    "label_latency.py": (r"ratio floor/card \(driver's view, p95\): quiet [\d.]+x, busy [\d.]+x", BROWSER),
    "mc_labeling.py": (r"batched/sequential throughput ratio: [\d.]+", ()),
    "prm_scoring.py": (r"ratio \(per-prefix time / one-pass time\): [\d.]+x", ()),
    "slurm_overhead.py": (r"submit -> first progress: slurm ([\d.]+ s|absent), local [\d.]+ s; last shard -> store: "
                          r"slurm ([\d.]+ s|absent), local [\d.]+ s", SLOW),
    "served_concurrency.py": (r"wall-time ratio concurrency 1 / concurrency \d+: [\d.]+x", ()),
    "team_load.py": (r"labels sent vs stored: card \d+ sent, \d+ stored; CLI \d+ sent, \d+ stored; lost 0, extra 0, "
                     r"doubled 0", BROWSER),
    "store_scale.py": (r"p95 list [\d.]+ ms vs JSONL \d+ ms = \d+x; p95 dashboard", ()),
}
# What needs a CUDA machine runs its CPU path elsewhere, or not at all here.
NOT_HERE = {
    "gpu_check.py": "its --smoke is its CPU --dry-run, which tests/test_gpu_check.py runs and checks figure by figure",
    "gpu_run.sh": "it installs wheels into .venv-gpu and runs gpu_check.py on a CUDA machine; its Python part is "
                  "gpu_check.py",
}
HELPERS = {"smoke.py"}  # imported by the scripts, not run


def benchmarks() -> list[str]:
    return sorted(p.name for p in (ROOT / "bench").iterdir() if p.suffix in (".py", ".sh") and p.name not in HELPERS)


def test_every_benchmark_is_run_here_or_says_why_not():
    assert set(benchmarks()) == set(SCRIPTS) | set(NOT_HERE)
    gpu_test = (ROOT / "tests" / "test_gpu_check.py").read_text()
    assert '"bench/gpu_check.py", "--dry-run"' in gpu_test
    assert '"--dry-run", "--smoke"' in (ROOT / "bench" / "gpu_check.py").read_text()


@pytest.mark.parametrize("script", [pytest.param(name, marks=marks) for name, (_, marks) in sorted(SCRIPTS.items())])
def test_benchmark_runs_at_a_tiny_size(script):
    line, marks = SCRIPTS[script]
    if pytest.mark.browser in marks and chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install Debian's chromium package.")
        pytest.skip("No Chromium at /usr/bin/chromium: install it with `apt-get install chromium`.")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, f"bench/{script}", "--smoke"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert re.search(line, out), f"bench/{script} --smoke did not print its ratio line /{line}/:\n{out[-3000:]}"
