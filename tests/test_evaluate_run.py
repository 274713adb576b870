"""Evaluation runs: held-out checks against the models registry, the eval/compare CLI, the solve prompt."""
from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from agentark import config
from agentark.cli import main
from agentark.errors import ConfigError
from agentark.evaluate.eval_config import EvalConfig
from agentark.evaluate.lineage import training_problem_ids
from agentark.evaluate.run import create_eval_run
from agentark.debate.debate_job import RunFolder
from agentark.checkpoints import model_dir, read_card, write_card
from agentark.store import Store
from agentark.tasks import load_problems
from tests.evalstore import export_file, studio_model
from tests.tinylm import tiny_llama  # noqa: F401


@pytest.fixture
def trained(tiny_llama):
    """sft-a trained on the first 3 built-in test problems; pad-b trained from sft-a on no export of its own."""
    seen = [p.problem_id for p in load_problems("builtin:arithmetic", limit=3, split="test").problems]
    with Store() as store:
        sha = export_file(store, seen, {"kind": "rsft", "corrections": "only"})
        studio_model(tiny_llama, "sft-a", sha)
        studio_model(tiny_llama, "pad-b", None, base="sft-a")
        store.refresh()
    return seen


def test_training_problems_follow_the_model_chain(trained):
    with Store() as store:
        assert training_problem_ids(store, "sft-a") == set(trained)
        assert training_problem_ids(store, "pad-b") == set(trained)
        assert training_problem_ids(store, "embedded:smollm2-135m") == set()


def test_overlapping_evaluation_is_refused_with_the_fix_and_nothing_is_written(trained):
    with Store() as store:
        with pytest.raises(ConfigError, match="3 of the problems evaluated were among the 3 training problems of "
                                              "model pad-b.*another split.*set allow_overlap"):
            create_eval_run(store, EvalConfig(model="pad-b", limit=5, max_tokens=8))
    assert not any(config.runs_dir().iterdir())


def test_held_out_evaluation_records_the_models_solve_prompt(trained):
    with Store() as store:
        held_out = EvalConfig(model="sft-a", split="train", limit=4, max_tokens=8)
        run_id, report, overlap = create_eval_run(store, held_out)
        assert overlap.overlapping == [] and len(report.problems) == 4
        assert run_id.startswith("eval-cot-")
        cfg = RunFolder(run_id).meta()["config"]
        assert cfg["solve_prompt"] == "Q: {question}\nA:" and cfg["model"] == "sft-a" and cfg["temperature"] == 0
        allowed = EvalConfig(model="sft-a", limit=5, allow_overlap=True, max_tokens=8)
        run_id, _, overlap = create_eval_run(store, allowed)
        assert sorted(overlap.overlapping) == sorted(trained)


