"""Command-line flags and page form fields generated from one config dataclass.

Design decision: a job's config dataclass is the single definition of its options. Each field carries its
help text (``metadata["help"]``) and, where the values are a closed set, ``metadata["choices"]``; the CLI's
flags and the page's form widgets are derived from it here, and the value built from either is the same
dataclass, validated by its ``__post_init__`` and stored as the job's config.
"""
from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import MISSING, dataclass
from typing import Any

from agentark.errors import ConfigError


class ConfigBase:
    """What every config dataclass shares: stored as a plain dict (its run's or job's config) and read back.

    ``from_dict`` ignores keys the class does not know, so a config stored by an older version still loads.
    """

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**{k: v for k, v in data.items() if k in known})


def field_help(text: str, choices: tuple = ()) -> dict:
    """A config field's metadata: the help text its flag and form widget show, and its choices if it has some."""
    return {"help": text, "choices": choices} if choices else {"help": text}


@dataclass(frozen=True)
class Option:
    """One field as a form or a flag sees it: ``kind`` is bool, int, float, str, choice or list."""

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple = ()
    optional: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _base(tp) -> tuple[Any, bool]:
    """The type behind ``X | None`` and whether None is allowed."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return (args[0] if len(args) == 1 else str), True
    return tp, False


def options(cls) -> list[Option]:
    """The options of a config dataclass, in field order; every field must have help text."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        help_text = f.metadata.get("help")
        if not help_text:
            raise TypeError(f"{cls.__name__}.{f.name} has no help text; add metadata={{'help': ...}}.")
        tp, optional = _base(hints[f.name])
        default = f.default if f.default is not MISSING else (
            f.default_factory() if f.default_factory is not MISSING else None)
        choices = tuple(f.metadata.get("choices", ()))
        if choices:
            kind = "choice"
        elif tp is bool:
            kind = "bool"
        elif tp is int:
            kind = "int"
        elif tp is float:
            kind = "float"
        elif typing.get_origin(tp) is list:
            kind = "list"
        else:
            kind = "str"
        out.append(Option(f.name, kind, default, help_text, choices, optional))
    return out


def add_arguments(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """Add one flag per field; defaults are left to the dataclass so a flag not given is not stored twice."""
    for opt in options(cls):
        if opt.name in skip:
            continue
        shown = "" if opt.default in (None, "", []) else f" (default: {opt.default})"
        kwargs: dict[str, Any] = {"dest": opt.name, "default": argparse.SUPPRESS, "help": opt.help + shown}
        if opt.kind == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif opt.kind == "list":
            kwargs["nargs"] = "+"
        elif opt.kind == "choice":
            kwargs["choices"] = opt.choices
        elif opt.kind in ("int", "float"):
            kwargs["type"] = int if opt.kind == "int" else float
        parser.add_argument(opt.flag, **kwargs)


def from_namespace(cls, ns: argparse.Namespace, **overrides):
    """Build the config from parsed flags: only the flags given override the dataclass defaults."""
    names = {o.name for o in options(cls)}
    values = {k: v for k, v in vars(ns).items() if k in names}
    values.update(overrides)
    return cls(**values)


def from_values(cls, values: dict):
    """Build the config from a page form's values (None or "" for an optional field means "not set")."""
    opts = {o.name: o for o in options(cls)}
    clean = {}
    for name, value in values.items():
        opt = opts[name]
        # Text is kept as typed (a separator may be white space); only empty optional fields and numbers change.
        if opt.optional and (value is None or (isinstance(value, str) and not value.strip())):
            value = None
        elif opt.kind in ("int", "float") and isinstance(value, str):
            try:
                value = int(value.strip()) if opt.kind == "int" else float(value.strip())
            except ValueError:
                raise ConfigError(f"{name.replace('_', ' ')} must be a number{' or empty' if opt.optional else ''} "
                                  f"(got '{value}').") from None
        clean[name] = value
    return cls(**clean)
