"""CLI: debate prints the run id and accuracy per round; runs --json lists what was stored."""
from __future__ import annotations

import json

from agentark.cli import main


def test_debate_then_runs_json(capsys):
    code = main(["debate", "--dataset", "builtin:arithmetic", "--limit", "4", "--method", "debate",
                 "--agents", "3", "--rounds", "2", "--engine", "scripted", "--model", "tests.scripted:first_number"])
    out = capsys.readouterr().out
    assert code == 0
    run_id = out.split()[1].rstrip(":")
    assert "accuracy per round" in out and "final accuracy" in out
    rows = [line.split() for line in out.splitlines() if line[:1] in "12" and len(line.split()) == 5]
    assert [(r[0], r[1], r[2]) for r in rows] == [("1", "4", "12"), ("2", "4", "12")]

    assert main(["runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert len(runs) == 1
    run = runs[0]
    assert run["run_id"] == run_id and run["method"] == "debate" and run["problems"] == 4
    assert run["status"] == "done" and run["model"] == "tests.scripted:first_number"
    assert 0.0 <= run["accuracy"] <= 1.0


def test_resume_by_run_id_does_nothing_twice(capsys):
    assert main(["debate", "--limit", "3", "--engine", "scripted", "--model", "tests.scripted:first_number"]) == 0
    run_id = capsys.readouterr().out.split()[1].rstrip(":")
    assert main(["debate", "--run-id", run_id]) == 0
    out = capsys.readouterr().out
    assert "3 problems already done" in out
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["done"] == 3


def test_bad_input_exits_2_with_the_fix(capsys):
    assert main(["debate", "--dataset", "nope"]) == 2
    assert "Unknown dataset" in capsys.readouterr().err
    assert main(["debate", "--agents", "0"]) == 2
    assert "--agents 1 or more" in capsys.readouterr().err
    assert main(["debate", "--model", "./missing-folder"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["debate", "--run-id", "never-made"]) == 2
    assert "No run folder" in capsys.readouterr().err


def test_locked_store_still_reports_from_shards(capsys, monkeypatch):
    from agentark.store import Store

    monkeypatch.setenv("AGENTARK_LOCK_TIMEOUT", "1")
    holder = Store()  # this process holds it; the CLI's own open below must fail like a second process
    holder.close()
    import subprocess
    import sys

    from agentark import config

    proc = subprocess.Popen([sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(config.store_path())!r}); print('ok', flush=True); time.sleep(60)"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ok"
        assert main(["debate", "--limit", "2", "--engine", "scripted", "--model", "tests.scripted:first_number"]) == 0
        captured = capsys.readouterr()
        assert "final accuracy" in captured.out
        assert "held by process" in captured.err
    finally:
        proc.kill()
        proc.wait()