def test_eval_and_compare_cli(capsys, tmp_path):
    args = ["--engine", "scripted", "--model", "tests.scripted:first_number", "--limit", "6"]
    assert main(["eval", *args, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["problems"] == 6 and first["method"] == "cot" and first["engine_calls_per_problem"] == 1
    assert main(["eval", *args, "--method", "self_consistency", "--samples", "3", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["engine_calls_per_problem"] == 3 and second["parse_rate"] == 1.0
    out = tmp_path / "report.html"
    assert main(["compare", first["run_id"], second["run_id"], "--json", "--html", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pairs"][0]["shared"] == 6 and out.exists()
    assert [m["accuracy"] for m in data["metrics"]] == [first["accuracy"], second["accuracy"]]
    assert main(["compare", first["run_id"], second["run_id"]]) == 0
    text = capsys.readouterr().out
    assert "McNemar exact p" in text and ("PASS" in text or "FAIL" in text or "too few discordant pairs" in text)


def test_cli_errors_name_the_fix(capsys):
    assert main(["compare", "nope-1", "nope-2"]) == 2
    assert "python -m agentark runs" in capsys.readouterr().err
    assert main(["eval", "--engine", "scripted", "--model", "tests.scripted:first_number", "--method", "nope"]) == 2
    assert "Choose one of" in capsys.readouterr().err


def test_eval_of_a_served_model(capsys):
    from tests.openai_server import OpenAIServer

    with OpenAIServer() as server:
        code = main(["eval", "--engine", "openai", "--base-url", server.base_url, "--concurrency", "4",
                     "--model", "served-teacher", "--limit", "3", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    result = json.loads(out)
    assert len(server.requests) == 3 and result["problems"] == 3 and result["config"]["engine"] == "openai"
    assert result["config"]["engine_options"] == {"base_urls": [server.base_url], "concurrency": 4}


def test_a_training_file_given_by_path_still_counts(tiny_llama, tmp_path):
    seen = [p.problem_id for p in load_problems("builtin:arithmetic", limit=2, split="test").problems]
    data = tmp_path / "my-sft.parquet"
    pd.DataFrame({"messages": [[]] * 2, "problem_id": seen}).to_parquet(data)
    sha = hashlib.sha256(data.read_bytes()).hexdigest()
    studio_model(tiny_llama, "sft-file", sha)
    folder = model_dir("sft-file")
    write_card(folder, {**read_card(folder), "config": {"export": str(data)}})
    with Store() as store:
        store.refresh()
        assert training_problem_ids(store, "sft-file") == set(seen)


def test_eval_like_a_teacher_reruns_its_whole_debate_on_the_test_split(capsys):
    """The teacher debated the train split; `eval --like` runs the same debate (agents, rounds, speakers' system
    prompts, engine, model) on the test split, so it can be compared with base and students."""
    assert main(["debate", "--dataset", "builtin:arithmetic", "--split", "train", "--limit", "3", "--method",
                 "debate", "--agents", "2", "--rounds", "2", "--engine", "scripted", "--model",
                 "tests.scripted:first_number", "--agent-system", "You are careful.", "--agent-system",
                 "You are quick.", "--max-tokens", "40"]) == 0
    teacher = capsys.readouterr().out.split()[1].rstrip(":")
    assert main(["eval", "--like", teacher, "--limit", "4", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    cfg = result["config"]
    assert result["run_id"].startswith("eval-debate-") and result["problems"] == 4
    assert (cfg["method"], cfg["agents"], cfg["rounds"], cfg["split"], cfg["dataset"]) == (
        "debate", 2, 2, "test", "builtin:arithmetic")
    assert (cfg["engine"], cfg["model"], cfg["max_tokens"]) == ("scripted", "tests.scripted:first_number", 40)
    assert [s["system"] for s in cfg["agent_specs"]] == ["You are careful.", "You are quick."]
    assert result["engine_calls_per_problem"] == 4  # 2 agents x 2 rounds: the whole debate, not one agent
    with Store() as store:
        store.refresh()
        test_ids = {p.problem_id for p in load_problems("builtin:arithmetic", limit=4, split="test").problems}
        from agentark.store import eval_tables as q

        assert set(q.outcome_rows(store, [result["run_id"]])["problem_id"]) == test_ids
    # --model is needed without --like; an imported run's method cannot be re-run.
    assert main(["eval", "--limit", "2"]) == 2
    assert "--model (or --like RUN_ID)" in capsys.readouterr().err


def test_eval_like_checks_every_model_of_the_debate_for_overlap(trained):
    from agentark.evaluate.run import like_eval_config

    with Store() as store:
        run_id, _, _ = create_eval_run(store, EvalConfig(model="sft-a", split="train", limit=2, max_tokens=8))
        store.refresh()
        like = like_eval_config(store, run_id, limit=5)
        assert (like.split, like.model, like.method) == ("test", "sft-a", "cot")
        with pytest.raises(ConfigError, match="training problems of model sft-a"):
            create_eval_run(store, like)
