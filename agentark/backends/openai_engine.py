"""A client for any server that speaks the OpenAI chat-completions API (vLLM, SGLang, llama.cpp, hosted APIs).

Design decision: a batch is served by a thread pool of ``concurrency`` workers, each sending one blocking
HTTP request at a time, spread round-robin over the given base URLs. Servers such as vLLM batch
concurrent requests themselves, so keeping many requests in flight is what makes a debate round fast;
no async runtime is needed. A request that still fails after its retries comes back as a
``Completion`` with ``error`` set, which the scheduler stores as a failed message (never an empty answer).
The API key is read from an environment variable on every engine build and is never put in the engine's
options, its description, the run's config or any error message. A request with an assistant prefix is
sent the way vLLM and SGLang continue a reply: the prefix as a final assistant message, with
``continue_final_message: true`` and ``add_generation_prompt: false``; the server returns only the
continuation.
"""
from __future__ import annotations

import itertools
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from agentark.backends.base import ChatRequest, Completion, continued_messages, spread_seeds
from agentark.errors import EngineError

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
DEFAULT_KEY_ENV = "OPENAI_API_KEY"


def normalize_base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise EngineError(f"Base URL '{url}' must start with http:// or https://, e.g. http://127.0.0.1:8000/v1.")
    return url


@dataclass(frozen=True)
class ServerOptions:
    """The engine's settings, checked when made (so a run can be refused before it starts).

    ``api_key_env`` names the variable holding the key; when it is named explicitly it must be set, while the
    default ``OPENAI_API_KEY`` may be absent (local servers usually need no key).
    """

    model: str
    base_urls: list[str] | str | None = None
    api_key_env: str | None = None
    concurrency: int = 16
    timeout_s: float = 120.0
    max_retries: int = 3
    backoff_s: float = 0.5

    def __post_init__(self) -> None:
        if not self.model:
            raise EngineError("The openai engine needs --model NAME: the model name the server serves.")
        if not self.urls():
            raise EngineError(
                "The openai engine needs at least one --base-url, e.g. http://127.0.0.1:8000/v1 for `vllm serve`."
            )
        if int(self.concurrency) < 1:
            raise EngineError(f"concurrency must be at least 1 (got {self.concurrency}); use --concurrency 1 or more.")
        if int(self.max_retries) < 0 or float(self.timeout_s) <= 0 or float(self.backoff_s) < 0:
            raise EngineError("max_retries and backoff_s must be 0 or more, and timeout_s above 0 (--timeout).")
        if self.api_key_env and not os.environ.get(self.api_key_env):
            raise EngineError(
                f"The API key variable {self.api_key_env} is not set. Export it (export {self.api_key_env}=...) "
                "before starting the run; the key is read from the environment only and never stored."
            )

    def urls(self) -> list[str]:
        """The base URLs, normalized (one may be given as a plain string)."""
        urls = [self.base_urls] if isinstance(self.base_urls, str) else list(self.base_urls or [])
        return [normalize_base_url(u) for u in urls]


def check_options(model: str, **options: Any) -> None:
    """Validate the engine's settings (the keyword arguments of :class:`ServerOptions`) without building it."""
    ServerOptions(model, **options)


