"""The one job framework: spawn, worker dispatch on the manifest's kind, stop at the next step, resume,
the Jobs table, metrics shards into the metrics table, checkpoints, and ids that cannot leave the home."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from agentark import jobs
from agentark.debate import debate_job
from agentark.cli import main
from agentark.debate import DebateConfig
from agentark.errors import IdError, JobError
from agentark.ids import check_id
from agentark.store import Store, job_tables, run_tables
from agentark.store.job_tables import job_metrics
from agentark.runs.formats import import_file
from agentark.runs.formats.transcript_jsonl import export_transcripts
from tests.jobkinds import CountConfig, create_count_job

ROOT = Path(__file__).resolve().parent.parent


def _wait(job_id: str, until, timeout: float = 60.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, folder = jobs.find(job_id)
        progress = {**folder.progress(), "status": folder.status()}
        if until(progress):
            return progress
        time.sleep(0.05)
    raise AssertionError(f"timed out; last progress {progress}; log: {folder.log_path.read_text() if folder.log_path.exists() else ''}")


def _jobs_json(capsys) -> dict[str, dict]:
    capsys.readouterr()
    assert main(["jobs", "--json"]) == 0
    return {row["job_id"]: row for row in json.loads(capsys.readouterr().out)}


def test_metrics_and_job_row_land_in_the_store_once(monkeypatch):
    job_id = create_count_job(CountConfig(n=4))
    final = jobs.run_job(job_id)
    assert final["status"] == "done" and final["done"] == 4 and final["started_at"] and final["ended_at"]
    with Store() as store:
        assert store.refresh() == 4  # one metrics shard per step
        writes = []
        monkeypatch.setattr("agentark.jobs.sync.ingest_metrics_shard", lambda *a: writes.append(a) or 0)
        assert store.refresh() == 0
        assert writes == []  # shards already in the ledger are not even opened again
        metrics = job_metrics(store, job_id)
        assert len(metrics) == 8
        assert job_metrics(store, job_id, "value")["value"].tolist() == [1.0, 2.0, 3.0, 4.0]
        job = job_tables.jobs(store).set_index("job_id").loc[job_id]
        assert job.kind == "count" and job.status == "done" and job.ended_at is not None


def test_checkpoint_convention_resumes_after_the_newest_whole_checkpoint():
    job_id = create_count_job(CountConfig(n=3))
    _, folder = jobs.find(job_id)
    assert folder.latest_checkpoint() is None
    jobs.run_job(job_id)
    step, path = folder.latest_checkpoint()
    assert step == 3 and path == folder.checkpoints / "step-3" and (path / "state.json").exists()
    # Running a finished job again does no step twice: it starts after its newest checkpoint.
    jobs.run_job(job_id)
    assert len(folder.finished_shards("metrics")) == 3
    (folder.checkpoints / "checkpoint-7").mkdir()  # a transformers Trainer's name counts too
    (folder.checkpoints / ".step-9.tmp").mkdir()  # a checkpoint still being written does not
    assert folder.latest_checkpoint() == (7, folder.checkpoints / "checkpoint-7")


def _debate_job(limit: int) -> str:
    cfg = DebateConfig(dataset="builtin:arithmetic", limit=limit, chunk_size=1, engine="scripted",
                       model="tests.scripted:slow_first_number")
    return debate_job.create_debate_run(cfg)[0]


def _units(job_id: str) -> list[str]:
    """The units of work a job's shards hold (problem ids, count steps), once per time they were done."""
    kind, folder = jobs.find(job_id)
    if kind.name == "debate":
        return [pid for name in folder.finished_shards()
                for pid in pq.read_table(folder.shard_paths(name)[1]).column("problem_id").to_pylist()]
    return [str(s) for name in folder.finished_shards("metrics")
            for s in set(pq.read_table(folder.shard_path(name, "metrics")).column("step").to_pylist())]


