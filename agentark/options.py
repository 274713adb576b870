"""Command-line flags and page form fields generated from one config dataclass.

Design decision: a job's config dataclass is the single definition of its options. Each field carries, in its
``metadata``, everything a face needs to offer it; the CLI's flags (``add_arguments``/``from_namespace``) and the
page's widgets (``agentark.ui.forms``, read back by ``from_values``) are derived from it here, and the value built
from either is the same dataclass, validated by its ``__post_init__`` and stored as the job's config.

The metadata keys understood (only ``help`` is required):

- ``help``: the flag's help and the widget's tooltip; a callable gives it from a registry that can grow (methods).
- ``choices``: the values allowed. A tuple is a closed set the CLI enforces; a callable reads a registry that can
  grow at run time (engines, methods), so the CLI only lists it and the config's own check names the field.
- ``min`` / ``max``: inclusive bounds, checked by :func:`check_bounds` (from ``__post_init__``) and used as the
  widget's limits, so a slider never offers what validation refuses. ``hint`` is added to the bound's error.
- ``step``: the widget's step (a float with both bounds is a slider).
- ``flag``: the CLI flag when it is not ``--field-name`` (``--base-url``, ``--run``); ``repeat``: a list given as
  one flag per value; ``flag_value``: the flag takes no value and sets this one (``--soft``); ``parse``: a function
  from the flag's text to the value (an ``AgentArkError`` becomes argparse's usage error); ``metavar``;
  ``positional``: an argument, not a flag; ``required``: the command cannot run without it.
- ``group``: a dataclass (or a callable returning several) whose fields are the keys of this dict field: each
  becomes a flag and a widget of its own, and ``build`` (default: ``dict``) turns the ones given into the value.
- ``lines``: the form shows a text area and this function parses it (the CLI uses ``group``).
- ``applies(values, name)``: whether field (or group member) ``name`` applies given a form's other values; a form
  shows every field, but one that does not apply to the method or engine chosen is left unset.
- ``widget``: a named widget of ``agentark.ui.forms`` (``dataset``, ``model``, ``runs``, ``number``, the
  pick-or-type pickers ``export`` (of the training kind named by ``trains``), ``base_model``, ``prm``, and
  ``server_path``: a path on the server, which only admins type and others give by uploading the file);
  ``suggest``: a callable giving choices a selectbox offers besides what may be typed; ``labels``: choice -> text.
- ``config``: the field is a whole config of another dataclass, composed rather than copied (a study's teacher is
  a ``DebateConfig``). Its fields are offered as options of their own named ``{prefix}_{name}`` (``prefix``,
  default the field's name: ``teacher_agents``, flag ``--teacher-agents``), their first values taken from the
  field's default instance; ``skip`` names the fields the outer config decides itself (not offered). The value is
  built from the default instance with the options given on top, and an error it raises names the prefixed field.
- ``part``: the part of a longer config the field belongs to; a form may group its widgets by part.
- ``internal``: set by code, never a flag or a widget.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field
from typing import Any

from agentark.errors import FIELD_REF, AgentArkError, ConfigError, as_flag
from agentark.ids import check_id


class ConfigBase:
    """What every config dataclass shares: stored as a plain dict (its run's or job's config) and read back.

    ``from_dict`` ignores keys the class does not know, so a config stored by an older version still loads.
    """

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        values = {k: v for k, v in data.items() if k in known}
        check_types(cls, values)
        return cls(**values)


def field_help(text: str, choices: tuple = ()) -> dict:
    """A config field's metadata: the help text its flag and form widget show, and its choices if it has some."""
    return {"help": text, "choices": choices} if choices else {"help": text}


