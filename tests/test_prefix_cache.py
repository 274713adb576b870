"""Reusing what prompts share: the prefix store's rules, and an engine that reuses gives the same tokens."""
from __future__ import annotations

import torch

from agentark.backends.base import ChatRequest
from agentark.backends.prefix_cache import MIN_REUSE, PrefixCache, common_prefix
from tests.tinylm import tiny_llama  # noqa: F401

import numpy as np


def states(n: int, heads: int = 2, dim: int = 4, layers: int = 2, fill: float = 1.0):
    return [(torch.full((heads, n, dim), fill), torch.full((heads, n, dim), fill)) for _ in range(layers)]


def test_longest_prefix_leaves_a_token_and_skips_short_ones():
    cache = PrefixCache(10 * 2**20)
    base = list(range(100, 140))
    cache.add(base, states(len(base)))
    assert cache.longest(base + [1, 2])[0] == 40
    assert cache.longest(base)[0] == 39  # a prompt must keep one token to run
    assert cache.longest(base, leave=0)[0] == 40
    assert cache.longest(base[:10] + [7] * 30)[0] == 0  # 10 shared tokens are under MIN_REUSE
    assert cache.longest([5] + base)[0] == 0
    assert common_prefix(np.array([1, 2, 3]), np.array([1, 2, 4])) == 2


def test_budget_forgets_the_least_recently_used():
    one = sum(k.nelement() * 4 * 2 for k, _ in states(20))
    cache = PrefixCache(2 * one)
    a, b, c = ([i] * 20 for i in (1, 2, 3))
    cache.add(a, states(20))
    cache.add(b, states(20))
    assert cache.longest(a + [0])[0] == 20  # a is used, so b is now the oldest
    cache.add(c, states(20))
    assert cache.longest(b + [0])[0] == 0 and cache.longest(a + [0])[0] == 20 and cache.nbytes <= 2 * one
    assert PrefixCache(0).enabled is False


def test_reuse_gives_the_tokens_a_whole_prompt_gives(tiny_llama):
    """A debate's shapes: identical round-1 prompts, then prompts that extend each agent's own answer."""
    from agentark.backends.transformers_engine import TransformersEngine

    plain = TransformersEngine(str(tiny_llama), prefix_cache_mb=0, max_batch_size=8)
    reusing = TransformersEngine(str(tiny_llama), prefix_cache_mb=64, max_batch_size=8)
    question = "Solve the following math problem. Reason step by step. Problem: Tom has 12 apples and gives away 5."
    first = [ChatRequest([{"role": "user", "content": question}], max_tokens=12, temperature=0.0)] * 3
    a, b = plain.generate(first), reusing.generate(first)
    assert [c.text for c in a] == [c.text for c in b]
    assert reusing.prefix_cache.hits >= 1  # three identical greedy prompts: computed once, from the kept prompt
    second = [ChatRequest([{"role": "user", "content": question}, {"role": "assistant", "content": c.text},
                           {"role": "user", "content": f"Other agents said {k} and {k + 1}. Check your steps."}],
                          max_tokens=12, temperature=0.0) for k, c in enumerate(b)]
    hits = reusing.prefix_cache.hits
    assert [c.text for c in plain.generate(second)] == [c.text for c in reusing.generate(second)]
    assert reusing.prefix_cache.hits - hits == 3 and reusing.prefix_cache.reused_tokens > 3 * MIN_REUSE


def test_states_built_on_reused_ones_equal_states_computed_whole(tiny_llama):
    """Every layer's keys and values of a round-2 sequence, built on reused round-1 states in a padded batch,
    equal those of one plain forward pass over the same tokens: positions and masks are right."""
    from agentark.backends.transformers_engine import TransformersEngine

    engine = TransformersEngine(str(tiny_llama), prefix_cache_mb=64, max_batch_size=8)
    questions = ["Tom has 12 apples and gives away 5. How many are left?", "What is 3 + 4? Add them."]
    first = [ChatRequest([{"role": "user", "content": f"Solve step by step. Problem: {q}"}], max_tokens=10,
                         temperature=0.0) for q in questions for _ in range(2)]
    replies = engine.generate(first)
    second = [ChatRequest(r.messages + [{"role": "assistant", "content": c.text},
                                        {"role": "user", "content": "Other agents said 7" + " and 7" * k}],
                          max_tokens=10, temperature=0.0) for k, (r, c) in enumerate(zip(first, replies))]
    before = engine.prefix_cache.reused_tokens
    engine.generate(second)
    assert engine.prefix_cache.reused_tokens > before
    latest = list(engine.prefix_cache.entries.values())[-len(second):]
    for entry in latest:
        ids = torch.tensor(entry.tokens, dtype=torch.long)[None]
        with torch.inference_mode():
            whole = engine.model(input_ids=ids, use_cache=True).past_key_values
        for layer, (keys, values) in zip(whole.layers, entry.layers, strict=True):
            assert torch.allclose(layer.keys[0], keys, atol=1e-4) and torch.allclose(layer.values[0], values, atol=1e-4)


