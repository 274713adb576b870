"""bench/gpu_check.py --dry-run: the GPU check's code path (PRM, SFT and PAD jobs through the job framework) runs
on the CPU with the tiny model, and every figure it prints is present and sane."""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

NUMBER = r"([0-9][0-9,]*\.?[0-9]*(?:e[-+]?[0-9]+)?)"
PEAK_TFLOPS = 0.001  # a made-up CPU "peak", so the dry run computes MFU like a known GPU


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.mark.slow
def test_dry_run_prints_sane_figures_for_every_kind(tmp_path):
    out = tmp_path / "figures.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "bench/gpu_check.py", "--dry-run", "--workdir", str(tmp_path / "work"),
                           "--json", str(out), "--peak-tflops", str(PEAK_TFLOPS)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    text = proc.stdout
    assert proc.returncode == 0, text[-4000:] + proc.stderr[-4000:]
    # The jobs lived in the work folder, not in the test's (or the developer's) studio home.
    assert (tmp_path / "work" / "home" / "jobs").is_dir()
    figures = json.loads(out.read_text())
    assert figures["info"]["peak_bf16_flops"] == PEAK_TFLOPS * 1e12
    for kind in ("prm", "sft", "pad"):
        line = re.search(rf"^\[{kind}\] steps (\d+), step time {NUMBER} s, tokens/s {NUMBER}, model TFLOP/s {NUMBER}, "
                         rf"MFU {NUMBER}%, peak memory {NUMBER} MB$", text, re.M)
        assert line, f"no figures line for {kind}:\n{text}"
        steps, step_time, tokens_per_s, tflops, mfu_pct, memory = (_number(g) for g in line.groups())
        assert steps == 3 and step_time > 0 and tokens_per_s > 0 and tflops > 0 and mfu_pct > 0 and memory > 0
        f = figures["kinds"][kind]
        for name in ("step_time_s", "tokens_per_s", "model_tflops", "mfu", "peak_memory_mb", "flops_per_token",
                     "seq_len", "loss"):
            assert isinstance(f[name], float) and math.isfinite(f[name]) and f[name] > 0, (kind, name, f[name])
        # MFU is the model FLOP/s over the peak, and the printed figures are the recorded ones.
        assert math.isclose(f["mfu"], f["model_tflops"] / PEAK_TFLOPS, rel_tol=1e-9)
        assert math.isclose(f["model_tflops"] * 1e12, f["flops_per_token"] * f["tokens_per_s"], rel_tol=1e-9)
        assert abs(step_time - f["step_time_s"]) <= 0.0006 and abs(mfu_pct - f["mfu"] * 100) <= 0.06
        # What ran, read off the trainer: fp32 on the CPU (bf16 needs a GPU), checkpointing on, weights float32.
        assert f["applied"] == {"mixed_precision": "no", "trainable_dtype": "float32", "gradient_checkpointing": True}
        assert re.search(rf"^\[{kind}\] bf16 off \(autocast no, trainable weights float32\), gradient checkpointing on",
                         text, re.M)
    # A step cannot process more tokens than its batch holds: catches a tokens/s or step-time unit slip.
    for kind in ("prm", "sft"):
        f = figures["kinds"][kind]
        assert f["seq_len"] <= 64 and f["tokens_per_s"] * f["step_time_s"] <= 2 * 64 * 1.05
    pad = figures["kinds"]["pad"]
    split = re.search(rf"^\[pad\] step split: generation {NUMBER} s, rewards {NUMBER} s, training {NUMBER} s", text,
                      re.M)
    assert split, text
    generation, rewards, training = (_number(g) for g in split.groups())
    assert generation > 0 and rewards > 0 and training > 0
    assert math.isclose(pad["generation_time_s"] + pad["reward_time_s"] + pad["training_time_s"], pad["step_time_s"])
    # 4 completions of at most 12 tokens plus their prompts; the same FLOPs over the training part alone run faster
    # than over the whole step.
    assert 0 < pad["completion_mean_length"] <= 12 and pad["tokens_per_step"] > 4 * pad["completion_mean_length"]
    assert pad["training_model_tflops"] > pad["model_tflops"] and 0 < pad["training_mfu"] < math.inf
