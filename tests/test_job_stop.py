"""Every kind of job honours stop within one micro-batch and keeps its finished work; progress inside a long
engine call is reported (requests done, time left from the first measured batch).

The stop is asked for at a known point inside the work (the tiny model's Nth forward pass, a scorer's first
batch, a trainer's first logged step), so no test waits on wall-clock time for model work.
"""
from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from agentark import jobs
from agentark.backends.transformers_engine import TransformersEngine
from agentark.debate import DebateConfig, debate_job
from agentark.evaluate.eval_config import EvalConfig
from agentark.labels import montecarlo as mc
from agentark.labels import montecarlo_job
from agentark.labels.prm_labeler import KIND as PRM_LABEL, PRMLabelConfig, PRMLabelFolder
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.progress import BatchWatch, run_eta, share_of, watching
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.train.runtime import last_checkpoint
from tests.steps_fixtures import debate_store
from tests.tinylm import tiny_llama  # noqa: F401
from tests.toy_exports import prm_export, sft_export

MAX_TOKENS = 8


class Forwards:
    """Counts the model's forward passes (one per generated token) and asks for a stop at the ``at``-th."""

    def __init__(self, engine: TransformersEngine, monkeypatch, at: int, stop) -> None:
        self.calls, self.at, self.stop, self.stopped_at = 0, at, stop, None
        original = engine.model.forward

        def forward(*args, **kwargs):
            if "attention_mask" not in kwargs:  # a prompt prefilled on its own (no token generated)
                return original(*args, **kwargs)
            self.calls += 1
            if self.calls == self.at:
                self.stop()
                self.stopped_at = self.calls
            return original(*args, **kwargs)

        monkeypatch.setattr(engine.model, "forward", forward)

    @property
    def after_stop(self) -> int:
        return self.calls - self.stopped_at


def _engine(tiny_llama, monkeypatch, batch: int = 2) -> TransformersEngine:
    engine = TransformersEngine(str(tiny_llama), device="cpu", max_batch_size=batch)
    monkeypatch.setattr(engine, "ignore_eos", True)  # every micro-batch is MAX_TOKENS forward passes long
    return engine


def _run_folder(kind: str, tiny_llama) -> str:
    common = dict(model=str(tiny_llama), engine="transformers", limit=8, max_tokens=MAX_TOKENS, temperature=0.0)
    if kind == "eval":
        with Store() as store:
            return jobs.create("eval", EvalConfig(**common, method="cot", chunk_size=16), store=store).job_id
    return jobs.create("debate", DebateConfig(**common, method="cot", chunk_size=8)).job_id


@pytest.mark.parametrize("kind", ["debate", "eval"])
def test_a_debate_or_evaluation_stops_inside_its_first_micro_batch_and_resume_does_each_problem_once(
        kind, tiny_llama, monkeypatch):
    run_id = _run_folder(kind, tiny_llama)
    folder = debate_job.RunFolder(run_id)
    engine = _engine(tiny_llama, monkeypatch)
    engines = {key: engine for key in DebateConfig.from_dict(folder.meta()["config"]).engine_specs()}
    forwards = Forwards(engine, monkeypatch, at=3, stop=folder.request_cancel)
    final = jobs.run_job(run_id, engines=engines)
    # 8 problems in micro-batches of 2: a stop between steps would come after 4 x 8 passes; it came after 1.
    assert final["status"] == "stopped" and forwards.after_stop <= 1
    assert final["done"] == 0 and folder.finished_shards() == []  # the chunk in flight was not finished
    assert "requests done" in final["stage"] or final["stage"] == "stopped on request"
    monkeypatch.setattr(engine, "max_batch_size", 16)
    final = jobs.run_job(run_id, engines=engines)
    assert final["status"] == "done" and final["done"] == 8
    ids = [pid for name in folder.finished_shards()
           for pid in pd.read_parquet(folder.shard_paths(name)[1])["problem_id"]]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 8
    listed = {r["job_id"]: r for r in jobs.list_jobs()}[run_id]
    assert listed["kind"] == kind and listed["percent"] == 100.0


