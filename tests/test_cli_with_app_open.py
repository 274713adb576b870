"""The app and the command line share the store: with the app open, every CLI command works, the app keeps
working while they write, and writers started together all land.

Every command runs as its own process (DuckDB's file lock is per process), as a user's terminal would.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agentark.debate import debate_job
from agentark.debate import DebateConfig
from agentark.store import Store, curation_tables, run_tables
from tests.live_app import live_app, read_until_finished, rerun, session

ROOT = Path(__file__).resolve().parent.parent
STEPS_MODEL = "tests.scripted_steps:wrong_then_right"


def _cli(home: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, AGENTARK_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "agentark", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"{proc.args[3:]} exited {proc.returncode}: {err[-1500:]}"
    return out


def _stored_run(limit: int = 3) -> tuple[str, list[str]]:
    run_id, report = debate_job.create_debate_run(DebateConfig(limit=limit, engine="scripted", model=STEPS_MODEL))
    debate_job.run_debate_job(run_id)
    return run_id, [p.problem_id for p in report.problems]


@pytest.mark.slow
def test_every_cli_command_works_while_the_app_is_open_and_working(agentark_home, tmp_path):
    run_id, problems = _stored_run()
    with live_app(agentark_home) as (_app, port), session(port) as ws:
        rerun(ws)
        assert read_until_finished(ws) == []  # the app has opened, refreshed and shown the store
        app_errors: list[str] = []
        app_reruns = 0
        stop = threading.Event()

        def keep_the_app_busy() -> None:
            nonlocal app_reruns
            pages = ["", "runs-dashboard", "problem-list", "label"]
            while not stop.is_set():
                rerun(ws, pages[app_reruns % len(pages)])
                app_errors.extend(read_until_finished(ws))
                app_reruns += 1

        app = threading.Thread(target=keep_the_app_busy)
        app.start()
        try:
            export = tmp_path / "transcripts.jsonl"
            # Two chains at once: the step-label commands in order, and the rest beside them.
            chain = [
                ("segment", "--run", run_id),
                ("autolabel", "--run", run_id),
                ("label-mc", "--run", run_id, "--k", "2", "--engine", "scripted", "--model", "tests.scripted_steps:rollout"),
                ("export", "prm", "--run", run_id, "--out", str(tmp_path / "prm.parquet")),
                ("export", "transcripts", "--run", run_id, "--out", str(export)),
                ("import", "--format", "transcripts", str(export)),
            ]
            beside = [
                ("runs", "--json"),
                ("stats", run_id),
                ("mark", run_id, problems[0], "--exclude", "--annotator", "ana"),
                ("debate", "--limit", "2", "--engine", "scripted", "--model", "tests.scripted:first_number"),
            ]
            outputs: dict[str, str] = {}

            def run_all(commands) -> None:
                for args in commands:
                    outputs[args[0] + (args[1] if args[0] == "export" else "")] = _finish(_cli(agentark_home, *args))

            other = threading.Thread(target=run_all, args=(beside,))
            other.start()
            run_all(chain)
            other.join()
            with Store() as store:
                step = store.df("SELECT step_id FROM steps ORDER BY step_id LIMIT 1")["step_id"][0]
            outputs["label"] = _finish(_cli(agentark_home, "label", step, "--value", "1", "--annotator", "ana"))
        finally:
            stop.set()
            app.join(timeout=120)
        assert app_errors == [] and app_reruns >= 2, app_errors
    assert {r["run_id"] for r in json.loads(outputs["runs"])} >= {run_id}
    assert "final accuracy" in outputs["debate"]
    with Store() as store:
        assert curation_tables.latest_marks(store, run_id)["mark"].tolist() == ["exclude"]
        sources = set(store.df("SELECT DISTINCT source FROM step_labels")["source"])
        assert {"human", "auto:mc"} <= sources and any(s.startswith("auto:") and s != "auto:mc" for s in sources)
        assert run_tables.count(store, "runs") == 2


def test_writers_started_together_all_land(agentark_home):
    run_id, problems = _stored_run(limit=4)
    assert _finish(_cli(agentark_home, "segment", "--run", run_id))
    with Store() as store:
        steps = store.df("SELECT step_id FROM steps ORDER BY step_id LIMIT 4")["step_id"].tolist()
    writers = [_cli(agentark_home, "mark", run_id, pid, "--keep", "--annotator", f"a{i}")
               for i, pid in enumerate(problems)]
    writers += [_cli(agentark_home, "label", step, "--value", "-1", "--annotator", f"b{i}")
                for i, step in enumerate(steps)]
    started = time.monotonic()
    for proc in writers:
        _finish(proc)  # none refused: every one exits 0
    assert time.monotonic() - started < 120
    with Store() as store:
        assert sorted(curation_tables.latest_marks(store, run_id)["problem_id"]) == sorted(problems)
        humans = store.df("SELECT step_id, annotator FROM step_labels WHERE source = 'human'")
        assert sorted(humans["step_id"]) == sorted(steps) and len(set(humans["annotator"])) == 4
