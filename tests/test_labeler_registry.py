"""The label sources, the step-import formats and the transcript formats are registries: a labeler or a format
registered in a module of its own (no other edit) shows in the CLI, on the pages and in the labeler report; no
module outside the registry switches on a label source's name; the import forms are generated from their configs."""
from __future__ import annotations

import argparse
import ast
import importlib
import json
import sys
import textwrap

import pytest

from agentark.cli import build_parser, main
from agentark.labels import labelers as registry
from agentark.labels import step_import
from agentark.labels.labeler_report import labeler_report
from agentark.runs import formats
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.store import run_tables
from tests.app_pages import segmented_run
from tests.conftest import ROOT
from tests.test_architecture import MODULES, PACKAGE
from tests.test_label_pages import labeling_page, open_tab

LABELER_MODULE = '''
"""A labeler of its own: -1 on every step, inline, and a second Monte-Carlo job under another source."""
import pandas as pd

from agentark.labels.auto_labelers import AutoLabelConfig
from agentark.labels.labelers import Labeler, register_labeler
from agentark.labels.montecarlo import MCConfig
from agentark.labels.montecarlo_job import KIND


def every_step_wrong(messages, steps):
    return pd.DataFrame([(s, -1.0, 0.5) for s in steps["step_id"]], columns=["step_id", "value", "confidence"])


register_labeler(Labeler("heuristic:pessimist", "pessimist", "-1 on every step", config=AutoLabelConfig,
                         run=every_step_wrong, order=50, precedence=7, negatives="the pessimist (autolabel)"))
register_labeler(Labeler("heuristic:rollouts", "Second rollouts", "Monte-Carlo again", config=MCConfig, kind=KIND,
                         order=60))
'''

FORMAT_MODULE = '''
"""A step format of its own: {"question": ..., "steps": [...], "ratings": [...]} per line."""
from agentark.labels.step_import import ParsedSolution, StepFormat, register_step_format


def parse_tiny(record):
    steps = record["steps"]
    return ParsedSolution(record["question"], "", steps, record["ratings"], "tiny", [False] * len(steps))


register_step_format(StepFormat("tiny", parse_tiny, "one JSON object per solution", precedence=3))
'''


def _load(tmp_path, monkeypatch, name: str, source: str):
    """Import ``source`` as module ``name`` from a temporary folder; the registries are restored afterwards."""
    registry.labelers()  # the built-in ones, so the copies below hold them
    monkeypatch.setattr(registry, "_LABELERS", dict(registry._LABELERS))
    monkeypatch.setattr(step_import, "_FORMATS", dict(step_import._FORMATS))
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    module = importlib.import_module(name)
    monkeypatch.setitem(sys.modules, name, module)
    return module


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _flag(parser: argparse.ArgumentParser, dest: str) -> argparse.Action:
    return next(a for a in parser._actions if a.dest == dest)


