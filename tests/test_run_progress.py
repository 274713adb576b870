"""A running debate says how far it is and how long it has left; the Run page shows it from the folder alone."""
from __future__ import annotations

import os
import time

import pytest
from streamlit.testing.v1 import AppTest

from agentark.debate import debate_job
from agentark.debate import DebateConfig
from agentark.debate.debate_job import RunFolder
from agentark.debate.debate_job import runs_in_flight
from tests.conftest import ROOT


def test_a_debate_records_measured_progress_step_by_step():
    run_id, _ = debate_job.create_debate_run(DebateConfig(limit=4, chunk_size=2, engine="scripted",
                                                    model="tests.scripted:first_number"))
    folder = RunFolder(run_id)
    seen = []
    debate_job.run_debate_job(run_id, on_progress=lambda done, total: seen.append(folder.progress().get("fraction")))
    progress = folder.progress()
    assert progress["fraction"] == 1.0 and progress["work_at_start"] == 0.0
    assert progress["work_started_at"] <= progress["measured_at"]
    # 2 chunks x 2 rounds: a quarter of the work per step, then the stored chunk.
    assert seen == [None, 0.25, 0.5, 0.5, 0.75, 1.0, 1.0]


def test_run_page_shows_the_time_left_of_a_running_run():
    run_id, _ = debate_job.create_debate_run(DebateConfig(limit=4, engine="scripted", model="tests.scripted:first_number"))
    now = time.time()
    RunFolder(run_id).write_progress(status="running", pid=os.getpid(), done=0, total=4, stage="chunk 1/1: step 1 done",
                                     work_started_at=now - 40, work_at_start=0.0, fraction=0.5, measured_at=now)
    active, _ = runs_in_flight(now=now)
    assert [(r.run_id, r.fraction) for r in active] == [(run_id, 0.5)]
    assert active[0].eta_s == pytest.approx(40)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    texts = [p.proto.text for p in at.get("progress")]
    assert any(run_id in t and "step 1 done" in t and "s left" in t for t in texts), texts


def test_signature_changes_only_when_the_store_has_news():
    run_id, _ = debate_job.create_debate_run(DebateConfig(limit=4, engine="scripted", model="tests.scripted:first_number"))
    folder = RunFolder(run_id)
    folder.write_progress(status="running", pid=os.getpid())
    _, before = runs_in_flight()
    folder.write_progress(stage="chunk 1/1: step 1 done", fraction=0.5, measured_at=time.time())
    assert runs_in_flight()[1] == before  # a step: the page's progress bar moves, nothing to ingest
    folder.write_progress(done=4, stage="chunk 1/1 stored")
    assert runs_in_flight()[1] != before  # a stored shard: the page reruns and the store ingests it
