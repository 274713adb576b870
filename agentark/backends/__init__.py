"""Generation engines behind one protocol, registered by name and imported only when chosen.

Importing this package costs nothing: torch, transformers, HTTP clients and vLLM are imported inside the
engine module that needs them, when ``create_engine`` first builds that engine. So the app and the CLI
start fast, and an engine whose package is missing fails only when it is picked, with the install step.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from agentark.jobs import machine
from agentark.backends.base import FINISH_REASONS, ChatRequest, Completion, Engine
from agentark.errors import EngineError

# name -> "module:Class"; the module is imported on first use only.
ENGINES: dict[str, str] = {
    "transformers": "agentark.backends.transformers_engine:TransformersEngine",
    "scripted": "agentark.backends.scripted:ScriptedEngine",
    "openai": "agentark.backends.openai_engine:OpenAIEngine",
    "vllm": "agentark.backends.vllm_engine:VLLMEngine",
}

# Where an engine computes, when not where its ``device`` option says (default auto): a served model computes
# elsewhere and needs no slot of this machine; vLLM needs a GPU.
ENGINE_DEVICES: dict[str, str] = {"openai": "none", "vllm": "cuda"}

# USD per million (prompt, completion) tokens by engine. An engine not listed runs on this machine and costs 0
# unless a price is set; ``openai`` talks to a hosted API by default, so it carries a small hosted model's list
# price (a self-hosted server sets its own, e.g. ``compare --price openai=0,0``).
ENGINE_PRICES: dict[str, tuple[float, float]] = {"openai": (0.15, 0.60)}


def engine_price(engine: str | None) -> tuple[float, float] | None:
    """The default token price of an engine (0 for local engines); None for an engine the studio does not know
    (an imported run from another tool), whose cost is unknown until a price is set."""
    if engine not in ENGINES:
        return None
    return ENGINE_PRICES.get(engine, (0.0, 0.0))


@dataclass(frozen=True)
class EngineSpec:
    """Which engine and model to use; plain data so it can be stored in a run's config."""

    engine: str = "transformers"
    model: str = "embedded:smollm2-135m"
    options: dict = field(default_factory=dict)

    def key(self) -> str:
        return f"{self.engine}|{self.model}"

    def devices(self) -> tuple[str, ...]:
        """The devices of this machine the engine computes on (none for a served model): the slots a job
        running it waits for."""
        where = ENGINE_DEVICES.get(self.engine, str(self.options.get("device", "auto")))
        return () if where == "none" else machine.devices(where)


_LIVE: dict[tuple, Engine] = {}


def register_engine(name: str, target: str, price: tuple[float, float] | None = None) -> None:
    """Add an engine under ``name``; ``target`` is ``"module:Class"``, imported lazily; ``price`` (USD per million
    prompt and completion tokens) when it is not a local engine."""
    ENGINES[name] = target
    if price is not None:
        ENGINE_PRICES[name] = price


def create_engine(spec: EngineSpec, reuse: bool = True) -> Engine:
    """Build (or reuse, within this process) the engine a spec names."""
    if spec.engine not in ENGINES:
        raise EngineError(
            f"Unknown engine '{spec.engine}'. Choose one of: {', '.join(sorted(ENGINES))}."
        )
    cache_key = (spec.engine, spec.model, tuple(sorted((k, repr(v)) for k, v in spec.options.items())))
    if reuse and cache_key in _LIVE:
        return _LIVE[cache_key]
    module_name, class_name = ENGINES[spec.engine].split(":")
    engine_cls = getattr(importlib.import_module(module_name), class_name)
    engine = engine_cls(spec.model, **spec.options)
    if reuse:
        _LIVE[cache_key] = engine
    return engine


__all__ = ["FINISH_REASONS", "ChatRequest", "Completion", "Engine", "EngineSpec", "ENGINES", "ENGINE_PRICES",
           "create_engine", "engine_price", "register_engine"]
