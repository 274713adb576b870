"""Pages driven headless with Streamlit's AppTest: the Run page and the debate viewer on a real run."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

from agentark.debate import debate_job
from agentark.debate import DebateConfig, first_run_config
from agentark.debate.debate_job import list_run_folders


def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def test_run_page_renders_form_and_empty_state():
    at = app()
    assert at.title[0].value == "Run debates"
    first = first_run_config()
    # The first run's defaults: a quick debate on a level the embedded model can do (see first_run_config).
    assert at.selectbox(key="run_dataset").value == first.dataset != "builtin:arithmetic"
    assert (at.number_input(key="run_limit").value, at.number_input(key="run_max_tokens").value) == (
        first.limit, first.max_tokens)
    assert (at.number_input(key="run_agents").value, at.number_input(key="run_rounds").value) == (3, 2)
    assert at.selectbox(key="run_method").value == first.method == "debate"
    assert any("No run is in progress" in c.value for c in at.caption)
    assert "embedded:smollm2-135m" in at.text_input(key="active_model").value


def test_bad_file_shows_error_and_stores_nothing(tmp_path):
    at = app()
    at.selectbox(key="run_dataset").set_value("a file on this machine…")
    at.text_input(key="run_path").set_value(str(tmp_path / "missing.jsonl"))
    at.button[0].click()
    at.run()
    assert at.error and "missing.jsonl" in at.error[0].value
    assert list_run_folders() == []


def test_missing_model_folder_is_reported(tmp_path):
    at = app()
    at.text_input(key="run_model").set_value(str(tmp_path / "no-model"))
    at.button[0].click()
    at.run()
    assert at.error and "does not exist" in at.error[0].value
    assert list_run_folders() == []


def test_transcript_shows_rounds_as_rows_and_agents_as_columns():
    cfg = DebateConfig(limit=3, engine="scripted", model="tests.scripted:first_number")
    run_id, report = debate_job.create_debate_run(cfg)
    debate_job.run_debate_job(run_id)
    at = app()
    at.switch_page("pages/2_transcripts.py")
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="tr_run").value == run_id
    headers = [m.value for m in at.markdown if m.value.startswith("#### Round")]
    assert headers == ["#### Round 1", "#### Round 2"]
    # Each agent's header starts with its colour dot, then its name, in column order.
    agents = [m.value.split("</span> ", 1)[1] for m in at.markdown if "●</span> **agent_" in m.value]
    assert len(agents) == 6 and agents[0].startswith("**agent_1**") and agents[2].startswith("**agent_3**")
    first = report.problems[0]
    assert at.metric[0].value == first.reference_answer
    assert at.query_params["run"] == run_id and at.query_params["problem"] == first.problem_id


def test_run_page_keeps_the_problem_seed_apart_from_the_sampling_seed(monkeypatch):
    from agentark.errors import ConfigError

    launched = []

    def launch(kind, cfg, **inputs):
        launched.append(cfg)
        raise ConfigError("launch intercepted by the test")

    monkeypatch.setattr("agentark.jobs.start", launch)
    at = app()
    at.number_input(key="run_seed").set_value(3)
    at.number_input(key="run_problem_seed").set_value(5)
    at.button[0].click()
    at.run()
    assert [(c.seed, c.problem_seed) for c in launched] == [(3, 5)]