@dataclass(frozen=True)
class Option:
    """One field as a form or a flag sees it: ``kind`` is bool, int, float, str, choice, list, group or config
    (a nested config: ``members`` are its fields' options, named with its prefix)."""

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple = ()
    optional: bool = False
    closed: bool = True
    members: tuple["Option", ...] = ()
    meta: Mapping = field(default_factory=dict)
    # The field's annotation (``list[int]``, ``str | None``): what ``check_type`` holds a value to.
    annotation: Any = None

    @property
    def flag(self) -> str:
        return self.meta.get("flag") or as_flag(self.name)

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")

    def applies(self, values: dict, name: str) -> bool:
        rule = self.meta.get("applies")
        return rule is None or bool(rule(values, name))

    def build(self, given: dict) -> Any:
        return self.meta.get("build", dict)(given)

    @property
    def key(self) -> str:
        """The field this option sets in its own dataclass (a nested config's member is named with its prefix)."""
        return self.meta.get("field", self.name)

    def nested(self, given: dict) -> Any:
        """A ``config`` option's value: the field's default instance with ``given`` (by its dataclass's field
        names) on top; an error names the field with its prefix, as the outer config offers it."""
        cls, prefix = self.meta["config"], self.meta["prefix"]
        values = {f.name: copy.deepcopy(getattr(self.default, f.name)) for f in dataclasses.fields(cls) if f.init}
        try:
            check_types(cls, given)
            return cls(**{**values, **given})
        except AgentArkError as exc:
            names = {f.name for f in dataclasses.fields(cls)}
            worded = FIELD_REF.sub(lambda m: f"[[{prefix}_{m.group(1)}]]" if m.group(1) in names else m.group(0),
                                   exc.template)
            raise type(exc)(worded) from exc


def _base(tp) -> tuple[Any, bool]:
    """The type behind ``X | None`` and whether None is allowed."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return (args[0] if len(args) == 1 else str), True
    return tp, False


def _group_classes(group) -> tuple:
    if isinstance(group, type):
        return (group,)
    return tuple(dict.fromkeys(group()))


def _unprefixed(values: Mapping, prefix: str) -> dict:
    return {k[len(prefix) + 1:]: v for k, v in values.items() if k.startswith(prefix + "_")}


def _prefixed(opt: Option, prefix: str, default: Any) -> Option:
    """A nested config's option as the outer config offers it: named and flagged with the prefix, its ``applies``
    reading the nested values by their own names."""
    meta = {**opt.meta, "field": opt.name, "flag": f"--{prefix}-{opt.flag.removeprefix('--')}"}
    if "applies" in opt.meta:
        rule = opt.meta["applies"]
        meta["applies"] = lambda values, name: rule(_unprefixed(values, prefix), name.removeprefix(prefix + "_"))
    members = tuple(_prefixed(m, prefix, default.get(m.name, m.default) if isinstance(default, dict) else m.default)
                    for m in opt.members)
    return dataclasses.replace(opt, name=f"{prefix}_{opt.name}", default=default, members=members, meta=meta)


def _nested_option(f: dataclasses.Field, help_text: str) -> Option:
    cls, skip = f.metadata["config"], set(f.metadata.get("skip", ()))
    if f.default_factory is MISSING:
        raise TypeError(f"Config field {f.name} needs a default_factory giving its default {cls.__name__}.")
    default = f.default_factory()
    prefix = f.metadata.get("prefix", f.name)
    members = tuple(_prefixed(m, prefix, getattr(default, m.name)) for m in options(cls) if m.name not in skip)
    return Option(f.name, "config", default, help_text, members=members, meta={**f.metadata, "prefix": prefix},
                  annotation=cls)


def _option(cls, f: dataclasses.Field, hints: dict) -> Option:
    help_text = f.metadata.get("help")
    help_text = help_text() if callable(help_text) else help_text
    if not help_text:
        raise TypeError(f"{cls.__name__}.{f.name} has no help text; add metadata={{'help': ...}}.")
    if "config" in f.metadata:
        return _nested_option(f, help_text)
    tp, optional = _base(hints[f.name])
    default = f.default if f.default is not MISSING else (
        f.default_factory() if f.default_factory is not MISSING else None)
    choices = f.metadata.get("choices", ())
    closed = not callable(choices)
    choices = tuple(choices() if callable(choices) else choices)
    members: tuple[Option, ...] = ()
    if "group" in f.metadata:
        kind = "group"
        seen = {}
        for group_cls in _group_classes(f.metadata["group"]):
            for m in options(group_cls):
                seen.setdefault(m.name, m)
        members = tuple(seen.values())
    elif typing.get_origin(tp) is list:
        kind = "list"
    elif choices:
        kind = "choice"
    elif tp is bool:
        kind = "bool"
    elif tp is int:
        kind = "int"
    elif tp is float:
        kind = "float"
    else:
        kind = "str"
    return Option(f.name, kind, default, help_text, choices, optional, closed, members, f.metadata, hints[f.name])


def options(cls) -> list[Option]:
    """The options of a config dataclass, in field order; every field but an internal one must have help text."""
    hints = typing.get_type_hints(cls)
    return [_option(cls, f, hints) for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")]


def check_bounds(cls, values: Mapping | object) -> None:
    """Raise ConfigError for a value outside its field's ``min``/``max``; ``values`` is a config or a dict."""
    read = values.get if isinstance(values, Mapping) else (lambda name: getattr(values, name, None))
    for f in dataclasses.fields(cls):
        low, high, value = f.metadata.get("min"), f.metadata.get("max"), read(f.name)
        if value is None or (low is None and high is None):
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                rule, fix = f"between {low} and {high}", f"from {low} to {high}"
            elif high is None:
                rule, fix = f"at least {low}", f"{low} or more"
            else:
                rule, fix = f"at most {high}", f"{high} or less"
            hint = f" {f.metadata['hint']}" if "hint" in f.metadata else ""
            raise ConfigError(f"[[{f.name}]] must be {rule} (got {value}); use [[{f.name}]] {fix}.{hint}")


