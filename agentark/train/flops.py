"""Model FLOPs utilisation (MFU) of training: the FLOPs a model needs per token, the device's peak, their ratio.

Design decision: MFU counts the model's FLOPs, not the hardware's (PaLM, Chowdhery et al. 2022, appendix B):
6 FLOPs per matmul weight per token (forward 2, backward 4) plus 12 x layers x attention width x sequence
length for the attention scores and their weighted sum, counted as if every position attended to every
other (the convention, although causal kernels skip half). Recomputation under gradient checkpointing is
not counted, so checkpointing lowers MFU by the forward it repeats. Matmul weights are read off the model's
linear layers, so an input embedding table (a lookup, no FLOPs) never counts and a tied head counts once.
Peaks are dense bf16 tensor-core figures from the vendors' data sheets (no sparsity); an unknown device
has no peak, and MFU then is not a number rather than a guess.
"""
from __future__ import annotations

import math
import re

# (pattern on torch.cuda.get_device_name, dense bf16 FLOP/s); the first match wins, so variants come first.
PEAK_BF16: tuple[tuple[str, float], ...] = (
    (r"\bH200\b", 989e12),
    (r"\bH100\b.*\bPCIe\b", 756e12),
    (r"\bH100\b.*\bNVL\b", 835e12),
    (r"\bH100\b", 989e12),  # SXM: "NVIDIA H100 80GB HBM3"
    (r"\bA100\b", 312e12),
    (r"\bL40S\b", 362e12),
    (r"\bL4\b", 121e12),
)


def peak_bf16_flops(device_name: str) -> float | None:
    """Dense bf16 peak FLOP/s of a GPU by its name (``torch.cuda.get_device_name``), or None when unknown."""
    for pattern, peak in PEAK_BF16:
        if re.search(pattern, device_name):
            return peak
    return None


def matmul_parameters(module) -> int:
    """Weights of the module's linear layers: what a token multiplies through (embedding lookups excluded)."""
    import torch

    seen: set[int] = set()
    total = 0
    for sub in module.modules():
        if isinstance(sub, torch.nn.Linear) and id(sub.weight) not in seen:
            seen.add(id(sub.weight))
            total += sub.weight.numel()
    return total


def training_flops_per_token(matmul_params: int, layers: int, attention_width: int, seq_len: float) -> float:
    """Forward and backward FLOPs per token: 6 per matmul weight plus 12 x layers x width x sequence length."""
    return 6.0 * matmul_params + 12.0 * layers * attention_width * seq_len


def effective_seq_len(lengths: list[int]) -> float:
    """The sequence length that gives a batch's attention FLOPs per token: sum of squares over sum."""
    total = sum(lengths)
    return sum(n * n for n in lengths) / total if total else 0.0


def mfu(flops_per_token: float, tokens_per_s: float, peak_flops: float | None) -> float:
    """Achieved model FLOP/s over the peak; NaN when the peak is unknown or nothing was measured."""
    if not peak_flops or peak_flops <= 0 or not tokens_per_s > 0 or not math.isfinite(tokens_per_s):
        return math.nan
    return flops_per_token * tokens_per_s / peak_flops
