"""Each method against a scripted engine: who spoke, in which round and role, and who saw what."""
from __future__ import annotations

import pytest

from agentark.debate import debate_job
from agentark.backends.base import ChatRequest
from agentark.backends.scripted import ScriptedEngine
from agentark.debate import AgentSpec, DebateConfig, run_chunk
from agentark.errors import ConfigError
from agentark.store import Store, run_tables
from agentark.tasks import Problem


def problems(n: int) -> list[Problem]:
    return [Problem(f"p{i}", "test", "test", f"What is {i} plus {i}?", str(2 * i)) for i in range(n)]


def last(request: ChatRequest) -> str:
    return request.messages[-1]["content"]


def test_self_consistency_samples_k_and_votes():
    answers = iter(["The answer is 4.", "The answer is 5.", "The answer is 4.", "The answer is 9.", "The answer is 5."])
    engine = ScriptedEngine(lambda r: next(answers))
    # 4 and 5 get two votes each: Du et al.'s first-agent tie-break decides (by default a tie has no answer).
    cfg = DebateConfig(method="self_consistency", agents=5, first_agent_tie_break=True)
    result = run_chunk(problems(1), cfg, "r", engines={"default": engine})
    assert [len(c) for c in engine.calls] == [5]
    # Every sample saw the same single prompt, and nobody saw anyone else.
    assert all(len(r.messages) == 1 and r.messages == engine.calls[0][0].messages for r in engine.calls[0])
    assert [(m["agent"], m["round"], m["role"]) for m in result.messages] == [
        (f"agent_{i}", 1, "solver") for i in range(1, 6)]
    assert result.outcomes[0]["final_answer"] == "4"
    with pytest.raises(ConfigError, match="answers once"):
        DebateConfig(method="self_consistency", rounds=2)


def test_debate_early_stop_when_all_agents_agree():
    engine = ScriptedEngine(lambda r: "The answer is 2.")
    cfg = DebateConfig(method="debate", agents=3, rounds=3, early_stop=True)
    result = run_chunk(problems(2), cfg, "r", engines={"default": engine})
    assert [len(c) for c in engine.calls] == [6]
    assert {m["round"] for m in result.messages} == {1}
    engine = ScriptedEngine(lambda r: "The answer is 2.")
    run_chunk(problems(2), DebateConfig(method="debate", agents=3, rounds=3), "r", engines={"default": engine})
    assert [len(c) for c in engine.calls] == [6, 6, 6]


def mad_script(judge_continue_rounds: int):
    def responder(r: ChatRequest) -> str:
        text = last(r)
        if "moderate a debate" in text:
            rounds = text.count("affirmative:\n")
            if rounds <= judge_continue_rounds and "The debate is over" not in text:
                return "Both sides have a point.\nCONTINUE"
            return "The negative side is right.\nThe answer is 6."
        if "negative side" in text or "You are the negative" in r.messages[0]["content"]:
            return "The affirmative forgot to double. The answer is 6."
        return "I say 5. The answer is 5."
    return responder


def test_mad_affirmative_negative_and_judge_who_saw_what():
    engine = ScriptedEngine(mad_script(judge_continue_rounds=1))
    cfg = DebateConfig(method="mad", rounds=3)
    result = run_chunk([Problem("p3", "t", "t", "What is 3 plus 3?", "6")], cfg, "r", engines={"default": engine})
    spoken = [(m["agent"], m["round"], m["role"]) for m in result.messages]
    assert spoken == [("affirmative", 1, "solver"), ("negative", 1, "solver"), ("judge", 1, "judge"),
                      ("affirmative", 2, "solver"), ("negative", 2, "solver"), ("judge", 2, "judge")]
    calls = [c[0] for c in engine.calls]
    aff1, neg1, judge1, aff2, neg2, judge2 = calls
    # The negative side sees the affirmative's argument; the affirmative then sees the negative's reply.
    assert "I say 5" in last(neg1) and "forgot to double" in last(aff2)
    # The judge reads the whole debate so far, and decides after round 2.
    assert "I say 5" in last(judge1) and "forgot to double" in last(judge1) and "CONTINUE" in last(judge1)
    assert last(judge2).count("Round") == 4
    assert result.outcomes[0]["final_answer"] == "6" and result.outcomes[0]["is_correct"]


def test_mad_judge_must_decide_after_the_last_round():
    engine = ScriptedEngine(mad_script(judge_continue_rounds=10))
    result = run_chunk(problems(1), DebateConfig(method="mad", rounds=2), "r", engines={"default": engine})
    judges = [m for m in result.messages if m["role"] == "judge"]
    assert [j["round"] for j in judges] == [1, 2]
    assert "The debate is over" in last(engine.calls[-1][0])
    engine = ScriptedEngine(mad_script(judge_continue_rounds=10))
    cfg = DebateConfig(method="mad", rounds=2, method_options={"judge_every_round": False})
    result = run_chunk(problems(1), cfg, "r", engines={"default": engine})
    assert [m["round"] for m in result.messages if m["role"] == "judge"] == [2]