def run_id(text: str) -> str:
    """A run id given as an option: refused with the rule before anything runs."""
    return check_id(text, "run id")


def run_ids_field(help_text: str = "Runs to read; every run when empty.") -> Any:
    """The ``run_ids`` field every config over stored runs has: ``--run`` per run on the CLI, a run picker on a page."""
    return field(default_factory=list, metadata={"help": help_text, "flag": "--run", "repeat": True,
                                                 "parse": run_id, "metavar": "RUN_ID", "widget": "runs"})


def _argparse_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except AgentArkError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return convert


def _add_flag(parser: argparse.ArgumentParser, opt: Option) -> None:
    default = " ".join(map(str, opt.default)) if isinstance(opt.default, list) else opt.default
    quiet = opt.default in (None, "", []) or "flag_value" in opt.meta or opt.meta.get("positional")
    shown = "" if quiet else f" (default: {default})"
    if opt.choices and not opt.closed:
        shown += f"; one of: {', '.join(opt.choices)}"
    if opt.meta.get("repeat"):
        shown += " (repeat the flag for more)"
    # argparse %-formats help text: a literal "95%" would crash --help.
    kwargs: dict[str, Any] = {"help": (opt.help + shown).replace("%", "%%")}
    if opt.meta.get("positional"):
        parser.add_argument(opt.name, choices=opt.choices or None, **kwargs)
        return
    kwargs.update(dest=opt.name, default=argparse.SUPPRESS)
    if "flag_value" in opt.meta:
        kwargs["help"] += f" (this flag sets {opt.name} to {opt.meta['flag_value']})"
        parser.add_argument(opt.flag, action="store_const", const=opt.meta["flag_value"], **kwargs)
        return
    if opt.kind == "bool":
        kwargs["action"] = argparse.BooleanOptionalAction
    elif opt.kind in ("int", "float"):
        kwargs["type"] = int if opt.kind == "int" else float
    elif opt.kind == "list":
        kwargs["action" if opt.meta.get("repeat") else "nargs"] = "append" if opt.meta.get("repeat") else "+"
        item = typing.get_args(_base(opt.annotation)[0])[:1]
        if item and item[0] in (int, float):
            kwargs["type"] = item[0]
    if opt.kind in ("choice", "list") and opt.choices and opt.closed:
        kwargs["choices"] = opt.choices
    if "parse" in opt.meta:
        kwargs["type"] = _argparse_type(opt.meta["parse"])
    for key in ("metavar", "required"):
        if key in opt.meta:
            kwargs[key] = opt.meta[key]
    parser.add_argument(opt.flag, **kwargs)


