"""Local generation with transformers, on CUDA when there is one and on the CPU otherwise.

Batching is the point: requests with the same sampling settings are sorted by prompt length (less padding)
and generated together with left padding, ``max_batch_size`` at a time. Models loaded in this process are
kept, so several agents or engines on the same weights share one copy. An assistant prefix is rendered
as served engines render it (a final assistant message the chat template leaves open), so a local and a
served model continue the same prompt. Inside ``agentark.progress.watching`` it reports requests done after
every micro-batch and tokens within one, and stops between tokens when asked (``_watched``).

What prompts share is computed once (``agentark.backends.prefix_cache``): the key/value states of every
sequence the engine ran are kept (byte-bounded), and each prompt of a batch is prefilled on its own, starting
from the longest kept prefix, before the batch decodes together. In a debate that skips most of round r's prompt
(the agent's own round r-1 prompt and answer), all but one copy of round 1's, and what the agents of one problem
share in round r. Identical greedy requests are computed once. A batch is laid out as [left padding | reused
prefix | padding | rest of the prompt]: the attention mask hides both paddings and positions are counted over
unmasked tokens, so each row is computed as if alone. Keys and values decode into buffers allocated once per
batch (``reserved_layer``), and sampled tokens are drawn by ``_draw``.
"""
from __future__ import annotations

import functools
import time

from agentark.backends.base import ChatRequest, Completion, continued_messages
from agentark.backends.prefix_cache import MIN_REUSE, PrefixCache
from agentark.errors import ModelNotFoundError
from agentark.progress import BatchWatch, current_watch

_LOADED: dict[tuple[str, str], tuple[object, object]] = {}


def check_model(model: str) -> None:
    """Fail early, before a run is created, on a model that cannot be loaded (``locate_model``); the embedded
    model is converted only when it is loaded."""
    if not model or model.startswith("embedded:"):
        return
    from agentark.checkpoints import locate_model

    locate_model(model)


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        from agentark.errors import EngineError

        raise EngineError("device='cuda' was asked for but no GPU is visible; use device='auto' or 'cpu'.")
    return device


# glibc's mallopt parameters (malloc.h): M_TRIM_THRESHOLD, M_MMAP_THRESHOLD.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_HEAP_TUNED = False


def keep_freed_memory_for_reuse() -> bool:
    """Let glibc keep freed tensor memory in the heap for the next step instead of handing it back to the OS.

    Why: generation allocates and frees tensors of megabytes at every step (activations, the states of
    prompts prefilled and kept). By default glibc serves blocks that large with fresh mmap pages and unmaps
    them on free, so each step page-faults them in again; a debate's second round decoded at 350 ms/step
    instead of 212 before decoding filled buffers in place (measured, 2 cores). Since then the batched debate
    measured the same with or without it, but the app's first run was 56.0-59.5 s with it and 61.9-65.6 s
    without (noisy, unproven either way), so it stays. Kept in the heap, the same pages serve the next step. Costs:
    up to 1 GiB of freed memory stays with the process. Returns False where there is no glibc (nothing done).
    """
    global _HEAP_TUNED
    if _HEAP_TUNED:
        return True
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    _HEAP_TUNED = bool(mallopt(_M_MMAP_THRESHOLD, 256 * 2**20)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**30))
    return _HEAP_TUNED