def test_critique_revise_until_critics_accept():
    def responder(r: ChatRequest) -> str:
        text = last(r)
        if "You review solutions" in text:
            return "Solution 1 is right.\nACCEPT" if "Fixed" in text else "solver_2 added wrong.\nREVISE"
        if "Reviewers commented" in text:
            assert "solver_2 added wrong" in text
            return "Fixed. The answer is 6."
        return "The answer is 6."

    engine = ScriptedEngine(responder)
    cfg = DebateConfig(method="critique", agents=2, rounds=4, method_options={"critics": 2})
    result = run_chunk([Problem("p3", "t", "t", "What is 3 plus 3?", "6")], cfg, "r", engines={"default": engine})
    spoken = [(m["agent"], m["round"], m["role"]) for m in result.messages]
    assert spoken == [("solver_1", 1, "solver"), ("solver_2", 1, "solver"), ("critic_1", 1, "critic"),
                      ("critic_2", 1, "critic"), ("solver_1", 2, "solver"), ("solver_2", 2, "solver"),
                      ("critic_1", 2, "critic"), ("critic_2", 2, "critic")]
    # Critics see every solver's latest solution; solvers see the critiques plus their own history.
    critic_prompt = last(engine.calls[1][0])
    assert "solver_1's solution" in critic_prompt and "solver_2's solution" in critic_prompt
    revise = engine.calls[2][0].messages
    assert [m["role"] for m in revise] == ["user", "assistant", "user"]
    assert result.outcomes[0]["final_answer"] == "6"
    with pytest.raises(ConfigError, match="critics must be at least 1"):
        DebateConfig(method="critique", method_options={"critics": 0})
    with pytest.raises(ConfigError, match="no option"):
        DebateConfig(method="critique", method_options={"judges": 1})


def test_debate_with_aggregator_is_recorded_with_its_role():
    engine = ScriptedEngine(lambda r: "The answer is 2.")
    result = run_chunk(problems(1), DebateConfig(agents=2, rounds=2, aggregator=True), "r", engines={"default": engine})
    assert [(m["agent"], m["round"], m["role"]) for m in result.messages][-1] == ("aggregator", 3, "aggregator")


def test_per_agent_models_and_system_prompts_are_used_and_recorded():
    cfg = DebateConfig(
        method="debate", agents=3, rounds=2, limit=2, engine="scripted", model="tests.scripted:first_number",
        agent_specs=[AgentSpec(model="tests.scripted:echo_round", system="You are a careful checker."),
                     AgentSpec(engine="scripted", model="tests.scripted:first_number", system="You are bold.")],
    )
    keys = cfg.engine_specs()
    assert set(keys) == {"default", "scripted|tests.scripted:echo_round"}
    assert cfg.models() == ["tests.scripted:first_number", "tests.scripted:echo_round"]
    seen: dict[str, list] = {"default": [], "other": []}
    engines = {
        "default": ScriptedEngine(lambda r: seen["default"].append(r) or "The answer is 1."),
        "scripted|tests.scripted:echo_round": ScriptedEngine(lambda r: seen["other"].append(r) or "The answer is 2."),
    }
    engines["default"].model_id = "tests.scripted:first_number"
    engines["scripted|tests.scripted:echo_round"].model_id = "tests.scripted:echo_round"
    result = run_chunk(problems(1), cfg, "r", engines=engines)
    by_agent = {m["agent"]: m["model"] for m in result.messages}
    assert by_agent == {"agent_1": "tests.scripted:echo_round", "agent_2": "tests.scripted:first_number",
                        "agent_3": "tests.scripted:first_number"}
    assert len(seen["other"]) == 2 and len(seen["default"]) == 4
    assert all(r.messages[0] == {"role": "system", "content": "You are a careful checker."} for r in seen["other"])
    systems = [r.messages[0]["content"] for r in seen["default"] if r.messages[0]["role"] == "system"]
    assert systems == ["You are bold.", "You are bold."]
    # The same config through a real job: both models are stored, per message and on the run.
    run_id, _ = debate_job.create_debate_run(cfg)
    debate_job.run_debate_job(run_id)
    with Store() as store:
        store.refresh()
        models = store.df("SELECT agent, any_value(model) AS model FROM messages WHERE run_id = ? GROUP BY agent "
                          "ORDER BY agent", [run_id])
        assert models["model"].tolist() == ["tests.scripted:echo_round", "tests.scripted:first_number",
                                            "tests.scripted:first_number"]
        assert run_tables.get_run(store, run_id)["model"] == "tests.scripted:first_number, tests.scripted:echo_round"


def test_too_many_agent_models_names_the_speakers():
    with pytest.raises(ConfigError, match="affirmative, negative, judge"):
        DebateConfig(method="mad", agent_specs=[AgentSpec(model="m")] * 4)
    with pytest.raises(ConfigError, match="ENGINE=MODEL"):
        AgentSpec.parse("openai=")
    assert AgentSpec.parse("openai=llama") == AgentSpec(engine="openai", model="llama")
    assert AgentSpec.parse("some/model") == AgentSpec(model="some/model")