def add_arguments(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """Add one flag per field (one per member of a group); defaults are left to the dataclass so a flag not given
    is not stored twice. The parser's ``field_flags`` default records each field's flag, for wording errors."""
    flags = dict(parser.get_default("field_flags") or {})
    for opt in options(cls):
        if opt.name in skip:
            continue
        for field_opt in opt.members if opt.kind == "config" else (opt,):
            for flagged in field_opt.members or (field_opt,):
                _add_flag(parser, flagged)
                flags[flagged.name] = flagged.flag
            if field_opt.members:
                flags[field_opt.name] = ", ".join(m.flag for m in field_opt.members)
    parser.set_defaults(field_flags=flags)


def word_field(args: argparse.Namespace) -> Callable[[str], str]:
    """How a command words a field in an error: the flag its parser gave it (``--base-url``), else ``--field``."""
    flags = getattr(args, "field_flags", None) or {}
    return lambda name: flags.get(name) or as_flag(name)


def from_namespace(cls, ns: argparse.Namespace, **overrides):
    """Build the config from parsed flags: only the flags given override the dataclass defaults."""
    return cls(**{**given_values(cls, ns), **overrides})


def given_values(cls, ns: argparse.Namespace) -> dict:
    """The config fields whose flags were given (a group's members built into its value, a nested config's into
    its config): what a command that starts from another config (``eval --like RUN``) changes in it."""
    return _given(options(cls), vars(ns), drop_unset=False)


def _given(opts: list[Option] | tuple[Option, ...], given: Mapping, drop_unset: bool) -> dict:
    """Field values (by the fields' own names) from option values keyed by option name; a group or a nested config
    is built only when one of its members is given (``drop_unset``: an empty group member counts as not given)."""
    values = {}
    for opt in opts:
        if opt.kind == "config":
            sub = _given(opt.members, given, drop_unset)
            if sub:
                values[opt.key] = opt.nested(sub)
        elif opt.members and opt.name in given:
            values[opt.key] = check_type(opt, given[opt.name])
        elif opt.members:
            sub = {m.key: check_type(m, given[m.name]) for m in opt.members
                   if m.name in given and not (drop_unset and _unset(given[m.name]))}
            if sub:
                values[opt.key] = opt.build(sub)
        elif opt.name in given:
            values[opt.key] = check_type(opt, given[opt.name])
    return values


def option_names(cls) -> set[str]:
    """Every name a flat dict of option values may use: fields, group members, a nested config's members."""
    def names(opts) -> set[str]:
        return {n for o in opts for n in (o.name, *names(o.members))} - {o.name for o in opts if o.kind == "config"}
    return names(options(cls))


def from_flat(cls, values: Mapping, **fields: Any):
    """Build the config from option values keyed by option name, as a file or a stored dict gives them
    (``teacher_agents`` for a nested config's field), ``fields`` (by field name) on top; an empty group member
    counts as not given, an unknown name is refused."""
    unknown = set(values) - option_names(cls)
    if unknown:
        raise TypeError(f"{cls.__name__} has no option(s) {', '.join(sorted(unknown))}.")
    return cls(**{**_given(options(cls), values, drop_unset=True), **fields})


def _describe(tp: Any) -> str:
    """A type as an error names it: ``list[int]`` is "a list of whole numbers"."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        named = [_describe(a) for a in args if a is not type(None)]
        return " or ".join(named) + (" or nothing (leave it out)" if type(None) in args else "")
    if origin in (list, tuple, set, frozenset):
        return f"a list of {_plural(args[0])}" if args else "a list"
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return "a table of values"
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, args))
    if dataclasses.is_dataclass(tp):
        return f"a table of {tp.__name__} fields"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(
        tp, getattr(tp, "__name__", str(tp)))


def _plural(tp: Any) -> str:
    return {bool: "true/false values", int: "whole numbers", float: "numbers", str: "texts"}.get(tp, _describe(tp))


def _matches(tp: Any, value: Any) -> bool:
    """Whether ``value`` is of type ``tp`` exactly as given: no string is read as a number, list or boolean, and
    no boolean as a number; a whole number is a number."""
    if tp is Any or isinstance(tp, typing.TypeVar):
        return True
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(a, value) for a in args)
    if tp is type(None):
        return value is None
    if origin is typing.Literal:
        return value in args
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(_matches(a, v) for a, v in zip(args, value))
        return not args or all(_matches(args[0], v) for v in value)
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return isinstance(value, Mapping)
    if dataclasses.is_dataclass(tp):
        return isinstance(value, (tp, Mapping))
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return not isinstance(tp, type) or isinstance(value, tp)


def _type_error(name: str, tp: Any, value: Any) -> ConfigError:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return ConfigError(f"[[{name}]] must be {_describe(tp)}, not {type(value).__name__} {shown}: give it as "
                       f"{_describe(tp)}.")


def check_type(opt: Option, value: Any) -> Any:
    """``value`` if it has the type of ``opt``'s field, else a ConfigError naming the field and the type expected
    (a string is never read as a list, a number or a boolean). Returns the value, so a caller can pass it on."""
    if opt.annotation is not None and not _matches(opt.annotation, value):
        raise _type_error(opt.name, opt.annotation, value)
    return value


def check_types(cls, values: Mapping) -> None:
    """Refuse a value (by field name) whose type is not its field's, as ``check_type`` does: a stored config (a
    job's JSON) or a nested config's values."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in values and f.init and not _matches(hints[f.name], values[f.name]):
            raise _type_error(f.name, hints[f.name], values[f.name])


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _clean(opt: Option, value: Any) -> Any:
    # Text is kept as typed (a separator may be white space); only empty optional fields and numbers change.
    if opt.optional and _unset(value):
        return None
    if opt.kind in ("int", "float") and isinstance(value, str):
        try:
            return int(value.strip()) if opt.kind == "int" else float(value.strip())
        except ValueError:
            raise ConfigError(f"{opt.label} must be a number{' or empty' if opt.optional else ''} "
                              f"(got '{value}').") from None
    # A list of numbers is typed into a text box, one word a number: each word is read as the number it spells.
    item = typing.get_args(_base(opt.annotation)[0])[:1] if opt.kind == "list" else ()
    if item and item[0] in (int, float) and isinstance(value, list):
        try:
            return [item[0](v.strip()) if isinstance(v, str) else v for v in value]
        except ValueError:
            raise ConfigError(f"{opt.label} must be {_describe(opt.annotation)} (got {' '.join(map(str, value))})."
                              ) from None
    return value


def from_values(cls, values: dict):
    """Build the config from a page form's values: a field's value, or for a group its members' values (the
    ones set and applying make the dict); None or "" for an optional field means "not set"; a field that does
    not apply to the other values (``applies``) is left at its default."""
    unknown = set(values) - option_names(cls)
    if unknown:
        raise TypeError(f"{cls.__name__} has no option(s) {', '.join(sorted(unknown))}.")
    return cls(**_form_values(options(cls), values))


def _form_values(opts: list[Option] | tuple[Option, ...], values: dict) -> dict:
    clean = {}
    for opt in opts:
        if opt.kind == "config":
            clean[opt.key] = opt.nested(_form_values(opt.members, values))
        elif opt.members and opt.name not in values:
            cleaned = [(m, check_type(m, _clean(m, values[m.name]))) for m in opt.members if m.name in values]
            sub = {m.key: v for m, v in cleaned if not _unset(v) and opt.applies(values, m.name)}
            if sub:
                clean[opt.key] = opt.build(sub)
        elif opt.name in values and opt.applies(values, opt.name):
            value = _clean(opt, values[opt.name])
            clean[opt.key] = opt.meta["lines"](value) if "lines" in opt.meta else check_type(opt, value)
    return clean
