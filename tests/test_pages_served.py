"""Run page: served engine settings, per-speaker models, methods, the import upload and the cost table."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

from agentark import jobs
from agentark.debate import debate_job
from agentark.debate import DebateConfig
from agentark.debate.debate_job import list_run_folders
from agentark.store import Store, run_tables


def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def submit(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Start run").click()
    at.run()
    assert not at.exception, at.exception


def test_served_run_with_per_speaker_models_is_configured_from_the_form(monkeypatch):
    monkeypatch.setenv("SERVED_KEY", "sk-not-stored")
    at = app()
    at.selectbox(key="run_method").set_value("mad")
    at.selectbox(key="run_engine").set_value("openai")
    at.text_input(key="run_model").set_value("big-model")
    at.text_input(key="run_base_urls").set_value("http://127.0.0.1:9/v1, http://127.0.0.1:10/v1")
    at.number_input(key="run_concurrency").set_value(32)
    at.text_input(key="run_api_key_env").set_value("SERVED_KEY")
    at.text_area(key="run_agent_specs").set_value("- | You argue for.\nopenai=small-model | You argue against.")
    at.checkbox(key="run_early_stop").check()
    submit(at)
    assert not at.error, [e.value for e in at.error]
    (folder,) = list_run_folders()
    jobs.stop(folder.run_id)
    cfg = folder.meta()["config"]
    assert cfg["method"] == "mad" and cfg["agents"] == 2 and cfg["early_stop"] is True
    assert cfg["engine_options"] == {"base_urls": ["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"],
                                     "concurrency": 32, "api_key_env": "SERVED_KEY"}
    assert [s["model"] for s in cfg["agent_specs"]] == [None, "small-model"]
    assert cfg["agent_specs"][1]["system"] == "You argue against."
    assert folder.meta()["model"] == "big-model, small-model"
    assert "sk-not-stored" not in (folder.path / "run.json").read_text()


def test_unset_key_variable_and_vllm_errors_are_shown(monkeypatch):
    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    at = app()
    at.selectbox(key="run_engine").set_value("openai")
    at.text_input(key="run_base_urls").set_value("http://127.0.0.1:9/v1")
    at.text_input(key="run_api_key_env").set_value("NOT_SET_KEY")
    submit(at)
    assert at.error and "NOT_SET_KEY is not set" in at.error[0].value
    at.selectbox(key="run_engine").set_value("vllm")
    submit(at)
    assert at.error and "pip install vllm" in at.error[0].value and "--engine openai" in at.error[0].value
    assert list_run_folders() == []


def test_import_upload_reports_counts_and_rejections():
    lines = [json.dumps({"query": "What is 2+2?", "gt": "4", "response": "===== Solution 1 =====\nThe answer is 4.",
                         "token_stats": {"m": {"num_llm_calls": 1, "prompt_tokens": 5, "completion_tokens": 3}}}),
             "{broken"]
    at = app()
    at.selectbox(key="import_format").set_value("maslab")
    at.file_uploader(key="import_file").set_value(("mas.jsonl", "\n".join(lines).encode(), "application/json"))
    at.text_input(key="import_model").set_value("llama-3-8b")
    next(b for b in at.button if b.label == "Import").click()
    at.run()
    assert not at.exception, at.exception
    # The summary names the uploaded file, stored text, so it is shown escaped (issue 27): read it unescaped.
    assert any("1 imported, 0 skipped as duplicate, 1 rejected" in s.value.replace("\\", "") for s in at.success)
    assert any("rejected" in w.value and "line 2" in w.value for w in at.warning)
    with Store() as store:
        assert run_tables.count(store, "messages") == 1
        assert run_tables.list_runs(store)["model"].tolist() == ["llama-3-8b"]


def test_cost_per_problem_is_shown_for_runs():
    run_id, _ = debate_job.create_debate_run(DebateConfig(limit=2, engine="scripted", model="tests.scripted:first_number"))
    debate_job.run_debate_job(run_id)
    at = app()
    table = next(d for d in at.dataframe if "calls_per_problem" in d.value.columns)
    row = table.value.iloc[0]
    assert row.run_id == run_id and float(row.calls_per_problem) == 6 and float(row.prompt_tokens_per_problem) > 0
