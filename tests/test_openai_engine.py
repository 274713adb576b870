"""The OpenAI-compatible engine against a real HTTP server on 127.0.0.1 (tests/openai_server.py)."""
from __future__ import annotations

import json

import pytest

from agentark.debate import debate_job
from agentark.backends import EngineSpec, create_engine
from agentark.backends.base import ChatRequest
from agentark.backends.openai_engine import OpenAIEngine
from agentark.debate import DebateConfig
from agentark.errors import EngineError
from agentark.debate.debate_job import RunFolder
from agentark.store import Store, run_tables
from tests.openai_server import OpenAIServer, Reply


def req(text: str) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": text}], max_tokens=32, temperature=0.0, seed=1)


def engine(server: OpenAIServer | list[OpenAIServer], **kw) -> OpenAIEngine:
    servers = server if isinstance(server, list) else [server]
    kw.setdefault("backoff_s", 0.0)
    return OpenAIEngine("served-model", base_urls=[s.base_url for s in servers], **kw)


def test_completions_and_usage_token_counts():
    with OpenAIServer() as server:
        out = engine(server).generate([req("Problem: 7 apples"), req("Problem: 9 pears")])
    assert [c.text for c in out] == ["Reading the problem.\nThe answer is 7.", "Reading the problem.\nThe answer is 9."]
    assert all(c.ok and c.prompt_tokens == 11 and c.completion_tokens == 7 and c.model == "served-model" for c in out)
    body = server.requests[0]
    assert body["model"] == "served-model" and body["max_tokens"] == 32 and body["messages"][0]["role"] == "user"
    # Requests of one batch get distinct seeds, so k samples of the same prompt are not identical.
    assert sorted(r["seed"] for r in server.requests) == [1, 2]


def test_requests_really_overlap_up_to_the_concurrency_limit():
    with OpenAIServer(latency_s=0.2) as server:
        engine(server, concurrency=8).generate([req(f"Problem: {i}") for i in range(16)])
    assert server.max_in_flight == 8
    with OpenAIServer(latency_s=0.02) as server:
        engine(server, concurrency=1).generate([req(f"Problem: {i}") for i in range(4)])
    assert server.max_in_flight == 1


def test_load_is_spread_over_several_base_urls():
    with OpenAIServer() as a, OpenAIServer() as b:
        engine([a, b], concurrency=4).generate([req(f"Problem: {i}") for i in range(10)])
    assert len(a.requests) == 5 and len(b.requests) == 5


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retries_on_429_and_5xx_then_succeeds(status):
    def flaky(body, attempt):
        return Reply(status=status, raw='{"error": "busy"}') if attempt < 2 else Reply(text="The answer is 3.")

    with OpenAIServer(flaky) as server:
        (c,) = engine(server, max_retries=3).generate([req("Problem: 3")])
    assert c.ok and c.text == "The answer is 3." and len(server.requests) == 3


def test_a_request_that_keeps_failing_comes_back_as_an_error_not_empty_text():
    with OpenAIServer(lambda body, attempt: Reply(status=500, raw="boom")) as server:
        (c,) = engine(server, max_retries=2).generate([req("Problem: 3")])
    assert not c.ok and c.text == "" and "HTTP 500" in c.error and "after 3 attempts" in c.error
    assert len(server.requests) == 3


def test_timeout_is_retried_and_then_reported():
    def slow_first(body, attempt):
        return Reply(text="The answer is 5.", delay_s=1.0 if attempt == 0 else 0.0)

    with OpenAIServer(slow_first) as server:
        (ok,) = engine(server, timeout_s=0.2, max_retries=1).generate([req("Problem: 5")])
    assert ok.ok and ok.text == "The answer is 5."
    with OpenAIServer(lambda body, attempt: Reply(delay_s=1.0)) as server:
        (bad,) = engine(server, timeout_s=0.2, max_retries=0).generate([req("Problem: 5")])
    assert not bad.ok and "timed out after 0.2 s" in bad.error


@pytest.mark.parametrize("raw", ["not json", '{"choices": []}', '{"choices": [{"message": {"content": null}}]}'])
def test_malformed_response_is_an_error(raw):
    with OpenAIServer(lambda body, attempt: Reply(raw=raw)) as server:
        (c,) = engine(server, max_retries=1).generate([req("Problem: 1")])
    assert not c.ok and "malformed response" in c.error and len(server.requests) == 2


