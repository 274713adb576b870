"""Why each message ended (stop / length / error): from every engine, into the store, through transcript
exports and imports, and onto the debate viewer."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from agentark.debate import debate_job
from agentark.backends.base import ChatRequest, Completion
from agentark.backends.openai_engine import OpenAIEngine
from agentark.backends.scripted import ScriptedEngine
from agentark.debate import DebateConfig
from agentark.store import Store, run_tables
from agentark.tasks import Problem, problem_id
from agentark.runs.formats import import_file
from agentark.runs.formats.transcript_jsonl import export_transcripts
from tests.conftest import ROOT
from tests.openai_server import OpenAIServer, Reply


def req(text: str, max_tokens: int = 32) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": text}], max_tokens=max_tokens)


def test_completion_reasons_are_checked_and_errors_always_end_with_error():
    assert Completion("x").finish_reason == "stop"
    assert Completion("", error="boom", finish_reason="stop").finish_reason == "error"
    with pytest.raises(ValueError, match="finish_reason"):
        Completion("x", finish_reason="eos")


def test_scripted_engine_cuts_at_max_tokens():
    engine = ScriptedEngine(lambda r: "one two three four five")
    long, short = engine.generate([req("q", max_tokens=3), req("q", max_tokens=5)])
    assert (long.text, long.completion_tokens, long.finish_reason) == ("one two three", 3, "length")
    assert (short.text, short.completion_tokens, short.finish_reason) == ("one two three four five", 5, "stop")


def _served(reason: str) -> Reply:
    return Reply(raw=json.dumps({"choices": [{"finish_reason": reason, "message": {"content": "The answer is"}}],
                                 "usage": {"prompt_tokens": 3, "completion_tokens": 32}}))


@pytest.mark.parametrize("reason, expected", [("length", "length"), ("stop", "stop"), ("content_filter", "stop")])
def test_openai_engine_keeps_the_servers_reason(reason, expected):
    with OpenAIServer(lambda body, attempt: _served(reason)) as server:
        out = OpenAIEngine("m", base_urls=[server.base_url], backoff_s=0.0).generate([req("q")])
    assert out[0].finish_reason == expected


def test_openai_engine_failure_ends_with_error():
    with OpenAIServer(lambda body, attempt: Reply(status=400, raw="bad")) as server:
        out = OpenAIEngine("m", base_urls=[server.base_url], backoff_s=0.0).generate([req("q")])
    assert not out[0].ok and out[0].finish_reason == "error"


@pytest.mark.model
def test_transformers_engine_tells_a_cut_reply_from_a_finished_one(embedded_model):
    from agentark.backends import EngineSpec, create_engine

    engine = create_engine(EngineSpec("transformers", "embedded:smollm2-135m"))
    cut, done = engine.generate([req("Say hi.", max_tokens=3), req("What is 2 + 3?", max_tokens=64)])
    assert cut.completion_tokens == 3 and cut.finish_reason == "length"
    assert done.completion_tokens < 64 and done.finish_reason == "stop"


def long_for_agent_1(request: ChatRequest) -> str:
    """Rambles past any small token limit on questions about 7; answers others in a few words."""
    question = request.messages[-1]["content"]
    if "7" in question:
        return "Let me think about this very long problem step by step and then " * 5
    return "7 + 7 = 14.\nThe answer is 14."


def _run(problems: list[Problem]) -> str:
    cfg = DebateConfig(method="cot", agents=1, rounds=1, max_tokens=12, engine="scripted",
                       model="tests.test_finish_reason:long_for_agent_1")
    run_id, _ = debate_job.create_debate_run(cfg, problems)
    debate_job.run_debate_job(run_id)
    return run_id


def test_reasons_reach_the_store_and_survive_a_transcript_round_trip(tmp_path):
    # Ids as loaders make them (the question's): a transcripts import takes a problem's id from its question.
    p7, p2 = problem_id("What is 7 + 7?"), problem_id("What is 2 + 2?")
    problems = [Problem(p7, "t", "test", "What is 7 + 7?", "14"), Problem(p2, "t", "test", "What is 2 + 2?", "4")]
    run_id = _run(problems)
    with Store() as store:
        store.refresh()
        stored = run_tables.messages(store, run_id).set_index("problem_id")["finish_reason"].to_dict()
        assert stored == {p7: "length", p2: "stop"}
        out = tmp_path / "run.jsonl"
        export_transcripts(store, run_id, out)
        assert [json.loads(line)["finish_reason"] for line in out.read_text().splitlines()] == ["length", "stop"]
        copy = out.read_text().replace(run_id, "copy")
        (tmp_path / "copy.jsonl").write_text(copy)
        import_file(store, "transcripts", tmp_path / "copy.jsonl")
        assert run_tables.messages(store, "copy").set_index("problem_id")["finish_reason"].to_dict() == stored


def test_du2023_imports_have_an_unknown_reason(tmp_path):
    path = tmp_path / "du.json"
    path.write_text(json.dumps({"What is 1 + 1?": [[[{"role": "user", "content": "q"},
                                                      {"role": "assistant", "content": "The answer is 2."}]], "2"]}))
    with Store() as store:
        report = import_file(store, "du2023", path)
        assert run_tables.messages(store, report.run_id)["finish_reason"].isna().all()


def test_viewer_marks_truncated_messages():
    run_id = _run([Problem("p7", "t", "test", "What is 7 + 7?", "14")])
    with Store() as store:
        store.refresh()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.switch_page("pages/2_transcripts.py")
    at.query_params["run"] = run_id
    at.query_params["problem"] = "p7"
    at.run()
    assert not at.exception, at.exception
    assert any("cut off at the token limit" in m.value for m in at.markdown)
