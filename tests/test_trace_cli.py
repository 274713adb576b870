"""CLI parity: `stats` prints the dashboard's numbers; `mark` appends curation marks counted by `runs --json`."""
from __future__ import annotations

import json

from agentark.cli import main
from agentark.store import Store, curation_tables
from tests.tracedata import build_known_store


def known_home() -> None:
    with Store() as store:
        build_known_store(store)


def test_stats_json_and_table(capsys):
    known_home()
    assert main(["stats", "run-a", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rounds = {r["round"]: r for r in data["rounds"]}
    assert abs(rounds[1]["agent_accuracy"] - 5 / 12) < 1e-9 and rounds[2]["corrections"] == 3
    assert rounds[2]["regressions"] == 2 and data["summary"][0]["accuracy"] == 0.5
    assert main(["stats", "run-a", "run-b"]) == 0
    out = capsys.readouterr().out
    assert "per round" in out and "accuracy by method" in out
    line = next(l for l in out.splitlines() if l.startswith("run-a") and l.split()[1] == "2")
    assert line.split()[3:9] == ["0.500", "0.500", "0.833", "3", "2", "1"]
    assert main(["stats", "missing-run"]) == 2
    assert "python -m agentark runs" in capsys.readouterr().err


def test_mark_then_runs_json_counts(capsys):
    known_home()
    assert main(["mark", "run-a", "P2", "--exclude", "--note", "talked itself out of it", "--annotator", "ana"]) == 0
    assert main(["mark", "run-a", "P1", "--keep"]) == 0
    assert main(["mark", "run-a", "P3", "--exclude", "--message", "run-a:P3:0000"]) == 0
    assert "exclude: message run-a:P3:0000" in capsys.readouterr().out
    assert main(["runs", "--json"]) == 0
    run = {r["run_id"]: r for r in json.loads(capsys.readouterr().out)}["run-a"]
    assert (run["kept_problems"], run["excluded_problems"], run["excluded_messages"]) == (1, 1, 1)
    assert main(["mark", "run-a", "P9", "--keep"]) == 2
    assert "nothing was marked" in capsys.readouterr().err
    assert main(["mark", "run-a", "P1", "--keep", "--message", "run-b:P1:0000"]) == 2
    with Store() as store:
        marks = curation_tables.latest_marks(store, "run-a").set_index("problem_id")
        assert marks.loc["P2", "annotator"] == "ana" and marks.loc["P2", "note"] == "talked itself out of it"
