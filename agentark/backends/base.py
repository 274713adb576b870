"""The one protocol every generation engine speaks: a batch of chat requests in, a batch of completions out.

Engines never see debates, problems or rounds; the scheduler turns those into requests. A completion that
failed carries ``error`` and empty text, so a failure is recorded as a failed message and never turns
silently into an empty answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

FINISH_REASONS = ("stop", "length", "error")


@dataclass
class ChatRequest:
    """One chat completion to produce; sampling settings travel with the request."""

    messages: list[dict[str, str]]
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    # The start of the assistant's reply: the engine continues it and returns only the continuation
    # (Monte-Carlo rollouts from a step prefix). None asks for a fresh reply.
    assistant_prefix: str | None = None


@dataclass
class Completion:
    """What an engine produced for one request.

    ``latency_ms`` is the wall time of the engine call that served the request: in a batched local
    engine every request of a batch shares it. ``finish_reason`` says why generation stopped: "stop" (the
    model ended its turn or hit a stop sequence), "length" (``max_tokens`` ran out) or "error" (the
    request failed; always so when ``error`` is set).
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    model: str = ""
    error: str | None = None
    meta: dict = field(default_factory=dict)
    finish_reason: str = "stop"

    def __post_init__(self) -> None:
        if self.error is not None:
            self.finish_reason = "error"
        if self.finish_reason not in FINISH_REASONS:
            raise ValueError(f"finish_reason must be one of {FINISH_REASONS} (got {self.finish_reason!r}).")

    @property
    def ok(self) -> bool:
        return self.error is None


def spread_seeds(requests: list[ChatRequest]) -> list[ChatRequest]:
    """The batch with distinct seeds: request i gets its seed + i (unseeded requests stay unseeded).

    Callers give a whole batch one seed; identical seeds on identical prompts (k samples, several agents)
    would make a seeded sampler return identical completions.
    """
    return [r if r.seed is None else replace(r, seed=r.seed + i) for i, r in enumerate(requests)]


def continued_messages(request: ChatRequest) -> list[dict[str, str]]:
    """The chat to render for a request: with an assistant prefix, the prefix is a final assistant message
    that the chat template must leave open (``continue_final_message``) instead of closing the turn."""
    if not request.assistant_prefix:
        return request.messages
    return [*request.messages, {"role": "assistant", "content": request.assistant_prefix}]


@runtime_checkable
class Engine(Protocol):
    """A generation engine. ``generate`` must return one completion per request, in order."""

    name: str
    model_id: str

    def generate(self, requests: list[ChatRequest]) -> list[Completion]: ...

    def describe(self) -> dict: ...
