"""Every method end to end on the real embedded model, for a few built-in problems, through a job and the store."""
from __future__ import annotations

import pytest

from agentark.debate import debate_job
from agentark.debate import AgentSpec, DebateConfig
from agentark.store import Store, run_tables

pytestmark = pytest.mark.model

CASES = {
    "cot": ({}, {("agent_1", "solver")}),
    "self_consistency": ({"agents": 3}, {("agent_1", "solver"), ("agent_2", "solver"), ("agent_3", "solver")}),
    "debate": ({"agents": 2, "rounds": 2, "aggregator": True},
               {("agent_1", "solver"), ("agent_2", "solver"), ("aggregator", "aggregator")}),
    "mad": ({"rounds": 2, "method_options": {"judge_every_round": False}},
            {("affirmative", "solver"), ("negative", "solver"), ("judge", "judge")}),
    "critique": ({"agents": 2, "rounds": 2}, {("solver_1", "solver"), ("solver_2", "solver"), ("critic_1", "critic")}),
}


SLOW = {"debate", "mad", "critique"}  # over 10 s on CI


@pytest.mark.parametrize("method", [pytest.param(m, marks=pytest.mark.slow) if m in SLOW else m for m in sorted(CASES)])
@pytest.mark.timeout(300)
def test_method_runs_end_to_end_on_the_embedded_model(method, embedded_model):
    extra, expected_speakers = CASES[method]
    cfg = DebateConfig(method=method, limit=2, max_tokens=48, temperature=0.0, **extra)
    run_id, _ = debate_job.create_debate_run(cfg)
    assert debate_job.run_debate_job(run_id)["status"] == "done"
    with Store() as store:
        store.refresh()
        msgs = run_tables.messages(store, run_id)
        speakers = set(zip(msgs["agent"], msgs["role"]))
        assert expected_speakers <= speakers
        assert msgs["error"].isna().all() and (msgs["completion_tokens"] > 0).all()
        assert set(msgs["model"]) == {"embedded:smollm2-135m"}
        problems = run_tables.run_problems(store, run_id)
        assert len(problems) == 2 and problems["engine_calls"].gt(0).all()
        assert (problems["prompt_tokens"] > 0).all() and (problems["wall_ms"] > 0).all()


@pytest.mark.slow
def test_two_models_in_one_debate_are_both_recorded(embedded_model):
    # A second "model": the same weights from their folder, a different model string and engine key.
    folder = str(embedded_model)
    cfg = DebateConfig(method="debate", agents=2, rounds=2, limit=2, max_tokens=32, temperature=0.0,
                       agent_specs=[AgentSpec(model=folder, system="You are a careful mathematician.")])
    run_id, _ = debate_job.create_debate_run(cfg)
    debate_job.run_debate_job(run_id)
    with Store() as store:
        store.refresh()
        msgs = run_tables.messages(store, run_id)
        by_agent = msgs.groupby("agent")["model"].unique().to_dict()
        assert list(by_agent["agent_1"]) == [folder] and list(by_agent["agent_2"]) == ["embedded:smollm2-135m"]
