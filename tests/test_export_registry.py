"""Export kinds are a registry: a kind registered by a module of its own, with no other edit, is offered by the
CLI's ``export`` command and the Export page and written by ``export()``; and no module outside
``agentark/training_sets/`` switches on an export kind's name."""
from __future__ import annotations

import importlib
import sys
import textwrap

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from agentark.cli import main
from agentark.errors import ConfigError
from agentark.store import Store
from agentark.training_sets import ExportConfig, export, export_kind_names, list_exports
from tests.conftest import ROOT
from tests.test_architecture import MODULES, kind_switches
from tests.tracedata import build_known_store

MODULE = "answers_export_kind_for_tests"
KIND_MODULE = '''
"""A training set the studio does not ship: one row per solver message, its final answer."""
from agentark.errors import ConfigError
from agentark.store import label_tables as q
from agentark.training_sets import ExportKind, ExportSummary, register_export_kind

COLUMNS = ["run_id", "problem_id", "message_id", "answer"]


def prepare(store, cfg):
    rows = q.curated_messages(store, cfg.run_ids or None)[COLUMNS].reset_index(drop=True)
    return rows, ExportSummary(cfg.kind, len(rows))


def check(cfg):
    if cfg.corrections == "human":
        raise ConfigError("[[corrections]] human has no answers to correct; set it to any, only or none.")


register_export_kind(ExportKind(name="answers", title="Answers: each solver message's final answer (test kind)",
                                description="The final answer of every solver message.", columns=tuple(COLUMNS),
                                prepare=prepare, human_corrections=True, check=check))
'''


@pytest.fixture
def answers_kind(tmp_path, monkeypatch):
    """Registers the ``answers`` kind from a module written to a temporary folder; the registry is restored after."""
    from agentark.training_sets import export_kinds

    monkeypatch.setattr("agentark.training_sets.kind_registry._KINDS", dict(export_kinds()))
    (tmp_path / f"{MODULE}.py").write_text(textwrap.dedent(KIND_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module(MODULE)
    yield "answers"
    sys.modules.pop(MODULE, None)


def test_an_unregistered_kind_is_refused_by_the_cli():
    with pytest.raises(SystemExit):
        main(["export", "answers"])
    assert "answers" not in export_kind_names()


def test_a_kinds_own_check_runs_when_its_config_is_built(answers_kind):
    assert ExportConfig(kind=answers_kind).format == "parquet"
    with pytest.raises(ConfigError, match="corrections human has no answers to correct"):
        ExportConfig(kind=answers_kind, corrections="human")
    # A kind's human_corrections says which kinds the generic check names.
    with pytest.raises(ConfigError, match="for rsft, da, pairs, answers exports; not for prm"):
        ExportConfig(kind="prm", corrections="human")


def test_a_registered_kind_is_a_cli_choice_and_the_cli_writes_it(answers_kind, capsys):
    with Store() as store:
        build_known_store(store)
    assert main(["export", answers_kind, "--run", "run-a"]) == 0
    assert "rows ->" in capsys.readouterr().out
    with Store() as store:
        assert list(list_exports(store)["kind"]) == [answers_kind]


def test_export_writes_a_registered_kind(answers_kind, tmp_path):
    with Store() as store:
        build_known_store(store)
        result = export(store, ExportConfig(kind=answers_kind, run_ids=["run-a"]), tmp_path / "answers.parquet")
        frame = pd.read_parquet(result.path)
        assert list(frame.columns) == ["run_id", "problem_id", "message_id", "answer"]
        assert len(frame) == result.n_rows > 0
        assert set(frame["run_id"]) == {"run-a"}
        assert list(list_exports(store)["kind"]) == [answers_kind]


def test_the_export_page_offers_previews_and_writes_a_registered_kind(answers_kind):
    with Store() as store:
        build_known_store(store)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.switch_page("pages/6_export.py")
    at.run()
    assert not at.exception, at.exception
    kinds = at.selectbox(key="exp_kind")
    assert "Answers: each solver message's final answer (test kind)" in kinds.options
    described = next(d.value for d in at.dataframe if "holds" in d.value)
    assert answers_kind in list(described["kind"])
    kinds.set_value(answers_kind)
    at.button[0].click().run()  # Preview
    assert not at.exception, at.exception
    assert any(m.value.endswith(" rows") for m in at.markdown)
    at.button[1].click().run()  # Export
    assert not at.exception, at.exception
    assert any("Wrote" in s.value for s in at.success)
    with Store() as store:
        assert answers_kind in set(list_exports(store)["kind"])


def _outside_training_sets() -> list:
    return [p for p in [*MODULES.values(), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
            if "training_sets" not in p.relative_to(ROOT).parts]


def test_no_module_outside_training_sets_compares_to_an_export_kinds_name():
    names = set(export_kind_names())
    offenders = {str(p.relative_to(ROOT)): kind_switches(p.read_text(), names) for p in _outside_training_sets()}
    offenders = {p: lines for p, lines in offenders.items() if lines}
    assert not offenders, f"switch on an export kind's name (make it a field of the kind's ExportKind): {offenders}"


def test_the_check_catches_the_old_export_if_chain():
    old = '''
def prepare(store, cfg):
    if cfg.kind == "transcripts":
        return transcripts(store, cfg)
    roles = ("solver", "solution") if cfg.kind == "prm" else ("solver",)
    rows = rsft_rows(messages, cfg) if cfg.kind == "rsft" else da_rows(messages, cfg)
    if cfg.kind not in ("rsft", "da", "pairs"):
        raise ValueError(cfg.kind)
'''
    assert kind_switches(old, set(export_kind_names())) == [3, 5, 6, 7]
