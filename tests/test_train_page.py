"""The Train page headless (AppTest): one generated form per kind (pickers included, number boxes bounded as the
config's fields are), bad input shown with its fix, nothing written."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

import agentark.jobs  # noqa: F401  (registers every kind)
from agentark import config
from agentark.errors import ConfigError
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
        keys = {w.key for w in [*at.text_input, *at.number_input, *at.checkbox, *at.selectbox, *at.slider]}
        fields = {o.name for o in options(get_kind(kind).config)}
        assert {f"train_{kind}_{name}" for name in fields} <= keys
        # Nothing in the form is listed by hand: every widget is a field's, or a picker's "…or a path" box.
        in_form = keys - {"train_kind", "train_job_pick"}
        assert in_form == {f"train_{kind}_{n}" for n in fields} | {f"train_{kind}_{n}_path" for n in PICKERS[kind]}
    assert any("No training jobs yet" in i.value for i in at.info)


PICKERS = {"prm": ("export", "base_model"), "sft": ("export", "base_model"), "pad": ("base_model", "prm")}


def test_the_page_names_no_field_and_its_number_boxes_have_the_configs_bounds():
    source = (ROOT / "pages" / "7_train_models.py").read_text()
    form = source[source.index("with st.form("):source.index("form_submit_button")]
    for word in ('"export"', '"base_model"', '"prm"', "HELP", "st.text_input", "st.selectbox", "st.number_input"):
        assert word not in source if word.startswith('"') or word == "HELP" else word not in form, word
    at = page()
    for kind in ("prm", "sft", "pad"):
        at.radio(key="train_kind").set_value(kind).run()
        boxes = {w.key.removeprefix(f"train_{kind}_"): w for w in at.number_input}
        for name in ("per_device_batch_size", "gradient_accumulation_steps", "save_steps", "num_processes",
                     "num_machines", "lora_r"):
            assert boxes[name].min == 1 and boxes[name].max is None, name
        assert boxes["warmup_steps"].min == 0 and boxes["learning_rate"].min == 0 and boxes["epochs"].min == 0
        dropout = at.slider(key=f"train_{kind}_lora_dropout")
        assert (dropout.min, dropout.max) == (0, 1)


def test_the_bounds_refuse_with_the_field_and_the_fix():
    from agentark.train.sft import SFTJobConfig

    for values, words in [({"save_steps": 0}, "[[save_steps]] must be at least 1 (got 0)"),
                          ({"max_steps": 0}, "[[max_steps]] must be at least 1 (got 0); use [[max_steps]] 1 or more. "
                                             "Leave it empty to train by epochs."),
                          ({"warmup_steps": -1}, "[[warmup_steps]] must be at least 0 (got -1)"),
                          ({"lora_dropout": 1.0}, "[[lora_dropout]] must be below 1"),
                          ({"lora_dropout": 1.5}, "[[lora_dropout]] must be between 0 and 1 (got 1.5)")]:
        try:
            SFTJobConfig(export="x.parquet", **values)
        except ConfigError as e:
            assert words in str(e.args[0]), (values, e.args[0])
        else:
            raise AssertionError(f"{values} was accepted")


def test_a_bad_start_shows_the_fix_and_writes_nothing(tmp_path):
    at = page()
    at.radio(key="train_kind").set_value("sft").run()
    at.button[0].click().run()
    assert at.error and "**export**" in at.error[0].value
    at.text_input(key="train_sft_export_path").set_value(str(tmp_path / "missing.parquet"))
    at.button[0].click().run()
    assert at.error and "missing.parquet" in at.error[0].value
    assert training_jobs() == [] and not (config.home() / "jobs").exists()
