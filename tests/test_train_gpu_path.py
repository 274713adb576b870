"""The GPU path's pieces that a CPU can check: the FLOPs and peaks MFU is computed from, the dtype trainable weights
are loaded in under bf16/fp16, and what a trainer reports it actually ran with."""
from __future__ import annotations

import math

import pytest
import torch

from agentark.train.flops import (
    effective_seq_len,
    matmul_parameters,
    mfu,
    peak_bf16_flops,
    training_flops_per_token,
)
from agentark.train.runtime import Hardware, causal_lm, weights_dtype
from agentark.train.sft import SFTJobConfig
from tests.tinylm import tiny_llama  # noqa: F401


@pytest.mark.parametrize("name, peak", [
    ("NVIDIA H200", 989e12), ("NVIDIA H100 80GB HBM3", 989e12), ("NVIDIA H100 PCIe", 756e12),
    ("NVIDIA H100 NVL", 835e12), ("NVIDIA A100-SXM4-80GB", 312e12), ("NVIDIA L40S", 362e12), ("NVIDIA L4", 121e12),
    ("NVIDIA L40", None), ("NVIDIA GeForce RTX 4090", None), ("", None),
])
def test_peaks_by_device_name_and_none_for_an_unknown_device(name, peak):
    assert peak_bf16_flops(name) == peak


def test_flops_count_matmul_weights_once_and_not_the_embedding_lookup():
    from transformers import LlamaConfig, LlamaForCausalLM

    d, ff, layers, vocab = 32, 64, 2, 100
    for tied in (False, True):
        config = LlamaConfig(vocab_size=vocab, hidden_size=d, intermediate_size=ff, num_hidden_layers=layers,
                             num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=tied)
        model = LlamaForCausalLM(config)
        # Per layer: q and o (d x d), k and v (d x d/2 with 2 of 4 heads), gate, up and down (d x ff).
        per_layer = 2 * d * d + 2 * d * (d // 2) + 3 * d * ff
        assert matmul_parameters(model.model) == layers * per_layer  # the embedding table is a lookup
        assert matmul_parameters(model) == layers * per_layer + vocab * d  # the head, once even when tied
    assert training_flops_per_token(1000, 2, 32, 10) == 6 * 1000 + 12 * 2 * 32 * 10
    assert effective_seq_len([10, 30]) == (100 + 900) / 40 and effective_seq_len([]) == 0.0
    assert mfu(2e9, 100.0, 1e12) == pytest.approx(0.2)
    assert math.isnan(mfu(2e9, 100.0, None)) and math.isnan(mfu(2e9, math.nan, 1e12))


def test_a_pad_step_under_bf16_moves_every_trainable_weight_the_project_loads(tiny_llama):
    # Why trainable weights stay float32 under bf16 autocast: one AdamW step at PAD's own learning rate moves
    # every weight causal_lm loads for a bf16 GPU job, while the same step on bf16 copies of them is lost.
    from agentark.train.pad import PADJobConfig

    lr = PADJobConfig.learning_rate  # the dataclass field's default
    model, _ = causal_lm(SFTJobConfig(export="unused.parquet", base_model=str(tiny_llama)), Hardware("cuda", "bf16", 1, True))
    weights = [p for p in model.parameters() if p.requires_grad]
    halves = [torch.nn.Parameter(p.detach().to(torch.bfloat16)) for p in weights]
    assert weights and len(weights) == len(halves)
    for params, moves in ((weights, True), (halves, False)):
        before = [p.detach().clone() for p in params]
        optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
        for p in params:
            p.grad = torch.ones_like(p)
        optimizer.step()
        changed = sum(int((p.detach() != b).sum()) for p, b in zip(params, before, strict=True))
        total = sum(p.numel() for p in params)
        # bf16 keeps a 1e-6 step only on weights within about 2.5e-4 of zero, a small share of them
        assert changed == total if moves else changed < total / 2, (moves, changed, total)


def test_trainable_weights_load_in_float32_under_half_precision_and_frozen_lora_bases_in_half(tiny_llama):
    assert weights_dtype("fp32", False) == torch.float32
    assert weights_dtype("bf16", False) == torch.float32 and weights_dtype("fp16", False) == torch.float32
    assert weights_dtype("bf16", True) == torch.bfloat16 and weights_dtype("fp16", True) == torch.float16
    # causal_lm reads only the precision off the hardware, so a GPU job's loading is checked here on the CPU.
    cfg = SFTJobConfig(export="unused.parquet", base_model=str(tiny_llama))
    model, _ = causal_lm(cfg, Hardware("cuda", "bf16", 1, True))
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    lora = SFTJobConfig(export="unused.parquet", base_model=str(tiny_llama), lora=True)
    model, _ = causal_lm(lora, Hardware("cuda", "bf16", 1, True))
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