def test_engine_tokens_equal_plain_generate(tiny_llama):
    """Prompts of different lengths in one padded batch, decoded into buffers filled in place, give exactly the
    tokens transformers' own generate gives each prompt alone."""
    from agentark.backends.transformers_engine import TransformersEngine

    engine = TransformersEngine(str(tiny_llama), prefix_cache_mb=0, max_batch_size=8)
    texts = ["Tom has 12 apples.", "What is 3 + 4? Add the two numbers and say the answer.", "Hi"]
    requests = [ChatRequest([{"role": "user", "content": t}], max_tokens=9, temperature=0.0) for t in texts]
    got = engine.generate(requests)
    for request, completion in zip(requests, got, strict=True):
        ids = torch.tensor([engine._prompt_ids(request)])
        with torch.inference_mode():
            out = engine.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=9,
                                        do_sample=False, pad_token_id=engine.tokenizer.pad_token_id)
        new = out[0, ids.shape[1]:].tolist()
        eos = engine._eos_ids()
        cut = next((k + 1 for k, t in enumerate(new) if t in eos), len(new))
        assert completion.text == engine.tokenizer.decode(new[:cut], skip_special_tokens=True).strip()


def test_identical_greedy_requests_are_computed_once(tiny_llama, monkeypatch):
    from agentark.backends.transformers_engine import TransformersEngine

    engine = TransformersEngine(str(tiny_llama), prefix_cache_mb=64, max_batch_size=8)
    rows = []
    original = engine._generate_batch
    monkeypatch.setattr(engine, "_generate_batch", lambda batch, *a, **k: (rows.append(len(batch)), original(batch, *a, **k)))
    same = ChatRequest([{"role": "user", "content": "What is 3 + 4?"}], max_tokens=6, temperature=0.0)
    other = ChatRequest([{"role": "user", "content": "What is 5 + 4?"}], max_tokens=6, temperature=0.0)
    out = engine.generate([same, other, same, same])
    assert rows == [2] and out[0].text == out[2].text == out[3].text and out[0] is not out[2]
    rows.clear()
    sampled = ChatRequest(same.messages, max_tokens=6, temperature=0.9, seed=1)
    engine.generate([sampled] * 3)
    assert rows == [3]  # sampled requests each draw their own
    rows.clear()
    plain = TransformersEngine(str(tiny_llama), prefix_cache_mb=0, max_batch_size=8)
    monkeypatch.setattr(plain, "_generate_batch", lambda batch, *a, **k: rows.append(len(batch)))
    plain.generate([same, same])
    assert rows == [2]  # without reuse every request is computed, as one request at a time would


def test_draws_follow_the_tempered_distribution_and_the_seed():
    """The engine's sampler: frequencies over 20,000 draws match softmax(logits / T) within 1.5 points, the
    nucleus drops what top_p cuts, impossible tokens are never drawn, and a seed repeats the draws."""
    from agentark.backends.transformers_engine import _draw

    logits = torch.tensor([[2.0, 1.0, 0.0, float("-inf"), -1.0]]).repeat(20000, 1)
    torch.manual_seed(3)
    picked = _draw(0.7, 1.0)(None, logits).argmax(-1)
    frequency = torch.bincount(picked, minlength=5).float() / len(picked)
    assert torch.allclose(frequency, (logits[0] / 0.7).softmax(-1), atol=0.015) and frequency[3] == 0
    torch.manual_seed(3)
    assert torch.equal(_draw(0.7, 1.0)(None, logits).argmax(-1), picked)
    nucleus = _draw(1.0, 0.7)(None, logits).argmax(-1)
    assert set(nucleus.tolist()) == {0, 1}  # p = .64, .24, .09, 0, .03: the top two reach 0.7


def test_sampled_generation_repeats_with_its_seed(tiny_llama):
    from agentark.backends.transformers_engine import TransformersEngine

    engine = TransformersEngine(str(tiny_llama), prefix_cache_mb=0, max_batch_size=8)
    ask = lambda seed: engine.generate([ChatRequest([{"role": "user", "content": "Count: 1 2 3"}], max_tokens=12,
                                                    temperature=1.0, seed=seed)] * 3)
    first = [c.text for c in ask(5)]
    assert first == [c.text for c in ask(5)] and len(set(first)) > 1  # rows of one batch draw apart


def test_a_batch_prefills_each_prompt_once_without_padding(tiny_llama):
    """Prompts that share a long beginning: each row computes only what no earlier row computed, one row at a
    time, and the batch itself then decodes from the last prompt token (no padded prefill)."""
    from agentark.backends.transformers_engine import TransformersEngine

    engine = TransformersEngine(str(tiny_llama), prefix_cache_mb=64, max_batch_size=8)
    base = "Other agents solved the same problem. Their latest solutions: agent one said seven, agent two said"
    requests = [ChatRequest([{"role": "user", "content": base + tail}], max_tokens=4, temperature=0.0)
                for tail in (" eight.", " nine, then ten and eleven.", " seven as well, after checking.")]
    prompts = sorted(engine._prompt_ids(r) for r in requests)
    expected, earlier = 0, []
    for ids in prompts:
        reuse = max((common_prefix(np.array(ids[:-1]), np.array(e)) for e in earlier), default=0)
        expected += len(ids) - 1 - (reuse if reuse >= MIN_REUSE else 0)
        earlier.append(ids[:-1])
    shapes = []
    forward = engine.model.forward
    engine.model.forward = lambda *a, **k: (shapes.append(tuple(k["input_ids"].shape)), forward(*a, **k))[1]
    try:
        engine.generate(requests)
    finally:
        del engine.model.forward
    rows = [s for s in shapes if s[0] == 1]
    assert sum(n for _, n in rows) == expected < sum(len(p) - 1 for p in prompts)
    assert all(s == (3, 1) for s in shapes if s[0] == 3)