def test_progress_within_a_step_and_the_time_left_from_the_first_measured_batch(tiny_llama, monkeypatch):
    run_id = _run_folder("debate", tiny_llama)
    folder = debate_job.RunFolder(run_id)
    engine = _engine(tiny_llama, monkeypatch)
    seen: list[dict] = []
    # Read the progress file while the first micro-batch of step 1 is generated (its 3rd token), and again in
    # the third: the step is one engine call, and a run used to say "loading the engine" until it ended.
    original = engine.model.forward
    calls = {"n": 0}

    def forward(*args, **kwargs):
        if "attention_mask" not in kwargs:  # a prompt prefilled on its own (no token generated)
            return original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2 * MAX_TOKENS + 1:
            time.sleep(0.6)  # past the progress file's half-second throttle, so this token is written
        if calls["n"] in (3, 2 * MAX_TOKENS + 3):
            seen.append(folder.progress())
        return original(*args, **kwargs)

    monkeypatch.setattr(engine.model, "forward", forward)
    engines = {key: engine for key in DebateConfig.from_dict(folder.meta()["config"]).engine_specs()}
    assert jobs.run_job(run_id, engines=engines)["status"] == "done"
    early, later = seen
    assert early["stage"].startswith("chunk 1/1: step 1") and "loading" not in early["stage"]
    assert "4/8 requests done" in later["stage"]  # two of the step's four micro-batches
    assert 0 < early["fraction"] < later["fraction"] < 1
    assert run_eta(later, later["measured_at"]) is not None  # measured before the step (the round) ended


def test_engine_reports_requests_done_and_stops_between_tokens(tiny_llama, monkeypatch):
    engine = _engine(tiny_llama, monkeypatch)
    from agentark.backends import ChatRequest

    requests = [ChatRequest([{"role": "user", "content": f"What is {i} + 1?"}], max_tokens=4) for i in range(5)]
    reports: list[tuple[float, int]] = []
    with watching(BatchWatch(lambda done, total: reports.append((done, total)))):
        with share_of(10, 15):
            engine.generate(requests)
    dones = [d for d, _ in reports]
    assert dones == sorted(dones) and dones[-1] == 15 and {t for _, t in reports} == {15}
    assert 10 < dones[0] < 11  # the first token of the first micro-batch already counts


def _segmented_store(agentark_home):
    store = debate_store(agentark_home / "agentark.duckdb")
    segment_runs(store, None, SegmentConfig())
    return store


def test_monte_carlo_labeling_stops_inside_a_rollout_batch_and_keeps_finished_chunks(
        tiny_llama, monkeypatch, agentark_home):
    store = _segmented_store(agentark_home)
    cfg = mc.MCConfig(engine="transformers", model=str(tiny_llama), k=2, max_tokens=MAX_TOKENS, chunk_size=4)
    job_id = jobs.create(montecarlo_job.KIND, cfg, store=store).job_id
    folder = montecarlo_job.MCFolder(job_id)
    targets = len(folder.targets())
    assert targets > 4
    engine = _engine(tiny_llama, monkeypatch)
    # The first chunk (4 prefixes x 2 rollouts in micro-batches of 2 = 4 x 8 passes) finishes; stop in the second.
    forwards = Forwards(engine, monkeypatch, at=4 * MAX_TOKENS + 3, stop=folder.request_cancel)
    final = jobs.run_job(job_id, engine=engine)
    assert final["status"] == "stopped" and forwards.after_stop <= 1
    assert final["done"] == 4 and len(folder.finished_shards("labels")) == 1  # the finished chunk stays
    row = {r["job_id"]: r for r in jobs.list_jobs()}[job_id]
    assert row["stage"] == "stopped on request" and row["title"] == "Monte-Carlo labels"
    monkeypatch.setattr(engine, "max_batch_size", 64)
    final = jobs.run_job(job_id, engine=engine)
    assert final["status"] == "done" and final["done"] == targets and final["stage"] == "finished"
    store.refresh()
    assert q.count_labels(store, mc.SOURCE) == targets


