"""Flags and form fields come from the config dataclass; both build the same validated config."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import pytest

from agentark.errors import ConfigError
from agentark.options import add_arguments, from_namespace, from_values, options
from agentark.train.pad import PADJobConfig
from agentark.train.sft import SFTJobConfig


def _parse(cls, argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser, cls)
    return from_namespace(cls, parser.parse_args(argv))


def test_every_field_becomes_a_flag_with_help_and_the_flags_build_the_config():
    opts = {o.name: o for o in options(SFTJobConfig)}
    assert opts["packing"].kind == "bool" and opts["max_steps"].kind == "int" and opts["max_steps"].optional
    assert opts["device"].kind == "choice" and opts["device"].choices == ("auto", "cpu", "cuda")
    cfg = _parse(SFTJobConfig, ["--export", "e.parquet", "--max-steps", "3", "--lora", "--learning-rate", "0.001"])
    assert cfg == SFTJobConfig(export="e.parquet", max_steps=3, lora=True, learning_rate=0.001)
    with pytest.raises(ConfigError, match="multiple of num_generations"):
        _parse(PADJobConfig, ["--prm", "p", "--per-device-batch-size", "3"])
    with pytest.raises(SystemExit):
        _parse(SFTJobConfig, ["--export", "e", "--device", "tpu"])


def test_form_values_build_the_same_config_and_empty_optional_means_unset():
    cfg = from_values(PADJobConfig, {"prm": "p", "max_steps": None, "limit": "", "vllm_server_url": ""})
    assert cfg == PADJobConfig(prm="p", limit=None)
    assert from_values(PADJobConfig, {"prm": "p", "max_steps": " 7 "}).max_steps == 7
    with pytest.raises(ConfigError, match="max steps must be a number or empty"):
        from_values(PADJobConfig, {"prm": "p", "max_steps": "seven"})


def test_a_field_without_help_is_a_programming_error():
    @dataclass
    class Bad:
        x: int = field(default=1)

    with pytest.raises(TypeError, match="help"):
        options(Bad)
