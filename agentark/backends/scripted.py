"""A scripted engine: completions come from a Python function instead of a model.

Tests use it to check exactly who saw what, and background-job tests use it because a worker process can
rebuild it from the run's stored config: the model name is ``module:function`` of an importable function
that takes a ``ChatRequest`` and returns the reply text. It keeps the engine contract like the real
engines: a batch's requests reach the responder with distinct seeds, and a reply longer than
``max_tokens`` words is cut there with finish reason "length".
"""
from __future__ import annotations

import importlib
import re
import time
from typing import Callable

from agentark.backends.base import ChatRequest, Completion, spread_seeds
from agentark.errors import EngineError

Responder = Callable[[ChatRequest], str]
_WORD = re.compile(r"\S+")


def _resolve(target: str | Responder) -> Responder:
    if callable(target):
        return target
    module_name, _, func_name = str(target).partition(":")
    try:
        return getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise EngineError(
            f"Scripted engine needs a model of the form 'package.module:function'; cannot load '{target}': {exc}."
        ) from exc


class ScriptedEngine:
    """Replies with ``responder(request)``; ``delay_s`` sleeps once per batch to mimic a slow engine."""

    name = "scripted"

    def __init__(self, model: str | Responder, delay_s: float = 0.0) -> None:
        self.model_id = model if isinstance(model, str) else getattr(model, "__name__", "scripted")
        self._responder = _resolve(model)
        self._delay_s = delay_s
        self.calls: list[list[ChatRequest]] = []

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        start = time.perf_counter()
        requests = spread_seeds(requests)
        self.calls.append(list(requests))
        if self._delay_s:
            time.sleep(self._delay_s)
        texts = [self._responder(r) for r in requests]
        latency = (time.perf_counter() - start) * 1000
        return [self._completion(r, t, latency) for r, t in zip(requests, texts)]

    def _completion(self, request: ChatRequest, text: str, latency: float) -> Completion:
        words = list(_WORD.finditer(text))
        cut = len(words) > request.max_tokens
        if cut:
            text = text[: words[request.max_tokens - 1].end()]
        return Completion(
            text=text,
            prompt_tokens=sum(len(m["content"].split()) for m in request.messages),
            completion_tokens=min(len(words), request.max_tokens),
            latency_ms=latency,
            model=self.model_id,
            finish_reason="length" if cut else "stop",
        )

    def describe(self) -> dict:
        return {"engine": self.name, "model": self.model_id, "revision": None}
