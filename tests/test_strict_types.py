"""Strict config types everywhere (issue 28): a value of the wrong type, from a study file, a flat dict (a job's
JSON), a form or a flag, is refused with the field's name and the type expected; a string never becomes a list, a
number or a boolean. The property test goes over every field of every config dataclass in agentark."""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import typing
from pathlib import Path

import pytest

from agentark.errors import ConfigError
from agentark.options import add_arguments, from_flat, from_namespace, from_values, options
from agentark.studies.study_config import StudyConfig, parse_study

ROOT = Path(__file__).resolve().parents[1]


def _configs() -> list[type]:
    """Every config dataclass whose flags and form are generated (``options`` accepts it)."""
    found = []
    for path in sorted((ROOT / "agentark").rglob("*.py")):
        text = path.read_text()
        if "@dataclass" not in text or "help" not in text:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for cls in vars(importlib.import_module(module)).values():
            if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module:
                try:
                    options(cls)
                except TypeError:
                    continue
                found.append(cls)
    return found


CONFIGS = _configs()


def _leaves(cls) -> list:
    """Every option a flat dict may set: fields, a group's members, a nested config's fields (prefixed)."""
    out = []
    for opt in options(cls):
        for member in opt.members if opt.kind == "config" else (opt,):
            out.extend(member.members or (member,))
    return out


def _takes(annotation, kind: type) -> bool:
    """Whether the field's type admits values of ``kind`` (str for ``str | None``, ``Any``, a Literal of texts)."""
    if annotation is typing.Any:
        return True
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return any(isinstance(a, kind) for a in args)
    if typing.get_origin(annotation) in (typing.Union, __import__("types").UnionType):
        return any(_takes(a, kind) for a in args)
    if kind is int and annotation is float:
        return True
    return annotation is kind


def _wrong_values(annotation) -> list:
    wrong = []
    if not _takes(annotation, str):
        wrong += ["12", "no", "true"]  # a string is never a number, a list or a boolean
    if not _takes(annotation, bool):
        wrong.append(True)
    if _takes(annotation, str) and not _takes(annotation, int) and not _takes(annotation, bool):
        wrong.append(12)
    return wrong


def test_there_are_configs_to_check():
    names = {c.__name__ for c in CONFIGS}
    assert {"StudyConfig", "DebateConfig", "SFTJobConfig", "EvalConfig"} <= names


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_every_field_refuses_a_value_of_the_wrong_type_naming_the_field_and_type(cls):
    checked = 0
    for opt in _leaves(cls):
        if opt.annotation is None or "lines" in opt.meta:
            continue
        for value in _wrong_values(opt.annotation):
            # A flat dict: a study file's or a job's stored options.
            with pytest.raises(ConfigError) as err:
                from_flat(cls, {opt.name: value})
            assert opt.name in err.value.fields and " must be " in str(err.value), (cls, opt.name, value)
            checked += 1
            # A page form: text boxes for numbers are read as numbers, but never a string as a list or a boolean.
            if isinstance(value, str) and opt.kind in ("int", "float"):
                continue
            with pytest.raises(ConfigError) as err:
                from_values(cls, {opt.name: value})
            assert opt.name in err.value.fields, (cls, opt.name, value)
    for f in dataclasses.fields(cls):  # a job's stored JSON config, field by field
        if hasattr(cls, "from_dict") and f.init and not f.metadata.get("internal") and "config" not in f.metadata:
            hint = typing.get_type_hints(cls)[f.name]
            for value in _wrong_values(hint):
                with pytest.raises(ConfigError) as err:
                    cls.from_dict({f.name: value})
                assert f.name in err.value.fields, (cls, f.name, value)
    assert checked or not _leaves(cls)


@pytest.mark.parametrize("text, field, expected", [
    ('seeds = "12"', "seeds", "a list of whole numbers"),
    ('[sft]\nlora = "no"', "sft_lora", "true or false"),
    ('train_problems = "many"', "train_problems", "a whole number"),
    ('arms = "rsft"', "arms", "a list of texts"),
])
def test_the_reported_study_file_values_are_refused(text, field, expected):
    with pytest.raises(ConfigError) as err:
        parse_study(text)
    assert err.value.fields == [field] and expected in str(err.value)


def test_right_types_still_load_and_flags_give_numbers():
    assert parse_study("seeds = [1, 2]\n[sft]\nlora = true").seeds == [1, 2]
    parser = argparse.ArgumentParser()
    add_arguments(parser, StudyConfig)
    assert from_namespace(StudyConfig, parser.parse_args(["--seed", "3", "--seed", "4"])).seeds == [3, 4]
    assert from_values(StudyConfig, {"seeds": ["5", "6"]}).seeds == [5, 6]  # the form's text box, word by word
    with pytest.raises(SystemExit):
        parser.parse_args(["--seed", "x"])
