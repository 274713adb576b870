"""The Train page headless (AppTest): one generated form per kind, bad input shown with its fix, nothing written."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

import agentark.jobs  # noqa: F401  (registers every kind)
from agentark import config
from agentark.options import options
from agentark.jobs import get_kind
from agentark.train.train_jobs import training_jobs
from tests.conftest import ROOT


def page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "7_train_models.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_each_kind_gets_a_widget_per_config_field():
    at = page()
    for kind in ("prm", "sft", "pad"):
        at.radio(key="train_kind").set_value(kind).run()
        assert not at.exception, at.exception
        keys = {w.key for w in [*at.text_input, *at.number_input, *at.checkbox, *at.selectbox]}
        generated = {o.name for o in options(get_kind(kind).config)} - {"export", "base_model", "prm"}
        assert {f"train_{kind}_{name}" for name in generated} <= keys
    assert any("No training jobs yet" in i.value for i in at.info)


def test_a_bad_start_shows_the_fix_and_writes_nothing(tmp_path):
    at = page()
    at.radio(key="train_kind").set_value("sft").run()
    at.button[0].click().run()
    assert at.error and "**export**" in at.error[0].value
    at.text_input(key="train_sft_export_path").set_value(str(tmp_path / "missing.parquet"))
    at.button[0].click().run()
    assert at.error and "missing.parquet" in at.error[0].value
    assert training_jobs() == [] and not (config.home() / "jobs").exists()
