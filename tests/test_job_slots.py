"""Jobs share the machine: at most the slots of a device run at once, the rest wait queued with their place and
start by themselves when a slot frees (a job that ends, stops or is killed with -9), threads follow the slot,
and in-process work waits the same way. Every wait here is on a status change, never on model work."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from agentark import jobs
from agentark.jobs import machine
from agentark.cli import main
from agentark.jobs import slots
from tests.jobkinds import CountConfig, create_count_job

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _worker_imports_tests(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # a worker imports the count kind from tests.jobkinds
    monkeypatch.delenv("AGENTARK_SLOTS", raising=False)


def _state(job_id: str) -> dict:
    _, folder = jobs.find(job_id)
    return {**folder.progress(), "status": folder.status()}


def _wait(job_id: str, until, limit_s: float = 120.0) -> dict:
    """Wait for a status change of cheap jobs (a count kind, no model): the limit only guards a hung test."""
    deadline = time.time() + limit_s
    while time.time() < deadline:
        state = _state(job_id)
        if until(state):
            return state
        time.sleep(0.05)
    _, folder = jobs.find(job_id)
    raise AssertionError(f"{job_id}: {state}; log: {folder.log_path.read_text() if folder.log_path.exists() else ''}")


def _jobs_json(capsys) -> dict[str, dict]:
    capsys.readouterr()
    assert main(["jobs", "--json"]) == 0
    return {row["job_id"]: row for row in json.loads(capsys.readouterr().out)}


def _start(n: int, delay_s: float = 0.05) -> str:
    job_id = create_count_job(CountConfig(n=n, delay_s=delay_s))
    jobs.spawn("count", job_id)
    return job_id


def test_a_second_cpu_job_waits_queued_with_its_place_and_starts_when_the_first_ends(capsys):
    first = _start(n=10_000)
    _wait(first, lambda s: s["status"] == "running")
    second, third = _start(n=2), _start(n=2)
    _wait(second, lambda s: s["status"] == "queued" and "in the queue" in str(s.get("stage")))
    _wait(third, lambda s: "2nd in the queue" in str(s.get("stage")))
    listed = _jobs_json(capsys)
    assert listed[first]["status"] == "running" and listed[first]["queue"] is None
    assert (listed[second]["status"], listed[second]["queue"]) == ("queued", 1)
    assert (listed[third]["status"], listed[third]["queue"]) == ("queued", 2)
    assert listed[second]["needs"] == ", ".join(machine.devices())
    assert _state(second).get("done", 0) == 0  # waiting, not working

    assert jobs.stop(first)
    ended = _wait(first, lambda s: s["status"] in jobs.FINISHED)
    done = _wait(second, lambda s: s["status"] == "done")
    assert done["started_at"] >= ended["ended_at"]  # it started by itself once the slot was free
    assert _wait(third, lambda s: s["status"] == "done")["started_at"] >= done["ended_at"]
    assert not list((slots.slots_dir() / "queue").iterdir())  # no ticket left behind


def test_kill_9_of_the_running_job_frees_its_slot_for_the_next():
    first = _start(n=10_000)
    _wait(first, lambda s: s["status"] == "running")
    second = _start(n=2)
    _wait(second, lambda s: s["status"] == "queued" and "in the queue" in str(s.get("stage")))
    os.kill(_state(first)["pid"], signal.SIGKILL)  # no handler runs: only the kernel lets go of the lock
    assert _wait(second, lambda s: s["status"] in jobs.FINISHED)["status"] == "done"
    assert _state(first)["status"] == "interrupted"


def test_more_slots_run_jobs_together_with_the_cores_shared_between_them(monkeypatch):
    monkeypatch.setenv("AGENTARK_SLOTS", "cpu=2,cuda=2")  # the count kind runs on the GPU where there is one
    a, b = _start(n=10_000), _start(n=10_000)
    states = [_wait(j, lambda s: s["status"] == "running") for j in (a, b)]
    assert [s["threads"] for s in states] == [max(1, machine.cpu_count() // 2)] * 2
    for job_id in (a, b):
        jobs.stop(job_id)
        assert _wait(job_id, lambda s: s["status"] in jobs.FINISHED)["status"] == "stopped"


def test_in_process_work_takes_a_slot_like_a_job_and_a_queued_job_can_be_stopped():
    with slots.hold(machine.devices(), label="the app's in-process scoring") as held:
        assert held.threads == machine.cpu_count() // machine.slots("cpu")
        assert os.environ["OMP_NUM_THREADS"] == str(held.threads)
        waiting = _start(n=2)
        _wait(waiting, lambda s: s["status"] == "queued" and "1st in the queue" in str(s.get("stage")))
        assert jobs.stop(waiting)
        stopped = _wait(waiting, lambda s: s["status"] in jobs.FINISHED)
        assert stopped["status"] == "stopped" and stopped["stage"] == "stopped before it started"
        later = _start(n=2)
        _wait(later, lambda s: s["status"] == "queued" and "in the queue" in str(s.get("stage")))
    assert _wait(later, lambda s: s["status"] in jobs.FINISHED)["status"] == "done"


def test_a_job_run_in_the_foreground_waits_and_says_its_place():
    places = []
    with slots.hold(machine.devices(), label="another foreground command"):
        job_id = create_count_job(CountConfig(n=1))
        # In this thread a held slot is reentrant (work nested in a job), so the foreground job runs in another
        # process's position: a second thread of this process, as the app's sessions are.
        import threading

        result = {}
        thread = threading.Thread(target=lambda: result.update(jobs.run_job(job_id, on_wait=places.append)))
        thread.start()
        _wait(job_id, lambda s: s["status"] == "queued" and "in the queue" in str(s.get("stage")))
    thread.join(60)
    assert places == [1] and result["status"] == "done"


def test_resume_keeps_the_first_start_and_records_the_resume():
    job_id = create_count_job(CountConfig(n=3))
    _, folder = jobs.find(job_id)
    jobs.run_job(job_id, on_progress=lambda done, total: folder.request_cancel())
    first = _state(job_id)
    assert first["status"] == "stopped" and first["started_at"]
    final = jobs.run_job(job_id)
    assert final["status"] == "done"
    assert final["started_at"] == first["started_at"] and final["resumed_at"] >= first["started_at"]


def test_served_engines_need_no_slot_and_devices_are_named():
    from agentark.backends import EngineSpec

    assert EngineSpec("openai", "gpt-x").devices() == ()
    assert EngineSpec("transformers", "m", {"device": "cpu"}).devices() == ("cpu",)
    assert EngineSpec("transformers", "m", {"device": "cuda:1"}).devices() == ("cuda:1",)
    assert machine.devices("cuda", 2) == ("cuda:0", "cuda:1")


def test_slot_settings_are_checked(monkeypatch):
    from agentark.errors import ConfigError

    monkeypatch.setenv("AGENTARK_SLOTS", "cpu=3,cuda=2,cuda:1=1")
    assert (machine.slots("cpu"), machine.slots("cuda:0"), machine.slots("cuda:1")) == (3, 2, 1)
    monkeypatch.setenv("AGENTARK_SLOTS", "cpu=0")
    with pytest.raises(ConfigError, match="AGENTARK_SLOTS"):
        machine.slots("cpu")


def test_jobs_page_shows_places_in_the_queue_true_percentages_and_run_names(monkeypatch):
    from tests.app_pages import app_page

    from agentark.debate import DebateConfig, debate_job
    from agentark.runs.names import rename
    from agentark.store import Store

    run_id, _ = debate_job.create_debate_run(DebateConfig(limit=1, engine="scripted",
                                                          model="tests.scripted:first_number"))
    debate_job.run_debate_job(run_id)
    with Store() as store:
        store.refresh()
        rename(store, run_id, "baseline-cot")
    unknown_total = create_count_job(CountConfig(n=2))  # done 2 of a total not known yet: no percent, not 200%
    jobs.find(unknown_total)[1].write_progress(status="stopped", done=2, total=0)
    quarter = create_count_job(CountConfig(n=4))
    jobs.find(quarter)[1].write_progress(status="stopped", done=1, total=4)
    with slots.hold(machine.devices(), label="in-process work"):
        waiting = _start(n=1)
        _wait(waiting, lambda s: s["status"] == "queued" and "in the queue" in str(s.get("stage")))
        at = app_page("pages/9_jobs_table.py")
        table = next(d.value for d in at.dataframe if "queue" in d.value.columns).set_index("job_id")
    assert table.loc[run_id, "name"] == "baseline-cot" and table.loc[run_id, "progress"] == 1.0
    assert table.loc[waiting, "status"] == "queued" and table.loc[waiting, "queue"] == 1
    assert table.loc[quarter, "progress"] == 0.25
    assert pd.isna(table.loc[unknown_total, "progress"])
    assert table.index[0] == waiting  # running and queued jobs come first
    assert any("1 in the queue" in m.value for m in at.markdown)
    assert _wait(waiting, lambda s: s["status"] in jobs.FINISHED)["status"] == "done"