def load_model(model: str, device: str = "auto"):
    """Load (once per process) a causal LM and its tokenizer, ready for left-padded batches."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agentark.checkpoints import locate_model

    target, local = locate_model(model)
    device = pick_device(device)
    key = (target, device)
    if key in _LOADED:
        return _LOADED[key]
    # fp32 is faster than bf16 on CPUs without bf16 units; GPUs want bf16.
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(target)
        lm = AutoModelForCausalLM.from_pretrained(target, dtype=dtype)
    except OSError as exc:
        raise ModelNotFoundError(
            f"Cannot load model '{model}': {exc}. Pass a local checkpoint folder, download the model into your "
            "Hugging Face cache first, or leave --model out to use the embedded model."
        ) from exc
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    lm.to(device).eval()
    if device == "cpu":
        keep_freed_memory_for_reuse()
    _LOADED[key] = (lm, tokenizer)
    return lm, tokenizer


class TransformersEngine:
    """Batched generation with a local transformers causal LM."""

    name = "transformers"

    def __init__(
        self,
        model: str = "embedded:smollm2-135m",
        device: str = "auto",
        max_batch_size: int | None = None,
        ignore_eos: bool = False,
        prefix_cache_mb: int | None = None,
    ) -> None:
        """``ignore_eos`` makes every completion exactly ``max_tokens`` long (for benchmarks); ``prefix_cache_mb``
        bounds the kept key/value states (0: compute every prompt whole, as one request at a time would)."""
        self.model_id = model or "embedded:smollm2-135m"
        self.ignore_eos = ignore_eos
        self.model, self.tokenizer = load_model(self.model_id, device)
        self.device = str(self.model.device)
        self.max_batch_size = max_batch_size or (64 if self.device.startswith("cuda") else 16)
        budget_mb = prefix_cache_mb if prefix_cache_mb is not None else (4096 if self.device.startswith("cuda") else 1024)
        self.prefix_cache = PrefixCache(budget_mb * 2**20)

    def _prompt_ids(self, request: ChatRequest) -> list[int]:
        continuing = bool(request.assistant_prefix)
        if getattr(self.tokenizer, "chat_template", None):
            ids = self.tokenizer.apply_chat_template(
                continued_messages(request), add_generation_prompt=not continuing,
                continue_final_message=continuing, tokenize=True,
            )
            if isinstance(ids, dict) or hasattr(ids, "keys"):
                ids = ids["input_ids"]
            return list(ids)
        text = "\n\n".join(f"{m['role']}: {m['content']}" for m in request.messages) + "\n\nassistant:"
        if continuing:
            text += " " + request.assistant_prefix
        return self.tokenizer(text)["input_ids"]

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        import dataclasses

        import torch

        results: list[Completion | None] = [None] * len(requests)
        prompts = [self._prompt_ids(r) for r in requests]
        # Greedy decoding gives one answer per prompt, so identical greedy requests are computed once (a greedy
        # debate's agents all ask round 1's prompt); sampled requests each draw their own. Like the prefix cache,
        # this is reuse: an engine built without it (prefix_cache_mb=0) computes every request.
        first: dict[tuple, int] = {}
        copies: dict[int, int] = {}
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            if not r.temperature and self.prefix_cache.enabled:
                original = first.setdefault((tuple(prompts[i]), r.max_tokens), i)
                if original != i:
                    copies[i] = original
                    continue
            groups.setdefault((r.max_tokens, r.temperature, r.top_p, r.seed), []).append(i)
        watch, done = current_watch(), 0
        # Progress counts requests, copies included: each computed one stands for ``scale`` of them.
        scale = len(requests) / max(len(requests) - len(copies), 1)
        for (max_tokens, temperature, top_p, seed), members in groups.items():
            members.sort(key=lambda i: len(prompts[i]))
            for start in range(0, len(members), self.max_batch_size):
                batch = members[start : start + self.max_batch_size]
                self._generate_batch(batch, prompts, results, max_tokens, temperature, top_p, seed, torch,
                                     _watched(watch, done * scale, len(batch) * scale, len(requests), max_tokens))
                done += len(batch)
                if watch is not None:
                    watch.progress(min(done * scale, len(requests)), len(requests))
        for i, original in copies.items():
            results[i] = dataclasses.replace(results[original])
        return results  # type: ignore[return-value]

    def _generate_batch(self, batch, prompts, results, max_tokens, temperature, top_p, seed, torch,
                        stopping=None) -> None:
        cache = self.prefix_cache
        prefilled = self._prefill_rows([prompts[i] for i in batch], torch) if cache.enabled else []
        reuse = [cache.longest(prompts[i]) if cache.enabled else (0, None) for i in batch]
        pad = self.tokenizer.pad_token_id
        head = max(n for n, _ in reuse)  # the reused prefixes' columns
        tail = max(len(prompts[i]) - n for i, (n, _) in zip(batch, reuse))
        width = head + tail
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (i, (n, _)) in enumerate(zip(batch, reuse)):
            ids = prompts[i]
            input_ids[row, head - n : head] = torch.tensor(ids[:n], dtype=torch.long)
            attention[row, head - n : head] = 1
            input_ids[row, width - (len(ids) - n) :] = torch.tensor(ids[n:], dtype=torch.long)
            attention[row, width - (len(ids) - n) :] = 1
        if seed is not None:
            torch.manual_seed(seed)
        kwargs = dict(max_new_tokens=max_tokens, pad_token_id=pad, return_dict_in_generate=True)
        kwargs["past_key_values"] = self._reused_states(reuse, head, width + max_tokens, torch)
        if self.ignore_eos:
            kwargs["min_new_tokens"] = max_tokens
        # Sampling is drawn by ``_draw`` and handed to generate as a one-token choice, so generate itself runs
        # greedy either way.
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if temperature and temperature > 0:
            kwargs["logits_processor"] = [_draw(temperature, top_p)]
        if stopping is not None:
            stopping.watch.check()  # a stop asked for since the last micro-batch
            stopping.width = width
            kwargs["stopping_criteria"] = [stopping]
        started = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids.to(self.model.device), attention_mask=attention.to(self.model.device), **kwargs
            )
        # Each prompt's own states are a prefix of what generation just computed, kept below: drop them first.
        cache.discard(prefilled)
        if stopping is not None and stopping.watch.stop_requested():
            stopping.watch.check()  # cut short: hand back nothing of it
        latency = (time.perf_counter() - started) * 1000
        sequences = out.sequences
        steps = sequences.shape[1] - width
        eos_ids = self._eos_ids()
        for row, i in enumerate(batch):
            new = sequences[row, width:].tolist()
            n, ended = len(new), False
            for k, tok in enumerate(new):
                if tok in eos_ids and not self.ignore_eos:
                    n, ended = k + 1, True
                    break
            results[i] = Completion(
                text=self.tokenizer.decode(new[:n], skip_special_tokens=True).strip(),
                prompt_tokens=len(prompts[i]),
                completion_tokens=n,
                latency_ms=latency,
                model=self.model_id,
                finish_reason="stop" if ended or n < max_tokens else "length",
            )
            if cache.enabled:
                # The states cover the prompt and the generated tokens fed back in (all but the last step's).
                kept = min(n, steps - 1)
                columns = torch.cat([attention[row].nonzero().flatten(), torch.arange(width, width + kept)])
                self._keep(out.past_key_values, row, columns, prompts[i] + new[:kept], torch)

    def _reused_states(self, reuse, head: int, capacity: int, torch):
        """A cache with room for ``capacity`` columns whose first ``head`` hold each row's reused prefix
        right-aligned (zeros where masked); the rest fills in place as the batch runs (``reserved_layer``)."""
        from transformers import DynamicCache

        cache = DynamicCache(config=self.model.config)
        template = next((entry for n, entry in reuse if n), None)
        layers = []
        for layer in range(self.model.config.num_hidden_layers):
            reserved = reserved_layer()(capacity)
            if template is not None:
                k0, v0 = template.layers[layer]
                reserved.reserve(len(reuse), k0.shape[0], k0.shape[-1], k0.shape[-1], k0.dtype, self.model.device)
                for row, (n, entry) in enumerate(reuse):
                    if n:
                        k, v = entry.layers[layer]
                        reserved.key_buffer[row, :, head - n : head] = k[:, :n]
                        reserved.value_buffer[row, :, head - n : head] = v[:, :n]
                reserved.filled(head)
            layers.append(reserved)
        cache.layers = layers
        self.prefix_cache.hits += sum(1 for n, _ in reuse if n)
        self.prefix_cache.reused_tokens += sum(n for n, _ in reuse)
        return cache

    def _keep(self, past, row: int, columns, tokens: list[int], torch) -> None:
        index = columns.to(self.model.device)
        layers = [(layer.keys[row].index_select(1, index), layer.values[row].index_select(1, index))
                  for layer in past.layers]
        self.prefix_cache.add(tokens, layers)

    def _prefill_rows(self, prompts: list[list[int]], torch) -> list[int]:
        """Compute and keep, one prompt at a time, the states of each prompt but its last token, each starting
        from the longest prefix the cache holds; return the cache keys added.

        Why one at a time: prefill is compute-bound on a CPU, so a padded batch buys nothing and pays for every
        row's padding up to the longest tail (a debate's round 2 lost about a third to it). Row by row, each
        prompt computes only what no earlier prompt (of this batch or a previous one) already computed: the
        second and third agent of a problem start from the first one's states, as far as their prompts agree.
        """
        from transformers import DynamicCache

        added = []
        for ids in sorted(prompts):
            n, entry = self.prefix_cache.longest(ids, leave=1)
            if n >= len(ids) - 1 or len(ids) - 1 < MIN_REUSE:
                continue
            past = None
            if n:
                past = DynamicCache(ddp_cache_data=[(k[None, :, :n], v[None, :, :n]) for k, v in entry.layers],
                                    config=self.model.config)
            todo = torch.tensor([ids[n : len(ids) - 1]], dtype=torch.long, device=self.model.device)
            positions = torch.arange(n, len(ids) - 1, device=self.model.device)[None]
            with torch.inference_mode():
                out = self.model(input_ids=todo, position_ids=positions, past_key_values=past, use_cache=True,
                                 logits_to_keep=1)
            layers = [(layer.keys[0], layer.values[0]) for layer in out.past_key_values.layers]
            key = self.prefix_cache.add(ids[:-1], layers)
            if key is not None:
                added.append(key)
        return added

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos]) if eos is not None else set()
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def describe(self) -> dict:
        return {"engine": self.name, "model": self.model_id, "device": self.device,
                "revision": getattr(self.model.config, "_commit_hash", None)}


@functools.cache
def reserved_layer():
    """The ``ReservedLayer`` class, defined on first use so that importing this module does not import
    transformers."""
    from transformers.cache_utils import DynamicLayer

    class ReservedLayer(DynamicLayer):
        """A layer's keys and values in buffers allocated once for the whole generation, filled in place.

        Why: the stock layer concatenates the whole cache into new tensors at every step, copying (at batch 24
        and 450 columns) about 460 MB per step on the CPU, a fifth of a decoding step. Here a step writes one
        column; ``keys``/``values`` are views of the filled part, so everything that reads them is unchanged.
        ``capacity`` is the prompt's width plus the new tokens, all that generate can write.
        """

        def __init__(self, capacity: int) -> None:
            super().__init__()
            self.capacity, self.length = capacity, 0

        def reserve(self, batch: int, heads: int, key_dim: int, value_dim: int, dtype, device) -> None:
            import torch

            self.key_buffer = torch.zeros((batch, heads, self.capacity, key_dim), dtype=dtype, device=device)
            self.value_buffer = torch.zeros((batch, heads, self.capacity, value_dim), dtype=dtype, device=device)
            self.dtype, self.device, self.is_initialized = dtype, device, True
            self.filled(0)

        def filled(self, length: int) -> None:
            """The first ``length`` columns hold states: expose them as ``keys``/``values``."""
            self.length = length
            self.keys, self.values = self.key_buffer[:, :, :length], self.value_buffer[:, :, :length]

        def lazy_initialization(self, key_states, value_states) -> None:
            batch, heads, _, key_dim = key_states.shape
            self.reserve(batch, heads, key_dim, value_states.shape[-1], key_states.dtype, key_states.device)

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            end = self.length + key_states.shape[-2]
            if end > self.capacity:
                raise RuntimeError(f"ReservedLayer holds {self.capacity} columns; {end} were written. The capacity "
                                   "must cover the prompt's width plus max_new_tokens.")
            self.key_buffer[:, :, self.length : end] = key_states
            self.value_buffer[:, :, self.length : end] = value_states
            self.filled(end)
            return self.keys, self.values

    return ReservedLayer


def _draw(temperature: float, top_p: float | None):
    """A logits processor that samples each row's next token (temperature, then nucleus when ``top_p`` < 1)
    and leaves only that token possible, for generate's greedy choice to take.

    Why not generate's own sampling: it draws with ``torch.multinomial`` over the whole vocabulary, 13 ms a
    step at batch 12 on a CPU (7% of a debate's time, measured); inverting the cumulative distribution with one
    uniform draw per row gives the same distribution for a fraction of that. Draws follow torch's global seed.
    """
    import torch
    from transformers import LogitsProcessor
    from transformers.generation.logits_process import TopPLogitsWarper

    nucleus = TopPLogitsWarper(top_p=top_p) if top_p is not None and top_p < 1.0 else None

    class Draw(LogitsProcessor):
        def __call__(self, input_ids, scores):
            scores = scores.float() / temperature
            if nucleus is not None:
                scores = nucleus(input_ids, scores)
            cdf = scores.softmax(dim=-1).cumsum(dim=-1)
            point = torch.rand((scores.shape[0], 1), device=scores.device) * cdf[:, -1:]
            token = torch.searchsorted(cdf, point, right=True).clamp(max=scores.shape[-1] - 1)
            chosen = torch.full_like(scores, float("-inf"))
            return chosen.scatter_(1, token, 0.0)

    return Draw()


def _watched(watch: BatchWatch | None, done: float, rows: float, total: int, max_tokens: int):
    """A stopping criterion that reports a micro-batch's tokens to ``watch`` and ends it when a stop is asked
    for; None without a watch (the engine then runs exactly as before)."""
    if watch is None:
        return None
    from transformers import StoppingCriteria

    class Watched(StoppingCriteria):
        def __init__(self) -> None:
            self.watch, self.width = watch, 0

        def __call__(self, input_ids, scores, **kwargs):
            import torch

            generated = min(max(input_ids.shape[1] - self.width, 0), max_tokens)
            watch.progress(done + rows * generated / max(max_tokens, 1), total)
            return torch.full((input_ids.shape[0],), watch.stop_requested(), dtype=torch.bool, device=input_ids.device)

    return Watched()
