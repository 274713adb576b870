"""The whole loop on the embedded model, as short as it can be: a studio debate, steps, labels, exports, then
one job of each kind (PRM, SFT, PAD with that PRM) for a step on the embedded model, and the students
answering a debate by their studio ids."""
from __future__ import annotations

import pytest

import agentark.jobs  # noqa: F401  (registers every kind)
from agentark.debate import AgentSpec, DebateConfig
from agentark.training_sets import ExportConfig, export, list_exports
from agentark.debate.debate_job import create_debate_run, run_debate_job
from agentark.jobs import create, run_job
from agentark.labels.auto_labelers import AutoLabelConfig, run_auto_labelers
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import Store, run_tables
from agentark.store.model_tables import get_model
from agentark.train.pad import PADJobConfig
from agentark.train.prm import PRMConfig
from agentark.train.sft import SFTJobConfig

pytestmark = [pytest.mark.model, pytest.mark.slow]
DATASET = "builtin:arithmetic-onestep"


@pytest.mark.timeout(600)
def test_each_kind_trains_from_a_studio_export_and_the_students_debate(embedded_model):
    # The teacher is scripted (round 1 wrong, round 2 right), so the exports always hold rows; the studio still
    # debates, segments, labels and exports it, and every model trained below is the embedded one.
    teacher, _ = create_debate_run(DebateConfig(method="debate", limit=4, engine="scripted",
                                                model="tests.scripted_steps:wrong_then_right"))
    run_debate_job(teacher)
    with Store() as store:
        store.refresh()
        segment_runs(store, [teacher], SegmentConfig())
        run_auto_labelers(store, AutoLabelConfig([teacher]))
        prm_export = export(store, ExportConfig(kind="prm", run_ids=[teacher]))
        da_export = export(store, ExportConfig(kind="da", run_ids=[teacher]))
        exports = list_exports(store)
    assert prm_export.n_rows > 0 and da_export.n_rows > 0

    short = dict(max_steps=1, per_device_batch_size=2, save_steps=1)
    prm = create("prm", PRMConfig(export=prm_export.sha256[:12], max_length=256, **short), exports=exports).job_id
    sft = create("sft", SFTJobConfig(export=da_export.export_id, max_length=256, **short), exports=exports).job_id
    for job in (prm, sft):
        assert run_job(job)["status"] == "done"
    pad = create("pad", PADJobConfig(dataset=DATASET, limit=2, base_model=sft, prm=prm, num_generations=2,
                                     max_completion_length=16, beta=0.0, **short)).job_id
    progress = run_job(pad)
    assert progress["status"] == "done" and progress["model_id"] == pad

    with Store() as store:
        store.refresh()
        for job, kind, sha in ((prm, "prm", prm_export.sha256), (sft, "sft", da_export.sha256), (pad, "pad", None)):
            row = get_model(store, job)
            assert row["kind"] == kind and row["export_sha256"] == sha and row["step"] == 1
        assert get_model(store, pad)["base_model"] == sft

    # The students take part in a debate by their studio ids, one agent each.
    run_id, _ = create_debate_run(DebateConfig(method="debate", dataset=DATASET, split="test", limit=1, agents=2,
                                               rounds=1, max_tokens=8, temperature=0.0,
                                               agent_specs=[AgentSpec(model=sft), AgentSpec(model=pad)]))
    assert run_debate_job(run_id)["status"] == "done"
    with Store() as store:
        store.refresh()
        messages = run_tables.messages(store, run_id)
    assert sorted(messages["model"]) == sorted([sft, pad])
    assert messages["error"].isna().all() and (messages["completion_tokens"] > 0).all()
