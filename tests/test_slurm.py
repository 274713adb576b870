"""Jobs on a real Slurm cluster (the one-node cluster ``.ci/run`` starts): a debate submitted with ``sbatch`` and
ingested as a local one is; a job killed at its time limit checkpoints and resumes, and stop is ``scancel``; a
study whose steps run as Slurm jobs, the study going on after them with ``--dependency=afterok:`` (read back from
``scontrol show job``), gives the result table of the same study run locally.

They skip where Slurm is absent (``sinfo`` does not answer), except where ``AGENTARK_REQUIRE_SLURM=1`` (CI sets
it): there an absent cluster fails them. Waits poll the job's folder for the state it must reach, with a deadline.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agentark import jobs
from agentark.debate import DebateConfig
from agentark.jobs import slurm
from agentark.jobs.slurm import ExecutorConfig
from agentark.store import Store
from agentark.studies.study_job import StudyFolder
from agentark.studies.study_report import study_result, table_rows
from tests.test_studies import tiny_study
from tests.tinylm import tiny_llama  # noqa: F401

pytestmark = pytest.mark.slow

def cluster_answers() -> bool:
    if not shutil.which("sinfo"):
        return False
    done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return done.returncode == 0 and any(s.strip().rstrip("*") in ("idle", "mixed", "allocated")
                                        for s in done.stdout.split())


@pytest.fixture(autouse=True)
def cluster() -> None:
    if cluster_answers():
        return
    if os.environ.get("AGENTARK_REQUIRE_SLURM") == "1":
        pytest.fail("AGENTARK_REQUIRE_SLURM=1 and no Slurm cluster answers `sinfo`: .ci/run starts one.")
    pytest.skip("no Slurm cluster here (sinfo does not answer)")


SLURM = ExecutorConfig(executor="slurm", cpus=1)


def wait_until(check: Callable[[], bool], what: str, limit_s: float = 240.0) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def folder(job_id: str):
    return jobs.find(job_id)[1]


def scripted(limit: int, responder: str = "tests.scripted:first_number", **kw) -> DebateConfig:
    return DebateConfig(dataset="builtin:arithmetic", limit=limit, engine="scripted", model=responder, **kw)


@pytest.mark.timeout(300)
def test_a_debate_runs_as_a_slurm_job_and_the_store_ingests_it():
    started = jobs.start("debate", scripted(limit=4), executor=SLURM)
    assert started.slurm_job_id and started.pid is None
    job = folder(started.job_id)
    wait_until(lambda: job.status() in jobs.FINISHED, "the debate to end")
    assert job.status() == "done", job.progress()
    wait_until(lambda: slurm.show_job(started.slurm_job_id)["JobState"] != "RUNNING", "the worker to exit")
    script = (job.path / "slurm.sbatch").read_text()
    assert "#SBATCH --signal=B:USR1@60" in script and "#SBATCH --time=12:00:00" in script
    assert f"-m agentark worker {started.job_id}" in script
    shown = slurm.show_job(started.slurm_job_id)
    assert shown["JobState"] == "COMPLETED" and shown["JobName"] == f"agentark-{started.job_id}"
    slurm.queue(fresh=True)  # the Jobs table reuses squeue's answer for a second
    row = next(r for r in jobs.list_jobs() if r["job_id"] == started.job_id)
    assert row["slurm_job_id"] == started.slurm_job_id and row["slurm_state"] == "COMPLETED" and row["node"]
    assert "progress 4/4" in job.log_path.read_text()
    with Store() as store:
        store.refresh()
        assert store.scalar("SELECT count(*) FROM outcomes WHERE run_id = ?", [started.job_id]) == 4


@pytest.mark.timeout(300)
def test_a_debate_runs_as_a_job_array_of_two_chunks():
    started = jobs.start("debate", scripted(limit=6, chunk_size=1), executor=ExecutorConfig(executor="slurm", cpus=1,
                                                                                            chunks=2))
    job = folder(started.job_id)
    assert "#SBATCH --array=0-1" in (job.path / "slurm.sbatch").read_text()
    wait_until(lambda: job.status() in jobs.FINISHED, "the array to end")
    assert job.status() == "done" and job.progress()["done"] == 6, job.progress()
    tasks = [json.loads((job.path / f"progress.chunk-{i}.json").read_text()) for i in range(2)]
    assert all(t["status"] == "done" for t in tasks)
    for index in range(2):
        wait_until(lambda i=index: slurm.show_job(f"{started.slurm_job_id}_{i}")["JobState"] == "COMPLETED",
                   f"array task {index} to complete")
        assert slurm.show_job(f"{started.slurm_job_id}_{index}")["ArrayJobId"] == started.slurm_job_id
    # Each task wrote its share of the problems as shards of its own: three one-problem chunks each.
    assert len(job.finished_shards()) == 6
    with Store() as store:
        store.refresh()
        assert store.scalar("SELECT count(*) FROM outcomes WHERE run_id = ?", [started.job_id]) == 6


@pytest.mark.timeout(600)
def test_a_job_killed_at_its_time_limit_resumes_and_stop_is_scancel(monkeypatch):
    # More work than a one-minute limit allows. Slurm looks at time limits every 30 s or so, so the warning
    # (--signal, 10 s ahead) or, when a look falls after it, the limit's own SIGTERM reaches the worker 50 to 90 s
    # in; either way the worker stops after its current chunk, with status "stopped".
    monkeypatch.setenv("SCRIPTED_DELAY_S", "0.3")
    cfg = scripted(limit=200, responder="tests.scripted:slow_first_number", chunk_size=1, agents=2, rounds=1)
    started = jobs.start("debate", cfg, executor=ExecutorConfig(executor="slurm", cpus=1, time_limit="1",
                                                               signal_s=10))
    job = folder(started.job_id)
    wait_until(lambda: job.status() in jobs.FINISHED, "the time limit to stop the debate")
    stopped = job.progress()
    assert job.status() == "stopped", stopped
    wait_until(lambda: slurm.show_job(started.slurm_job_id)["JobState"] not in slurm.ACTIVE, "the first job to end")
    assert stopped.get("slurm_signal") or slurm.show_job(started.slurm_job_id)["JobState"] == "TIMEOUT", stopped
    assert 0 < stopped["done"] < 200
    # Resume submits it again from its folder, with a longer limit; it goes on from its finished shards.
    jobs.resume(started.job_id, executor=ExecutorConfig(time_limit="30"))
    second = job.progress()["slurm_job_id"]
    assert second != started.slurm_job_id and slurm.show_job(second)["TimeLimit"] == "00:30:00"
    wait_until(lambda: job.status() == "running" and job.progress().get("done", 0) > stopped["done"],
               "the resumed debate to get further")
    assert jobs.stop(started.job_id)
    wait_until(lambda: job.status() in jobs.FINISHED, "scancel to stop it")
    assert job.status() == "stopped"
    wait_until(lambda: slurm.show_job(second)["JobState"] == "CANCELLED", "Slurm to record the cancel")
    done_at_stop = job.progress()["done"]
    jobs.resume(started.job_id, executor=ExecutorConfig(time_limit="30"))
    wait_until(lambda: job.status() in jobs.FINISHED, "the debate to finish")
    assert job.status() == "done" and job.progress()["done"] == 200 > done_at_stop


def comparable(rows: list[dict]) -> list[dict]:
    """A study's table without what names its jobs (ids differ between the two homes)."""
    return [{k: v for k, v in r.items() if "link" not in k} for r in rows]


