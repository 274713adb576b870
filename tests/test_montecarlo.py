"""Monte-Carlo step labels: batched rollouts, shards ingested once, resume, and a run on the embedded model."""
from __future__ import annotations

import pytest

from agentark import jobs
from agentark.debate import debate_job
from agentark.labels import montecarlo as mc
from agentark.labels import montecarlo_job
from agentark.backends.scripted import ScriptedEngine
from agentark.debate import DebateConfig
from agentark.errors import ConfigError
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import Store
from agentark.store import label_tables as q
from tests.scripted_steps import rollout


def _debated_store(limit: int = 2) -> tuple[Store, str]:
    run_id, _ = debate_job.create_debate_run(
        DebateConfig(limit=limit, engine="scripted", model="tests.scripted_steps:wrong_then_right"))
    debate_job.run_debate_job(run_id)
    store = Store()
    store.refresh()
    segment_runs(store, [run_id], SegmentConfig())
    return store, run_id


def test_rollouts_batch_every_prefix_in_one_call_per_round_and_label_soft_and_hard():
    with _debated_store()[0] as store:
        cfg = mc.MCConfig(engine="scripted", model="tests.scripted_steps:rollout", k=3, chunk_size=1000)
        job_id = jobs.create(montecarlo_job.KIND, cfg, store=store).job_id
        targets = montecarlo_job.MCFolder(job_id).targets()
        engine = ScriptedEngine(rollout)
        montecarlo_job.run_mc_job(job_id, engine=engine)
        assert [len(c) for c in engine.calls] == [len(targets)] * 3  # k calls, each with every prefix
        assert all(r.assistant_prefix for r in engine.calls[0])
        assert store.refresh() == 1 and store.refresh() == 0
        labels = q.labels_in_force(store, sources=["auto:mc"]).merge(q.steps_in_context(store), on="step_id")
        assert len(labels) == len(targets)
        wrong_first = labels[(labels["round"] == 1) & (labels["idx"] == 0)]
        assert (wrong_first["value"] == -1).all() and (wrong_first["soft_value"] == 0).all()
        right = labels[labels["round"] == 2]
        assert (right["value"] == 1).all() and (right["soft_value"] == 1).all()
        with pytest.raises(ConfigError, match="already has a Monte-Carlo label"):
            jobs.create(montecarlo_job.KIND, cfg, store=store)


def _rollout_job(store, chunk_size: int) -> tuple[str, int]:
    """A Monte-Carlo job (k=2) over the debated store's steps: its id and how many steps it labels."""
    cfg = mc.MCConfig(engine="scripted", model="tests.scripted_steps:rollout", k=2, chunk_size=chunk_size)
    job_id = jobs.create(montecarlo_job.KIND, cfg, store=store).job_id
    return job_id, len(montecarlo_job.MCFolder(job_id).targets())


def test_job_resumes_after_an_interruption():
    with _debated_store()[0] as store:
        job_id, total = _rollout_job(store, chunk_size=5)

        class Dies(ScriptedEngine):
            def generate(self, requests):
                if len(self.calls) == 2:  # the second chunk's first round
                    raise KeyboardInterrupt
                return super().generate(requests)

        with pytest.raises(KeyboardInterrupt):
            montecarlo_job.run_mc_job(job_id, engine=Dies(rollout))
        folder = montecarlo_job.MCFolder(job_id)
        assert folder.status() == "interrupted" and len(folder.done_step_ids()) == 5
        engine = ScriptedEngine(rollout)
        assert montecarlo_job.run_mc_job(job_id, engine=engine)["done"] == total
        assert sum(len(c) for c in engine.calls) == (total - 5) * 2  # only what was left
        store.refresh()
        assert q.count_labels(store, "auto:mc", job_id) == total


def test_failed_rollouts_fail_the_chunk_instead_of_counting_as_wrong():
    from agentark.backends.base import Completion
    from agentark.errors import EngineError

    with _debated_store()[0] as store:
        job_id, total = _rollout_job(store, chunk_size=1000)

        class Flaky(ScriptedEngine):
            def generate(self, requests):
                good = super().generate(requests)
                return [Completion("", error="HTTP 503: busy") if i == 0 else c for i, c in enumerate(good)]

        with pytest.raises(EngineError, match="1 of .* rollouts failed .*HTTP 503.* resume the job"):
            montecarlo_job.run_mc_job(job_id, engine=Flaky(rollout))
        folder = montecarlo_job.MCFolder(job_id)
        assert folder.status() == "failed" and "rollouts failed" in folder.progress()["error"]
        assert folder.done_step_ids() == set() and store.refresh() == 0  # nothing of the chunk was stored
        assert montecarlo_job.run_mc_job(job_id, engine=ScriptedEngine(rollout))["done"] == total
        store.refresh()
        assert q.count_labels(store, "auto:mc", job_id) == total


def test_bad_config_names_the_fix():
    with pytest.raises(ConfigError, match="Math-Shepherd"):
        mc.MCConfig(k=0)


@pytest.mark.model
def test_monte_carlo_labels_on_the_embedded_model(embedded_model):
    store, run_id = _debated_store(limit=1)
    with store:
        cfg = mc.MCConfig(run_ids=[run_id], k=2, max_tokens=8, temperature=0.8, chunk_size=64)
        job_id = jobs.create(montecarlo_job.KIND, cfg, store=store).job_id
        montecarlo_job.run_mc_job(job_id)
        store.refresh()
        labels = q.labels_in_force(store, [run_id], ["auto:mc"])
        assert len(labels) == len(montecarlo_job.MCFolder(job_id).targets()) > 0
        assert set(labels["soft_value"]) <= {0.0, 0.5, 1.0} and set(labels["value"]) <= {-1.0, 1.0}