def test_api_key_comes_from_the_environment_and_is_never_stored(monkeypatch):
    monkeypatch.setenv("MY_SERVER_KEY", "sk-secret-123")
    with OpenAIServer() as server:
        e = engine(server, api_key_env="MY_SERVER_KEY")
        e.generate([req("Problem: 1")])
        assert server.headers[0]["Authorization"] == "Bearer sk-secret-123"
        assert "sk-secret" not in json.dumps(e.describe())
        cfg = DebateConfig(method="cot", limit=1, engine="openai", model="served-model",
                           engine_options={"base_urls": [server.base_url], "api_key_env": "MY_SERVER_KEY"})
        run_id, _ = debate_job.create_debate_run(cfg)
        debate_job.run_debate_job(run_id)
    folder = RunFolder(run_id)
    for path in folder.path.rglob("*"):
        if path.is_file():
            assert b"sk-secret" not in path.read_bytes(), path


def test_missing_api_key_is_reported_with_the_fix(monkeypatch):
    monkeypatch.delenv("MY_SERVER_KEY", raising=False)
    with pytest.raises(EngineError, match="MY_SERVER_KEY is not set.*export MY_SERVER_KEY"):
        OpenAIEngine("m", base_urls=["http://127.0.0.1:1/v1"], api_key_env="MY_SERVER_KEY")
    cfg = DebateConfig(method="cot", limit=1, engine="openai", model="m",
                       engine_options={"base_urls": ["http://127.0.0.1:1/v1"], "api_key_env": "MY_SERVER_KEY"})
    with pytest.raises(EngineError, match="MY_SERVER_KEY is not set"):
        debate_job.create_debate_run(cfg)
    # A server that refuses the (absent) key says which variable to set, without retrying.
    with OpenAIServer(lambda body, attempt: Reply(status=401, raw='{"error": "no key"}')) as server:
        (c,) = engine(server).generate([req("Problem: 1")])
    assert "OPENAI_API_KEY" in c.error and len(server.requests) == 1


def test_bad_settings_name_the_fix():
    with pytest.raises(EngineError, match="--base-url"):
        create_engine(EngineSpec("openai", "m", {}), reuse=False)
    with pytest.raises(EngineError, match="http://"):
        OpenAIEngine("m", base_urls=["localhost:8000"])
    with pytest.raises(EngineError, match="--concurrency"):
        OpenAIEngine("m", base_urls=["http://h/v1"], concurrency=0)


def test_vllm_engine_without_vllm_names_the_install_step_and_the_server():
    pytest.importorskip("agentark.backends.vllm_engine")
    try:
        import vllm  # noqa: F401

        pytest.skip("vLLM is installed here")
    except ImportError:
        pass
    with pytest.raises(EngineError, match=r"pip install vllm.*--engine openai"):
        create_engine(EngineSpec("vllm", "some/model"), reuse=False)
    with pytest.raises(EngineError, match="pip install vllm"):
        debate_job.create_debate_run(DebateConfig(method="cot", limit=1, engine="vllm", model="some/model"))


def test_failed_requests_become_failed_messages_and_resume_retries_them():
    broken = {"on": True}

    def script(body, attempt):
        text = body["messages"][-1]["content"]
        if broken["on"] and "Problem:" in text and text.split("Problem:")[-1].strip()[:1] in "AEIOU":
            return Reply(status=500, raw="down")
        return Reply(text="Thinking.\nThe answer is 1.", prompt_tokens=20, completion_tokens=5)

    with OpenAIServer(script) as server:
        cfg = DebateConfig(method="debate", agents=2, rounds=1, limit=6, chunk_size=3, engine="openai",
                           model="served-model",
                           engine_options={"base_urls": [server.base_url], "max_retries": 1, "backoff_s": 0.0})
        run_id, report = debate_job.create_debate_run(cfg)
        failing = {p.problem_id for p in report.problems if p.question.strip()[:1] in "AEIOU"}
        assert failing and len(failing) < 6
        progress = debate_job.run_debate_job(run_id)
        assert progress["status"] == "failed" and "resume the run" in progress["error"]
        assert "HTTP 500" in progress["error"]
        folder = RunFolder(run_id)
        assert folder.failed_problem_ids() == failing
        with Store() as store:
            store.refresh()
            msgs = run_tables.messages(store, run_id)
            bad = msgs[msgs["problem_id"].isin(failing)]
            assert bad["error"].notna().all() and bad["is_correct"].isna().all() and (bad["content"] == "").all()
            broken["on"] = False
            progress = debate_job.run_debate_job(run_id)
            assert progress["status"] == "done" and progress["done"] == 6
            store.refresh()
            msgs = run_tables.messages(store, run_id)
            assert len(msgs) == 6 * 2 and msgs["error"].isna().all()
            assert msgs["message_id"].is_unique
            assert run_tables.count(store, "outcomes", run_id) == 6
            problems = run_tables.run_problems(store, run_id)
            # Cost accounting from the server's usage: 2 calls of 20 + 5 tokens per problem.
            assert (problems["prompt_tokens"] == 40).all() and (problems["completion_tokens"] == 10).all()
            assert (problems["engine_calls"] == 2).all() and (problems["wall_ms"] > 0).all()
