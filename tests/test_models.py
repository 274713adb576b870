"""Models registry: a studio model folder is found by id everywhere a model is picked, and refresh registers it."""
from __future__ import annotations

import json
import shutil

import pytest

from agentark import config
from agentark.backends import ChatRequest, EngineSpec, create_engine
from agentark.errors import ModelNotFoundError
from agentark.checkpoints import model_dir, prompt_for, resolve, write_card
from agentark.store import Store
from agentark.store import model_tables as q
from tests.tinylm import tiny_llama  # noqa: F401


def _install(tiny_llama, model_id: str, **card) -> str:
    folder = model_dir(model_id)
    shutil.copytree(tiny_llama, folder)
    write_card(folder, {"model_id": model_id, "kind": "sft", "base_model": "embedded:smollm2-135m", "job_id": "job-1",
                        "export_sha256": "ab" * 32, "config": {"learning_rate": 1e-5}, "metrics": {"loss": 1.5},
                        "prompt": "Q: {question}", "device": "cpu", "precision": "fp32", "world_size": 1, **card})
    return str(folder)


def test_studio_model_id_resolves_to_its_folder_and_unknown_names_pass_through(tiny_llama):
    path = _install(tiny_llama, "sft-test-1")
    assert resolve("sft-test-1") == path
    assert resolve("embedded:smollm2-135m") == "embedded:smollm2-135m"
    assert resolve("HuggingFaceTB/SmolLM2-135M") == "HuggingFaceTB/SmolLM2-135M"
    assert prompt_for("sft-test-1") == "Q: {question}" and prompt_for(path) == "Q: {question}"
    with pytest.raises(ModelNotFoundError, match="valid model id"):
        model_dir("../escape")


def test_refresh_registers_model_folders_once_with_their_provenance(tiny_llama):
    _install(tiny_llama, "sft-test-2")
    (config.checkpoints_dir() / "half-written").mkdir()  # no card: not a model yet
    with Store() as store:
        store.refresh()
        store.refresh()
        rows = q.list_models(store)
        assert list(rows["model_id"]) == ["sft-test-2"]
        row = q.get_model(store, "sft-test-2")
        assert row["kind"] == "sft" and row["export_sha256"] == "ab" * 32 and row["job_id"] == "job-1"
        assert json.loads(row["config_json"]) == {"learning_rate": 1e-5}
        assert json.loads(row["metrics_json"]) == {"loss": 1.5}
        assert row["device"] == "cpu" and row["world_size"] == 1 and row["prompt"] == "Q: {question}"
        assert q.list_models(store, "prm").empty


def test_debate_engine_loads_a_studio_model_by_id(tiny_llama):
    _install(tiny_llama, "sft-test-3")
    engine = create_engine(EngineSpec("transformers", "sft-test-3"), reuse=False)
    out = engine.generate([ChatRequest(messages=[{"role": "user", "content": "What is 3 + 4?"}], max_tokens=4,
                                       temperature=0.0)])
    assert out[0].completion_tokens >= 1