@pytest.mark.parametrize("kind", ["debate", "count"])
def test_stop_at_the_next_step_then_resume_works_the_same_for_every_kind(kind, capsys, monkeypatch):
    monkeypatch.setenv("SCRIPTED_DELAY_S", "0.1")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    job_id = _debate_job(6) if kind == "debate" else create_count_job(CountConfig(n=40, delay_s=0.1))
    total = 6 if kind == "debate" else 40
    pid = jobs.spawn(kind, job_id)
    assert pid > 0
    _wait(job_id, lambda p: p.get("done", 0) >= 1)
    assert main(["stop", job_id]) == 0
    stopped = _wait(job_id, lambda p: p["status"] in jobs.FINISHED)
    assert stopped["status"] == "stopped", stopped
    assert 1 <= stopped["done"] < total
    row = _jobs_json(capsys)[job_id]
    assert row["kind"] == kind and row["status"] == "stopped" and row["total"] == total
    assert row["started_at"] and row["ended_at"] and row["done"] == stopped["done"]
    assert main(["stop", job_id]) == 1  # nothing left to stop

    assert main(["resume", job_id]) == 0
    done = _wait(job_id, lambda p: p["status"] in jobs.FINISHED, timeout=120)
    assert done["status"] == "done" and done["done"] == total
    units = _units(job_id)
    assert len(units) == len(set(units)) == total  # every unit of work exactly once across stop and resume
    assert _jobs_json(capsys)[job_id]["status"] == "done"
    assert main(["resume", job_id]) == 2
    assert "nothing left to resume" in capsys.readouterr().err


def test_sigterm_alone_is_a_stop_request_not_a_crash(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    job_id = create_count_job(CountConfig(n=40, delay_s=0.1))
    pid = jobs.spawn("count", job_id)
    _wait(job_id, lambda p: p.get("done", 0) >= 1)
    os.kill(pid, signal.SIGTERM)
    stopped = _wait(job_id, lambda p: p["status"] in jobs.FINISHED)
    assert stopped["status"] == "stopped" and stopped["done"] < 40


def test_stopping_a_queued_job_marks_it_stopped_without_a_process(capsys):
    job_id = create_count_job(CountConfig(n=2))
    assert main(["stop", job_id]) == 0
    assert _jobs_json(capsys)[job_id]["status"] == "stopped"
    assert jobs.run_job(job_id)["status"] == "done"  # running it again clears the old request


def test_worker_runs_any_kind_by_id(monkeypatch):
    job_id = create_count_job(CountConfig(n=2))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "agentark", "worker", job_id], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "progress 2/2" in proc.stdout


