"""CLI: a debate against served replicas (--engine openai, repeated --base-url), per-agent models, methods."""
from __future__ import annotations


from agentark.cli import main
from agentark.store import Store, run_tables
from tests.openai_server import OpenAIServer


def run_id_of(out: str) -> str:
    return out.split()[1].rstrip(":")


def test_debate_over_two_replicas_with_concurrency(capsys):
    with OpenAIServer(latency_s=0.05) as a, OpenAIServer(latency_s=0.05) as b:
        code = main(["debate", "--limit", "4", "--agents", "3", "--rounds", "2", "--engine", "openai",
                     "--base-url", a.base_url, "--base-url", b.base_url, "--model", "served-model",
                     "--concurrency", "6"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert len(a.requests) + len(b.requests) == 4 * 3 * 2 and a.requests and b.requests
    assert a.max_in_flight + b.max_in_flight > 2
    with Store() as store:
        run = run_tables.get_run(store, run_id_of(out))
        assert run["config"]["engine_options"] == {"base_urls": [a.base_url, b.base_url], "concurrency": 6}
        costs = run_tables.run_problems(store, run["run_id"])
        assert (costs["engine_calls"] == 6).all() and (costs["prompt_tokens"] == 6 * 11).all()


def test_failed_requests_exit_1_with_the_resume_command(capsys):
    from tests.openai_server import Reply

    with OpenAIServer(lambda body, attempt: Reply(status=503, raw="busy")) as server:
        code = main(["debate", "--limit", "2", "--method", "cot", "--engine", "openai", "--base-url",
                     server.base_url, "--model", "m", "--max-retries", "0"])
    err = capsys.readouterr().err
    assert code == 1 and "HTTP 503" in err and "--run-id" in err


def test_agent_models_systems_method_options_and_columns(tmp_path, capsys):
    data = tmp_path / "q.csv"
    data.write_text("qid,prompt,gold\na,What is 2 plus 2?,4\nb,What is 3 plus 3?,6\n")
    code = main(["debate", "--dataset", str(data), "--question-col", "prompt", "--answer-col", "gold", "--id-col", "qid",
                 "--method", "critique", "--agents", "2", "--rounds", "2", "--critics", "1", "--early-stop",
                 "--engine", "scripted", "--model", "tests.scripted:first_number",
                 "--agent-model", "scripted=tests.scripted:echo_round", "--agent-system", "You are terse."])
    out = capsys.readouterr().out
    assert code == 0, out
    with Store() as store:
        run = run_tables.get_run(store, run_id_of(out))
        cfg = run["config"]
        assert cfg["method_options"] == {"critics": 1} and cfg["early_stop"] is True
        assert cfg["columns"] == {"question": "prompt", "answer": "gold", "id": "qid"}
        assert cfg["agent_specs"][0]["model"] == "tests.scripted:echo_round"
        assert cfg["agent_specs"][0]["system"] == "You are terse."
        msgs = run_tables.messages(store, run["run_id"])
        assert set(msgs["model"]) == {"tests.scripted:echo_round", "tests.scripted:first_number"}
        # A problem's id follows its question (issue 16), not the file's id column: two questions, two problems.
        assert len(set(msgs["problem_id"])) == 2


def test_unset_api_key_variable_exits_2(capsys, monkeypatch):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    assert main(["debate", "--engine", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
                 "--api-key-env", "NOPE_KEY"]) == 2
    assert "NOPE_KEY is not set" in capsys.readouterr().err
