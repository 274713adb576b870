"""Local generation with transformers, on CUDA when there is one and on the CPU otherwise.

Batching is the point: requests with the same sampling settings are sorted by prompt length (less padding)
and generated together with left padding, ``max_batch_size`` at a time. Models loaded in this process are
kept, so several agents or engines on the same weights share one copy. An assistant prefix is rendered
as served engines render it (a final assistant message the chat template leaves open), so a local and a
served model continue the same prompt. Inside ``agentark.progress.watching`` it reports requests done after
every micro-batch and tokens within one, and stops between tokens when asked (``_watched``).

What prompts share is computed once (``agentark.backends.prefix_cache``): the key/value states of every
sequence the engine ran are kept (byte-bounded), and a prompt that begins with one of them starts from those
states; prompts of one batch that share a prefix have it computed once before the batch. In a debate that
skips most of round r's prompt (the agent's own round r-1 prompt and answer) and all but one copy of round
1's. A batch is laid out as [left padding | reused prefix | padding | rest of the prompt]: the attention mask
hides both paddings and positions are counted over unmasked tokens, so each row is computed as if alone.
"""
from __future__ import annotations

import time
from pathlib import Path

from agentark.backends.base import ChatRequest, Completion, continued_messages
from agentark.backends.prefix_cache import PrefixCache, shared_prefixes
from agentark.errors import ModelNotFoundError
from agentark.progress import BatchWatch, current_watch

_LOADED: dict[tuple[str, str], tuple[object, object]] = {}


def check_model(model: str) -> None:
    """Fail early, before a run is created, on a model folder that does not exist."""
    if not model or model.startswith("embedded:"):
        return
    from agentark.checkpoints import resolve

    path = Path(resolve(model)).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelNotFoundError(f"Model folder {path} has no config.json; point --model at a saved checkpoint folder.")
        return
    if model.startswith((".", "/", "~")) or model.endswith("/"):
        raise ModelNotFoundError(
            f"Model folder '{model}' does not exist. Pass an existing checkpoint folder, a model id in your "
            "Hugging Face cache, or leave --model out to use the embedded SmolLM2-135M."
        )


def resolve_model(model: str) -> tuple[str, bool]:
    """Return (what to pass to from_pretrained, is a local folder) for a model string.

    ``embedded:...`` (or empty) is the embedded model; a studio model id or an existing folder is a
    checkpoint; something that looks like a path but does not exist is an error; anything else is a hub id
    served from the cache.
    """
    from agentark.backends.embedded import ensure_embedded
    from agentark.checkpoints import resolve

    if not model or model.startswith("embedded:"):
        return str(ensure_embedded()), True
    check_model(model)
    # A model the studio trained is picked by its id, like any folder.
    model = resolve(model)
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve()), True
    return model, False


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        from agentark.errors import EngineError

        raise EngineError("device='cuda' was asked for but no GPU is visible; use device='auto' or 'cpu'.")
    return device


def load_model(model: str, device: str = "auto"):
    """Load (once per process) a causal LM and its tokenizer, ready for left-padded batches."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target, local = resolve_model(model)
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
        import torch

        results: list[Completion | None] = [None] * len(requests)
        prompts = [self._prompt_ids(r) for r in requests]
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault((r.max_tokens, r.temperature, r.top_p, r.seed), []).append(i)
        watch, done = current_watch(), 0
        for (max_tokens, temperature, top_p, seed), members in groups.items():
            members.sort(key=lambda i: len(prompts[i]))
            for start in range(0, len(members), self.max_batch_size):
                batch = members[start : start + self.max_batch_size]
                self._generate_batch(batch, prompts, results, max_tokens, temperature, top_p, seed, torch,
                                     _watched(watch, done, len(batch), len(requests), max_tokens))
                done += len(batch)
                if watch is not None:
                    watch.progress(done, len(requests))
        return results  # type: ignore[return-value]

    def _generate_batch(self, batch, prompts, results, max_tokens, temperature, top_p, seed, torch,
                        stopping=None) -> None:
        cache = self.prefix_cache
        if cache.enabled and len(batch) > 1:
            self._prefill_shared([prompts[i] for i in batch], torch)
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
        if head:
            kwargs["past_key_values"] = self._reused_states(reuse, head, torch)
        if self.ignore_eos:
            kwargs["min_new_tokens"] = max_tokens
        if temperature and temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stopping is not None:
            stopping.watch.check()  # a stop asked for since the last micro-batch
            stopping.width = width
            kwargs["stopping_criteria"] = [stopping]
        started = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids.to(self.model.device), attention_mask=attention.to(self.model.device), **kwargs
            )
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

    def _reused_states(self, reuse, head: int, torch):
        """A cache of ``head`` columns holding each row's reused prefix right-aligned (zeros where masked)."""
        from transformers import DynamicCache

        layers = []
        template = next(entry for n, entry in reuse if n).layers
        for layer, (k0, v0) in enumerate(template):
            shape = (len(reuse), k0.shape[0], head, k0.shape[-1])
            keys = torch.zeros(shape, dtype=k0.dtype, device=self.model.device)
            values = torch.zeros(shape, dtype=v0.dtype, device=self.model.device)
            for row, (n, entry) in enumerate(reuse):
                if n:
                    k, v = entry.layers[layer]
                    keys[row, :, head - n :] = k[:, :n]
                    values[row, :, head - n :] = v[:, :n]
            layers.append((keys, values))
        self.prefix_cache.hits += sum(1 for n, _ in reuse if n)
        self.prefix_cache.reused_tokens += sum(n for n, _ in reuse)
        return DynamicCache(ddp_cache_data=layers, config=self.model.config)

    def _keep(self, past, row: int, columns, tokens: list[int], torch) -> None:
        index = columns.to(self.model.device)
        layers = [(layer.keys[row].index_select(1, index), layer.values[row].index_select(1, index))
                  for layer in past.layers]
        self.prefix_cache.add(tokens, layers)

    def _prefill_shared(self, prompts: list[list[int]], torch) -> None:
        """Compute once each prefix that several prompts of a batch share (and the cache lacks), and keep it."""
        todo = [p for p in shared_prefixes(prompts) if self.prefix_cache.longest(p, leave=0)[0] < len(p)]
        if not todo:
            return
        pad = self.tokenizer.pad_token_id
        width = max(len(p) for p in todo)
        input_ids = torch.full((len(todo), width), pad, dtype=torch.long)
        attention = torch.zeros((len(todo), width), dtype=torch.long)
        for row, ids in enumerate(todo):
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention[row, width - len(ids) :] = 1
        positions = (attention.cumsum(-1) - 1).clamp(min=0)
        with torch.inference_mode():
            out = self.model(input_ids=input_ids.to(self.model.device), attention_mask=attention.to(self.model.device),
                             position_ids=positions.to(self.model.device), use_cache=True, logits_to_keep=1)
        for row, ids in enumerate(todo):
            self._keep(out.past_key_values, row, torch.arange(width - len(ids), width), ids, torch)

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos]) if eos is not None else set()
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def describe(self) -> dict:
        return {"engine": self.name, "model": self.model_id, "device": self.device,
                "revision": getattr(self.model.config, "_commit_hash", None)}


def _watched(watch: BatchWatch | None, done: int, rows: int, total: int, max_tokens: int):
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
