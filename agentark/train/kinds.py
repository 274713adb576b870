"""The training kinds (prm, sft, pad): their names, titles, the exports they read and their config classes.

Design decision: kept apart from ``agentark.train.train_jobs`` so that what only needs a kind's config (a rank
process under ``accelerate launch``, the CLI parser, the Train page's form) imports neither the job
framework nor the launcher, and the launcher and the jobs module do not import each other.
"""
from __future__ import annotations

from dataclasses import fields

from agentark.errors import ConfigError

KINDS = ("prm", "sft", "pad")
TITLES = {"prm": "PRM training", "sft": "SFT (R-SFT / DA)", "pad": "PAD (GRPO with PRM rewards)"}
# Which studio export kinds each trainer reads (PAD reads problems, not an export).
EXPORT_KINDS = {"prm": ("prm",), "sft": ("rsft", "da"), "pad": ()}


def config_class(kind: str) -> type:
    """The config dataclass of a training kind: PRMConfig, SFTJobConfig or PADJobConfig."""
    if kind == "prm":
        from agentark.train.prm import PRMConfig

        return PRMConfig
    if kind == "sft":
        from agentark.train.sft import SFTJobConfig

        return SFTJobConfig
    if kind == "pad":
        from agentark.train.pad import PADJobConfig

        return PADJobConfig
    raise ConfigError(f"Unknown training kind '{kind}'; choose one of: {', '.join(KINDS)}.")


def config_from_dict(kind: str, values: dict):
    """The stored config back as its dataclass (keys it does not know are ignored)."""
    cls = config_class(kind)
    known = {f.name for f in fields(cls) if f.init}
    return cls(**{k: v for k, v in values.items() if k in known})
