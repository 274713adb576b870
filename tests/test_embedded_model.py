"""The real embedded model (SmolLM2-135M): engine batching and a full 8 x 3 x 2 debate via the CLI; the page's
background path on the tiny model."""
from __future__ import annotations

import pytest

from agentark.backends import ChatRequest, EngineSpec, create_engine
from tests.tinylm import tiny_llama  # noqa: F401


@pytest.fixture(scope="module")
def engine(embedded_model):
    return create_engine(EngineSpec("transformers", "embedded:smollm2-135m"))


@pytest.mark.model
def test_left_padded_batch_matches_one_at_a_time(engine):
    prompts = ["What is 2 + 3?", "Tom has 12 apples and gives away 5. How many are left? Explain.", "Say hi."]
    requests = [ChatRequest([{"role": "user", "content": p}], max_tokens=12) for p in prompts]
    batched = engine.generate(requests)
    single = [engine.generate([r])[0] for r in requests]
    assert [c.text for c in batched] == [c.text for c in single]
    assert all(c.completion_tokens > 0 and c.prompt_tokens > 5 for c in batched)
    assert batched[0].prompt_tokens < batched[1].prompt_tokens


def test_missing_model_folder_message(tmp_path):
    from agentark.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="does not exist"):
        create_engine(EngineSpec("transformers", str(tmp_path / "nowhere")), reuse=False)


def _check_stored(run_id: str) -> None:
    from agentark.store import Store, run_tables

    with Store() as store:
        store.refresh()
        msgs = run_tables.messages(store, run_id)
        assert len(msgs) == 8 * 3 * 2
        assert sorted(msgs.groupby(["round"]).size().tolist()) == [24, 24]
        assert set(msgs["agent"]) == {"agent_1", "agent_2", "agent_3"}
        # Every message is graded into one answer kind; a message that hit the token limit without stating an
        # answer has none (it counts wrong, shown as cut off), and every other one that has a number is read.
        assert msgs["answer_kind"].notna().all()
        cut = msgs["finish_reason"] == "length"
        assert (msgs.loc[cut & msgs["answer"].notna(), "answer_kind"] == "explicit").all()
        assert (msgs.loc[msgs["answer_kind"] == "cut_off", "finish_reason"] == "length").all()
        assert msgs["answer"].notna().sum() == (msgs["answer_kind"].isin(["explicit", "implicit"])).sum()
        assert msgs["is_correct"].notna().all()
        assert run_tables.count(store, "outcomes", run_id) == 8
        acc = run_tables.round_accuracy(store, run_id)
        assert acc["round"].tolist() == [1, 2]


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.timeout(450)
def test_cli_debate_on_the_embedded_model(embedded_model, capsys):
    from agentark.cli import main

    code = main(["debate", "--dataset", "builtin:arithmetic", "--limit", "8", "--method", "debate", "--agents", "3",
                 "--rounds", "2", "--max-tokens", "48"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "accuracy per round" in out
    run_id = out.split()[1].rstrip(":")
    _check_stored(run_id)


@pytest.mark.slow
def test_page_starts_a_background_debate_and_shows_it_stored(tiny_llama):
    """The page's path (form -> spawned worker -> shards -> refresh) on the tiny model: the real model's run is
    the CLI test above and the benchmarks; this one waits on the job's status, never on a deadline."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT
    from tests.waits import until_ended

    from agentark.debate.debate_job import list_run_folders
    from agentark.store import Store, run_tables

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.text_input(key="run_model").set_value(str(tiny_llama))
    at.number_input(key="run_limit").set_value(4)
    at.number_input(key="run_agents").set_value(3)
    at.number_input(key="run_rounds").set_value(2)
    at.number_input(key="run_max_tokens").set_value(8)
    at.button[0].click()
    at.run()
    assert not at.exception
    assert "Started run" in at.success[0].value
    (folder,) = list_run_folders()
    assert until_ended(folder) == "done", folder.log_path.read_text()[-2000:]
    at.run()
    assert not at.exception
    with Store() as store:
        store.refresh()
        msgs = run_tables.messages(store, folder.run_id)
        assert sorted(msgs.groupby(["round"]).size().tolist()) == [12, 12]
        assert run_tables.count(store, "outcomes", folder.run_id) == 4