class BatchScorer:
    """A stand-in PRM that counts its forward batches and asks for a stop during the first."""

    def __init__(self, stop) -> None:
        self.batches, self.stop = [], stop

    def score(self, items):
        self.batches.append(len(items))
        if len(self.batches) == 1 and self.stop:
            self.stop()
        return [[0.9 for _ in steps] for _, steps in items]


def test_prm_labeling_stops_after_the_forward_batch_in_flight_and_stores_it(tmp_path, agentark_home):
    store = _segmented_store(agentark_home)
    prm = tmp_path / "prm"
    prm.mkdir()
    (prm / "agentark_prm.json").write_text(json.dumps({"format": "agentark-prm"}))
    job_id = jobs.create(PRM_LABEL, PRMLabelConfig(model=str(prm), chunk_size=256, batch_size=1), store=store).job_id
    folder = PRMLabelFolder(job_id)
    total = folder.progress()["total"]
    scorer = BatchScorer(folder.request_cancel)
    final = jobs.run_job(job_id, scorer=scorer)
    # One chunk of every trajectory: before, the whole chunk was one call and a stop waited for all of it.
    assert final["status"] == "stopped" and scorer.batches == [1] and final["done"] == 1 < total
    assert len(folder.finished_shards("labels")) == 1  # the scored trajectory is kept
    final = jobs.run_job(job_id, scorer=BatchScorer(None))
    assert final["status"] == "done" and final["done"] == total
    store.refresh()
    assert q.count_labels(store, "auto:prm") == len(q.steps_in_context(store))


@pytest.mark.parametrize("kind", ["sft", "prm", "pad"])
def test_training_stops_after_the_micro_batch_in_flight_keeping_the_last_whole_step(kind, tiny_llama, tmp_path):
    from agentark.train.pad import PADJobConfig
    from agentark.train.prm import PRMConfig
    from agentark.train.sft import SFTJobConfig

    common = dict(base_model=str(tiny_llama), max_steps=3, per_device_batch_size=1, gradient_accumulation_steps=4,
                  learning_rate=1e-3)
    if kind == "sft":
        cfg = SFTJobConfig(export=sft_export(tmp_path / "x.parquet"), **common)
    elif kind == "prm":
        cfg = PRMConfig(export=prm_export(tmp_path / "x.parquet"), **common)
    else:
        # GRPO samples a group of 4 completions per problem, then trains on them one micro-batch at a time.
        cfg = PADJobConfig(prm="unused", prm_weight=0, limit=4, num_generations=4, max_completion_length=8, **common)
    job_id = jobs.create(kind, cfg).job_id
    _, folder = jobs.find(job_id)
    # Asked while step 1 is reported: the trainer stops after the next micro-batch (a quarter of step 2), not
    # after step 2's four; the checkpoint is step 1's, the last whole optimizer step.
    final = jobs.run_job(job_id, on_progress=lambda done, total: done >= 1 and folder.request_cancel())
    assert final["status"] == "stopped" and last_checkpoint(folder.path).name == "checkpoint-1"
    final = jobs.run_job(job_id)
    assert final["status"] == "done" and final["done"] == final["total"] == 3


def test_an_sft_job_given_epochs_counts_to_the_trainers_own_total(tiny_llama, tmp_path):
    from agentark.train.sft import SFTJobConfig

    cfg = SFTJobConfig(export=sft_export(tmp_path / "x.parquet"), base_model=str(tiny_llama), epochs=2,
                       max_steps=None, per_device_batch_size=4, learning_rate=1e-3)
    job_id = jobs.create("sft", cfg).job_id
    seen = []
    final = jobs.run_job(job_id, on_progress=lambda done, total: seen.append((done, total)))
    assert seen and all(total == 4 for _, total in seen)  # 8 rows / 4 per step x 2 epochs, never 0
    assert final["done"] == final["total"] == 4
    assert {r["job_id"]: r for r in jobs.list_jobs()}[job_id]["percent"] == 100.0
