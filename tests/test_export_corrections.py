"""The export filter for ablations: only problems whose debate has a correction, or only those without one."""
from __future__ import annotations

import pytest

from agentark.cli import main
from agentark.errors import ConfigError
from agentark.training_sets import ExportConfig, build_rows
from agentark.store import Store
from tests.tracedata import build_known_store


def test_corrections_filter_splits_problems_by_their_debate():
    with Store() as store:
        build_known_store(store)
        # run-a: P1 and P4 have corrections (wrong -> right); P2 regresses, P3 changes wrong -> wrong.
        every = build_rows(store, ExportConfig(kind="da", run_ids=["run-a"]))
        only = build_rows(store, ExportConfig(kind="da", run_ids=["run-a"], corrections="only"))
        none = build_rows(store, ExportConfig(kind="da", run_ids=["run-a"], corrections="none"))
    assert set(only["problem_id"]) == {"P1", "P4"}
    assert set(none["problem_id"]) == {"P2"}  # P3 has no correct message at all
    assert len(only) + len(none) == len(every)
    with pytest.raises(ConfigError, match="corrections must be one of any, only, none"):
        ExportConfig(corrections="some")


def test_export_cli_records_the_filter(capsys):
    with Store() as store:
        build_known_store(store)
    assert main(["export", "da", "--run", "run-a", "--corrections", "only"]) == 0
    assert "rows ->" in capsys.readouterr().out
    with Store() as store:
        filters = store.df("SELECT filters_json FROM exports").iloc[0, 0]
    assert '"corrections": "only"' in filters
