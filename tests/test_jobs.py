"""Debate runs as jobs: run folders, shards, ingestion, kill -9 and resume, and bad input."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentark import jobs
from agentark.debate import debate_job
from agentark.debate import DebateConfig
from agentark.errors import ConfigError, DatasetError, ModelNotFoundError
from agentark.debate.debate_job import RunFolder, list_run_folders
from agentark.store import Store, job_tables, run_tables
from tests.waits import until_ended

ROOT = Path(__file__).resolve().parent.parent


def scripted(limit: int = 6, responder: str = "tests.scripted:first_number", **kw) -> DebateConfig:
    return DebateConfig(dataset="builtin:arithmetic", limit=limit, engine="scripted", model=responder, **kw)


def test_run_job_writes_shards_and_store_ingests_them_once():
    run_id, report = debate_job.create_debate_run(scripted(limit=5, chunk_size=2))
    assert len(report.problems) == 5
    calls: list[tuple[int, int]] = []
    final = debate_job.run_debate_job(run_id, on_progress=lambda d, t: calls.append((d, t)))
    assert final["status"] == "done" and final["done"] == 5 and final["stage"] == "finished"
    # Reported at the start, after every debate step (2 per chunk) and after each of the 3 stored chunks.
    assert len(calls) == 1 + 3 * 2 + 3 and calls[-1] == (5, 5)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    folder = RunFolder(run_id)
    assert len(folder.finished_shards()) == 3
    meta = folder.meta()
    assert meta["config"]["agents"] == 3 and meta["versions"]["duckdb"] and "git_commit" in meta
    with Store() as store:
        assert store.refresh() == 3
        assert store.refresh() == 0  # idempotent
        assert run_tables.count(store, "messages", run_id) == 5 * 3 * 2
        assert run_tables.count(store, "outcomes", run_id) == 5
        runs = run_tables.list_runs(store)
        row = runs[runs.run_id == run_id].iloc[0]
        assert row.status == "done" and row.problems == 5 and row.done == 5
        stored = run_tables.get_run(store, run_id)
        assert stored["config"] == meta["config"] and stored["model"] == "tests.scripted:first_number"
        acc = run_tables.round_accuracy(store, run_id)
        assert acc["round"].tolist() == [1, 2] and acc["messages"].tolist() == [15, 15]


def _worker(run_id: str, delay: float) -> subprocess.Popen:
    env = dict(os.environ, SCRIPTED_DELAY_S=str(delay), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "agentark", "worker", run_id], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_kill_9_then_resume_does_every_problem_exactly_once():
    run_id, _ = debate_job.create_debate_run(scripted(limit=10, responder="tests.scripted:slow_first_number", chunk_size=2))
    folder = RunFolder(run_id)
    proc = _worker(run_id, delay=0.02)
    while len(folder.finished_shards()) < 2 and proc.poll() is None:  # an event, not a deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = folder.done_problem_ids()
    assert 2 <= len(done_before) < 10
    assert folder.status() == "interrupted"

    # The app-side view while interrupted: what finished is visible, nothing half-written.
    with Store() as store:
        store.refresh()
        assert run_tables.run_status(store, run_id) == "interrupted"
        assert run_tables.count(store, "outcomes", run_id) == len(done_before)

    resumed = _worker(run_id, delay=0.0)
    assert resumed.wait() == 0
    assert folder.status() == "done"
    per_problem: dict[str, int] = {}
    import pyarrow.parquet as pq

    for name in folder.finished_shards():
        for pid in pq.read_table(folder.shard_paths(name)[1]).column("problem_id").to_pylist():
            per_problem[pid] = per_problem.get(pid, 0) + 1
    assert len(per_problem) == 10 and set(per_problem.values()) == {1}
    with Store() as store:
        store.refresh()
        assert run_tables.count(store, "outcomes", run_id) == 10
        assert run_tables.count(store, "messages", run_id) == 10 * 3 * 2
        assert run_tables.run_status(store, run_id) == "done"


def test_app_store_stays_usable_while_a_job_writes():
    run_id, _ = debate_job.create_debate_run(scripted(limit=8, responder="tests.scripted:slow_first_number", chunk_size=1))
    store = Store()  # held read-write, as the app holds it
    try:
        proc = _worker(run_id, delay=0.05)
        seen = []
        while proc.poll() is None:
            store.refresh()
            seen.append(run_tables.count(store, "outcomes", run_id))
            time.sleep(0.05)
        assert proc.returncode == 0
        store.refresh()
        assert run_tables.count(store, "outcomes", run_id) == 8
        assert seen == sorted(seen)
        assert any(0 < n < 8 for n in seen), seen  # progress was visible while the job ran
    finally:
        store.close()


def test_background_launch_records_a_job():
    with Store() as store:
        run_id = jobs.start("debate", scripted(limit=3)).job_id
        store.refresh()
        until_ended(RunFolder(run_id))
        store.refresh()
        assert run_tables.run_status(store, run_id) == "done", RunFolder(run_id).log_path.read_text()
        job = job_tables.jobs(store).iloc[0]
        assert job.job_id == run_id and job.status == "done" and job.kind == "debate"
        assert job.ended_at is not None


def test_unknown_dataset_writes_nothing():
    with pytest.raises(DatasetError, match="Unknown dataset"):
        debate_job.create_debate_run(DebateConfig(dataset="no-such-dataset"))
    assert list_run_folders() == []


def test_missing_model_folder_fails_before_anything_is_written(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        debate_job.create_debate_run(DebateConfig(model=str(tmp_path / "nope")))
    assert list_run_folders() == []


def test_malformed_jsonl_line_is_reported_and_good_lines_run(tmp_path):
    path = tmp_path / "mini.jsonl"
    lines = [
        json.dumps({"question": "What is 2 plus 2?", "answer": "#### 4"}),
        "{not json",
        json.dumps({"question": "What is 3 plus 3?", "answer": "#### 6"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    run_id, report = debate_job.create_debate_run(DebateConfig(dataset=str(path), engine="scripted",
                                                         model="tests.scripted:first_number"))
    assert [line for line, _ in report.rejected] == [2]
    assert len(report.problems) == 2
    assert len(RunFolder(run_id).problems()) == 2


def test_agents_below_one_is_a_config_error():
    with pytest.raises(ConfigError, match="agents must be at least 1"):
        scripted(agents=0)
