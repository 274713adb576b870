"""What every config that generates text shares: engine, model, served-engine options and sampling settings.

Design decision: ``GenerationConfig`` is a base dataclass that the debate, evaluation and Monte-Carlo configs
extend, so its fields stay flat (``cfg.model``, ``cfg.engine_options``) and a stored config keeps the shape it
always had. Its fields carry their bounds, help and choices once; the CLI flags, the page widgets and the
validation are all derived from them (``agentark.options``). The served-engine options are the members of
``ServerOptions``, stored as the ``engine_options`` dict the engine is built with.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from agentark.backends import ENGINES, EngineSpec
from agentark.config import EMBEDDED_MODEL
from agentark.errors import ConfigError
from agentark.options import ConfigBase, check_bounds, options

SERVED_ENGINE = "openai"


@dataclass
class ServerOptions:
    """The options of a served engine (``--engine openai``); None leaves the engine's own default."""

    base_urls: list[str] = field(default_factory=list, metadata={
        "help": "OpenAI-compatible server, e.g. http://HOST:8000/v1 (several spread the load over replicas)",
        "flag": "--base-url", "repeat": True, "metavar": "URL"})
    concurrency: int = field(default=16, metadata={"help": "requests in flight at once (openai engine)",
                                                   "min": 1, "max": 1024})
    api_key_env: str | None = field(default=None, metadata={
        "help": "environment variable holding the API key (default OPENAI_API_KEY); the key itself is never stored"})
    timeout_s: float | None = field(default=None, metadata={
        "help": "seconds per request before a retry (openai engine, default 120)", "flag": "--timeout"})
    max_retries: int | None = field(default=None, metadata={
        "help": "retries on 429/5xx/timeouts (openai engine, default 3)", "min": 0})


def _served_only(values: dict, name: str) -> bool:
    return values.get("engine") == SERVED_ENGINE


@dataclass
class GenerationConfig(ConfigBase):
    """Which engine and model generate, and how they sample; extended by every config that generates."""

    engine: str = field(default="transformers", metadata={
        "help": "transformers: local model · openai: any OpenAI-compatible server · vllm: in-process (GPU) · "
                "scripted: a Python function (tests)", "choices": lambda: tuple(ENGINES)})
    model: str = field(default=EMBEDDED_MODEL, metadata={
        "help": "checkpoint folder, studio model id or hub id", "widget": "model"})
    engine_options: dict = field(default_factory=dict, metadata={
        "help": "the served engine's options (--engine openai)", "group": ServerOptions, "applies": _served_only})
    temperature: float = field(default=0.7, metadata={"help": "sampling temperature", "min": 0, "max": 2,
                                                      "step": 0.05})
    max_tokens: int = field(default=256, metadata={"help": "new tokens per reply at most", "min": 1})
    seed: int = field(default=0, metadata={"help": "sampling seed"})

    def __post_init__(self) -> None:
        check_bounds(type(self), self)
        if self.engine not in ENGINES:
            raise ConfigError(f"Unknown engine '{self.engine}'; set [[engine]] to one of: "
                              f"{', '.join(sorted(ENGINES))}.")
        served = [o.name for o in options(ServerOptions) if o.name in self.engine_options]
        if served and self.engine != SERVED_ENGINE:
            raise ConfigError(f"Server options ({', '.join(f'[[{n}]]' for n in served)}) belong to "
                              f"[[engine]] {SERVED_ENGINE}; choose it or drop them.")
        check_bounds(ServerOptions, self.engine_options)

    def engine_spec(self) -> EngineSpec:
        return EngineSpec(self.engine, self.model, dict(self.engine_options))

    def generation(self) -> dict:
        """This config's generation fields, to build another config that generates the same way."""
        return {f.name: getattr(self, f.name) for f in fields(GenerationConfig)} | {
            "engine_options": dict(self.engine_options)}