@pytest.mark.timeout(900)
def test_a_study_on_slurm_submits_its_steps_with_dependencies_and_matches_the_local_study(
        tiny_llama, tmp_path, monkeypatch):
    cfg = tiny_study(tiny_llama, arms=["rsft", "da"], seeds=[0, 1])
    monkeypatch.setenv("AGENTARK_HOME", str(tmp_path / "local"))
    local = jobs.start("study", cfg, background=False)
    assert local.progress["status"] == "done", local.progress
    with Store() as store:
        local_rows = table_rows(study_result(store, local.job_id))

    monkeypatch.setenv("AGENTARK_HOME", str(tmp_path / "slurm"))
    started = jobs.start("study", tiny_study(tiny_llama, arms=["rsft", "da"], seeds=[0, 1], executor="slurm"))
    study = StudyFolder(started.job_id)
    dependencies: dict[str, str] = {}

    def watch() -> bool:
        # Each pass hands on to a study job that waits for its steps: read its dependency while it waits.
        current = study.progress().get("slurm_job_id")
        if current and current != started.slurm_job_id and current not in dependencies:
            shown = slurm.show_job(current)
            if shown.get("JobState") == "PENDING":
                dependencies[current] = shown.get("Dependency", "")
        return study.status() in jobs.FINISHED

    wait_until(watch, "the study on Slurm to end", limit_s=800)
    assert study.status() == "done", study.progress()
    record = study.record()
    passes = record["slurm_passes"]
    assert len(passes) >= 2 and all(p["dependency"].startswith("afterok:") for p in passes)
    assert dependencies and all(d.startswith("afterok:") for d in dependencies.values()), dependencies
    # The seeds' trainings ran side by side: one pass waited on all four.
    assert any(p["dependency"].count(":") >= 4 for p in passes), passes
    trained = [s for s in record["steps"] if s["kind"] == "sft"]
    assert len(trained) == 4
    for step in record["steps"]:
        progress = folder(step["job_id"]).progress()
        assert progress["status"] == "done" and progress["slurm_job_id"], step
        assert not step["reused"]
    with Store() as store:
        store.refresh()
        slurm_rows = table_rows(study_result(store, started.job_id))
    assert comparable(slurm_rows) == comparable(local_rows)