def test_a_labeler_registered_in_its_own_module_shows_in_the_cli_the_page_and_the_report(tmp_path, monkeypatch,
                                                                                          capsys):
    run_id = segmented_run(2)
    _load(tmp_path, monkeypatch, "pessimist_labeler", LABELER_MODULE)

    commands = _subcommands(build_parser())
    assert {"label-mc", "label-prm", "label-judge", "label-rollouts"} <= set(commands)
    assert "heuristic:pessimist" in _flag(commands["autolabel"], "sources").help
    assert main(["labels", "list", "--json"]) == 0
    listed = {r["source"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed["heuristic:pessimist"]["runs"] == "inline"
    assert listed["heuristic:rollouts"]["command"] == "label-rollouts"

    assert main(["autolabel", "--source", "heuristic:pessimist", "--run", run_id]) == 0
    assert "heuristic:pessimist: " in capsys.readouterr().out
    with Store() as store:
        n_steps = len(q.steps_in_context(store, [run_id]))
        assert q.count_labels(store, "heuristic:pessimist") == n_steps
        # Not of the auto: family: the report measures it because the registry says it is automatic.
        assert "heuristic:pessimist" in {s.source for s in labeler_report(store, [run_id]).sources}

    # The PRM export's policy takes it in: last in the default precedence, named where negatives are missing.
    from agentark.training_sets import ExportConfig

    assert ExportConfig().precedence[-1] == "heuristic:pessimist"
    assert "the pessimist (autolabel)" in registry.negative_labelers()

    at = labeling_page()
    open_tab(at, "Prepare")
    assert "pessimist" in at.button(key="lab_auto").label
    assert at.button(key="FormSubmitter:lab_rollouts-Start Second rollouts job")
    assert any("heuristic:rollouts" in m.value for m in at.markdown)


def test_the_page_and_the_cli_start_every_built_in_labeler_from_the_registry():
    at = labeling_page()
    open_tab(at, "Prepare")
    for labeler in registry.job_labelers():
        assert at.button(key=f"FormSubmitter:lab_{labeler.name}-Start {labeler.title} job")
    assert set(registry.inline_sources()) == {"auto:arith", "auto:outcome", "auto:debate"}
    assert {r.command for r in registry.job_labelers()} == {"label-mc", "label-prm", "label-judge"}


def test_the_prm_label_policy_is_read_off_the_records():
    assert registry.default_precedence() == ["human", "import:prm800k", "import:math-shepherd", "auto:judge",
                                             "auto:mc", "auto:arith", "auto:outcome", "auto:debate"]
    assert set(registry.consensus_sources()) == {"auto:mc", "auto:judge"}
    hints = registry.negative_labelers()
    assert len(hints) == 5 and "auto:arith" in hints[0] and "label-mc" in hints[1] and "auto:debate" in hints[2] \
        and "label-judge" in hints[3]
    assert registry.reference_sources() == ("human", "gold")


def test_a_step_format_registered_in_its_own_module_shows_in_the_cli_and_the_page(tmp_path, monkeypatch, capsys):
    _load(tmp_path, monkeypatch, "tiny_step_format", FORMAT_MODULE)
    assert "tiny" in _flag(_subcommands(build_parser())["import-steps"], "format").choices
    assert "import:tiny" in registry.default_precedence()
    path = tmp_path / "tiny.jsonl"
    path.write_text(json.dumps({"question": "What is 2+3?", "steps": ["2+3 = 5", "The answer is 5."],
                                "ratings": [1, 1]}) + "\n")
    assert main(["import-steps", "tiny", str(path), "--model", "m"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (report["solutions"], report["labels"]) == (1, 2)
    with Store() as store:
        assert q.count_labels(store, "import:tiny") == 2

    at = labeling_page()
    open_tab(at, "Prepare")
    assert "tiny" in at.selectbox(key="lab_import_format").options
    at.selectbox(key="lab_import_format").set_value("tiny")
    at.text_input(key="lab_import_path").set_value(str(path))
    at.button(key="FormSubmitter:lab_import-Import").click().run()
    assert not at.exception, at.exception
    assert any("Imported 1 solutions, 2 labels" in s.value for s in at.success)


def test_step_import_config_names_the_field_to_fix(tmp_path, capsys):
    with pytest.raises(step_import.ImportFormatError, match="Unknown step format .nope. in format"):
        step_import.StepImportConfig("nope", "x.jsonl")
    assert main(["import-steps", "prm800k", str(tmp_path / "missing.jsonl")]) == 2
    assert "path" in capsys.readouterr().err


def test_the_transcript_import_flags_and_form_come_from_its_config(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(formats.READERS, "other", "agentark.runs.formats.du2023")
    command = _subcommands(build_parser())["import"]
    for field in ("format", "run_id", "dataset", "model", "name", "again"):
        _flag(command, field)
    assert "other" in _flag(command, "format").help
    du = tmp_path / "du.json"
    du.write_text(json.dumps({"What is 2+2?": [[[{"role": "user", "content": "Solve 2+2"},
                                                 {"role": "assistant", "content": "The answer is 4."}]], 4]}))
    assert main(["import", "--format", "du2023", str(du), "--name", "first import"]) == 0
    capsys.readouterr()
    assert main(["import", "--format", "du2023", str(du), "--again", "--name", "first import"]) == 2
    assert "--name" in capsys.readouterr().err

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/1_run_debates.py")
    at.run()
    assert "other" in at.selectbox(key="import_format").options
    assert at.selectbox(key="import_format").value == "du2023"  # the first format, though the CLI requires one
    at.selectbox(key="import_format").set_value("du2023")
    at.file_uploader(key="import_file").set_value(("du.json", du.read_bytes(), "application/json"))
    at.checkbox(key="import_again").check()
    at.text_input(key="import_name").set_value("from the page")
    next(b for b in at.button if b.label == "Import").click()
    at.run()
    assert not at.exception, at.exception
    assert at.success, [e.value for e in at.error]
    with Store() as store:
        assert {"first import", "from the page"} <= set(run_tables.list_runs(store)["name"])


# -- no switch on a label source's name outside the registry ---------------------------------------------------
REGISTRIES = {PACKAGE / "labels" / "labelers.py", PACKAGE / "labels" / "step_import.py"}


def source_names() -> set[str]:
    return {r.source for r in registry.labelers()} | {f.source for f in step_import.step_formats()}


def _spelled(node: ast.AST, names: set[str]) -> bool:
    elts = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return any(isinstance(e, ast.Constant) and e.value in names for e in elts)


def _about_sources(node: ast.AST) -> bool:
    text = ast.unparse(node)
    return "source" in text or "labeler" in text


def source_switches(source: str, names: set[str]) -> list[int]:
    """Lines that compare a source (something called ``source`` or ``labeler``) with a label source's name
    (``source == "auto:outcome"``, ``labels["source"] != "human"``, ``source in ("auto:mc", "auto:judge")``), test
    membership of one (``labels["source"].isin(["auto:mc"])``) or key a mapping by two or more of them. Other
    values that happen to be spelled like a source (an export's ``corrections == "human"``) are not switches."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_spelled(s, names) for s in sides) and any(_about_sources(s) for s in sides
                                                              if not _spelled(s, names)):
                found.add(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "isin"
              and _about_sources(node.func.value) and any(_spelled(a, names) for a in node.args)):
            found.add(node.lineno)
        elif isinstance(node, ast.Dict) and sum(_spelled(k, names) for k in node.keys if k is not None) >= 2:
            found.add(node.lineno)
    return sorted(found)


def test_no_switch_on_a_label_source_outside_the_registry() -> None:
    names = source_names()
    paths = [p for p in [*MODULES.values(), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"] if p not in REGISTRIES]
    offenders = [f"{p.relative_to(ROOT)}:{line}" for p in paths for line in source_switches(p.read_text(), names)]
    assert not offenders, "switch on a label source's name (make it a field of its record):\n" + "\n".join(offenders)


def test_the_source_switch_check_catches_the_old_switches() -> None:
    old = '''
labeler = outcome_labels if source == "auto:outcome" else debate_labels
human = labels[labels["source"] == "human"]
pair = labels[labels["source"].isin(("auto:mc", "auto:judge"))]
NAMES = {"auto:mc": "Monte-Carlo", "auto:judge": "judge"}
keep = source in ("auto:mc",)
'''
    assert source_switches(old, {"auto:outcome", "human", "auto:mc", "auto:judge"}) == [2, 3, 4, 5, 6]
    assert source_switches('if cfg.method == "debate":\n    pass\n', {"auto:mc"}) == []
    assert source_switches('if cfg.corrections == "human":\n    pass\n', {"human"}) == []