class OpenAIEngine:
    """Chat completions over HTTP with a concurrency limit, retries with backoff and usage-based token counts."""

    name = "openai"

    def __init__(self, model: str, **options: Any) -> None:
        """``options`` are :class:`ServerOptions`' settings, checked the same way as before a run starts."""
        import requests  # imported here so that choosing another engine never pays for it

        settings = ServerOptions(model, **options)
        self.model_id = model
        self.base_urls = settings.urls()
        self.concurrency = int(settings.concurrency)
        self.timeout_s = float(settings.timeout_s)
        self.max_retries = int(settings.max_retries)
        self.backoff_s = float(settings.backoff_s)
        self.api_key_env = settings.api_key_env or DEFAULT_KEY_ENV
        key = os.environ.get(self.api_key_env)
        self._headers = {"Content-Type": "application/json"}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._requests = requests
        self._local = threading.local()
        self._next_url = itertools.cycle(range(len(self.base_urls)))
        self._url_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._requests.Session()
            # One pooled connection per worker thread and replica; more would only sit idle.
            adapter = self._requests.adapters.HTTPAdapter(pool_connections=len(self.base_urls), pool_maxsize=2)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def _pick_url(self) -> str:
        with self._url_lock:
            return self.base_urls[next(self._next_url)]

    def _payload(self, request: ChatRequest) -> dict:
        payload = {
            "model": self.model_id,
            "messages": continued_messages(request),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.assistant_prefix:
            payload.update(continue_final_message=True, add_generation_prompt=False)
        if request.seed is not None:
            payload["seed"] = request.seed
        return payload

    def _one(self, request: ChatRequest) -> Completion:
        started = time.perf_counter()
        payload = self._payload(request)
        last_error = "no attempt made"
        for attempt in range(self.max_retries + 1):
            if attempt:
                # Exponential backoff with jitter, so replicas are not hit by synchronized retry waves.
                time.sleep(self.backoff_s * (2 ** (attempt - 1)) * (0.5 + random.random()))
            url = self._pick_url()
            try:
                response = self._session().post(
                    f"{url}/chat/completions", json=payload, headers=self._headers, timeout=self.timeout_s
                )
            except self._requests.Timeout:
                last_error = f"timed out after {self.timeout_s:g} s at {url}"
                continue
            except self._requests.ConnectionError as exc:
                last_error = f"cannot connect to {url}: {type(exc).__name__}"
                continue
            if response.status_code in (401, 403):
                return self._failed(
                    started,
                    f"HTTP {response.status_code} from {url}: the server refused the API key. Put a valid key "
                    f"in the environment variable {self.api_key_env} (or name another with api_key_env).",
                )
            if response.status_code in RETRY_STATUS:
                last_error = f"HTTP {response.status_code} from {url}: {response.text[:200]}"
                continue
            if response.status_code != 200:
                hint = ""
                if response.status_code in (400, 422) and request.assistant_prefix:
                    hint = (" The request continues an assistant prefix (continue_final_message), which this "
                            "server may not support; serve the model with vLLM or SGLang.")
                return self._failed(started, f"HTTP {response.status_code} from {url}: {response.text[:200]}{hint}")
            try:
                return self._parse(response.json(), started)
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                last_error = f"malformed response from {url}: {type(exc).__name__}: {exc}"
                continue
        return self._failed(started, f"{last_error} (after {self.max_retries + 1} attempts)")

    def _parse(self, body: dict, started: float) -> Completion:
        choice = body["choices"][0]
        text = choice["message"]["content"]
        if not isinstance(text, str):
            raise TypeError("choices[0].message.content is not a string")
        usage = body.get("usage") or {}
        reason = choice.get("finish_reason")
        return Completion(
            text=text.strip(),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            latency_ms=(time.perf_counter() - started) * 1000,
            model=self.model_id,
            # Servers also say "eos", "content_filter" or "tool_calls"; only running out of tokens is "length".
            finish_reason="length" if reason == "length" else "stop",
            meta={"finish_reason": reason},
        )

    def _failed(self, started: float, error: str) -> Completion:
        return Completion(text="", latency_ms=(time.perf_counter() - started) * 1000, model=self.model_id, error=error)

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        if not requests:
            return []
        if self._pool is None:
            # One long-lived pool: its threads keep their HTTP sessions (and connections) across rounds.
            self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="openai")
        return list(self._pool.map(self._one, spread_seeds(requests)))

    def describe(self) -> dict:
        return {"engine": self.name, "model": self.model_id, "base_urls": self.base_urls,
                "concurrency": self.concurrency, "revision": None}