def test_refresh_without_registered_kinds_says_so_and_the_store_imports_no_job_module(tmp_path):
    code = ("import sys\nfrom agentark.store import Store\n"
            "loaded = sorted(m for m in sys.modules if m.startswith(('agentark.jobs', 'agentark.labels.montecarlo', "
            "'agentark.debate', 'agentark.cli', 'agentark.ui')))\nprint(loaded)\n"
            "try:\n    Store().refresh()\nexcept Exception as exc:\n    print(type(exc).__name__, exc)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=60).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1].startswith("StoreError") and "import agentark.jobs.builtin" in out[1]


BAD_IDS = ["../../x", "../x", "/etc", "a/b", "..", ".hidden", "x\n", "", "a\\b", "~root"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_ids_that_could_leave_the_home_are_refused_where_they_enter(bad, capsys, agentark_home, tmp_path):
    with pytest.raises(IdError, match="not a valid"):
        check_id(bad)
    for make in (debate_job.RunFolder, jobs.stop, jobs.resume, jobs.run_job):
        with pytest.raises(IdError, match="not a valid"):
            make(bad)
    source = tmp_path / "du.json"
    source.write_text("[]")
    for argv in (["worker", bad], ["stop", bad], ["resume", bad], ["debate", "--run-id", bad],
                 ["label-mc", "--job-id", bad], ["label-mc", "--run", bad], ["stats", bad],
                 ["mark", bad, "p1", "--keep"], ["import", "--format", "du2023", "--run-id", bad, str(source)],
                 ["export", "rsft", "--run", bad], ["segment", "--run", bad], ["compare", bad]):
        with pytest.raises(SystemExit) as exit:
            main(argv)
        assert exit.value.code == 2, argv
        assert "not a valid" in capsys.readouterr().err, argv
    outside = [p for p in agentark_home.parent.rglob("*") if not p.is_relative_to(agentark_home)]
    assert outside == [source]  # nothing was written next to the home (where ../x would land)


def test_an_imported_record_with_a_bad_run_id_is_rejected_with_its_line(tmp_path):
    run_id, _ = debate_job.create_debate_run(DebateConfig(limit=1, method="cot", engine="scripted",
                                                    model="tests.scripted:first_number"))
    debate_job.run_debate_job(run_id)
    out = tmp_path / "export.jsonl"
    with Store() as store:
        store.refresh()
        export_transcripts(store, run_id, out)
        record = json.loads(out.read_text().splitlines()[0])
        bad = tmp_path / "bad.jsonl"
        bad.write_text(json.dumps({**record, "run_id": "../../x"}) + "\n"
                       + json.dumps({**record, "run_id": "copy-1", "message_id": "copy-1:m"}) + "\n")
        report = import_file(store, "transcripts", bad)
        assert report.imported == 1 and report.run_id == "copy-1"
        assert [line for line, _ in report.rejected] == [1] and "not a valid run id" in report.rejected[0][1]
        assert "../../x" not in set(run_tables.list_runs(store)["run_id"])
        with pytest.raises(IdError, match="not a valid run id"):
            import_file(store, "du2023", bad, run_id="../../x")


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(JobError, match="Known kinds: .*debate.*mc_label"):
        jobs.spawn("nope", create_count_job(CountConfig(n=1)))


def test_jobs_page_lists_every_kind_and_resumes_a_stopped_job(monkeypatch):
    from tests.app_pages import app_page

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    run_id, _ = debate_job.create_debate_run(DebateConfig(limit=1, engine="scripted", model="tests.scripted:first_number"))
    debate_job.run_debate_job(run_id)
    job_id = create_count_job(CountConfig(n=2))
    jobs.stop(job_id)
    at = app_page("pages/9_jobs_table.py")
    table = next(d.value for d in at.dataframe if "kind" in d.value.columns).set_index("job_id")
    assert table.loc[run_id, "kind"] == "debate" and table.loc[run_id, "status"] == "done"
    assert table.loc[job_id, "kind"] == "count" and table.loc[job_id, "status"] == "stopped"
    assert [b.label for b in at.button if b.key.startswith("jobs_")] == ["Resume"]
    at.button(key=f"jobs_resume_{job_id}").click()
    at.run()
    assert not at.exception, at.exception
    assert _wait(job_id, lambda p: p["status"] in ("done", "failed", "interrupted"))["status"] == "done"


def test_a_step_logged_again_after_a_resume_is_stored_once_with_its_latest_value():
    # A resumed PRM job logs its step-0 data figures again, and a trainer replays the steps after its checkpoint.
    job_id = create_count_job(CountConfig(n=1))
    _, folder = jobs.find(job_id)
    folder.write_metrics([(0, "data/rows", 8.0), (1, "loss", 0.9)])
    folder.write_metrics([(0, "data/rows", 8.0), (1, "loss", 0.7), (2, "loss", 0.5)])
    with Store() as store:
        store.refresh()
        metrics = job_metrics(store, job_id)
    assert list(zip(metrics["step"], metrics["name"], metrics["value"])) == [
        (0, "data/rows", 8.0), (1, "loss", 0.7), (2, "loss", 0.5)]
