"""One model resolver: every model name (embedded, studio model id, folder, hub id) is told apart by
``agentark.checkpoints.locate_model``, for the engine, the PRM trainer's base model and the PRM loader alike."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from agentark import checkpoints
from agentark.checkpoints import locate_model, model_dir, write_card
from agentark.errors import ModelNotFoundError

ROOT = Path(__file__).resolve().parent.parent


def _folder(path: Path, *files: str) -> Path:
    path.mkdir(parents=True)
    for name in files:
        (path / name).write_text("{}")
    return path


def test_each_kind_of_name_is_located_once(tmp_path, monkeypatch):
    studio = _folder(model_dir("sft-located"), "config.json", "tokenizer.json")
    write_card(studio, {"model_id": "sft-located", "kind": "sft"})
    plain = _folder(tmp_path / "plain", "config.json")
    embedded = _folder(tmp_path / "embedded", "config.json", "tokenizer.json")
    monkeypatch.setattr("agentark.embedded.ensure_embedded", lambda: embedded)

    assert locate_model("sft-located") == (str(studio.resolve()), True)
    assert locate_model(str(plain)) == (str(plain.resolve()), True)
    assert locate_model("embedded:smollm2-135m") == (str(embedded), True)
    assert locate_model("") == (str(embedded), True)
    # A hub id goes to from_pretrained as it is, unless the caller needs it in the local cache.
    assert locate_model("HuggingFaceTB/SmolLM2-135M") == ("HuggingFaceTB/SmolLM2-135M", False)
    with pytest.raises(ModelNotFoundError, match="neither a folder nor a model in the local Hugging Face cache"):
        locate_model("nobody/nothing-here", cached=True)


def test_what_cannot_be_loaded_is_refused_naming_the_field(tmp_path):
    for missing in (str(tmp_path / "missing"), "./rel", "~/nothing", "a/b/c", "trailing/"):
        with pytest.raises(ModelNotFoundError, match="does not exist") as err:
            locate_model(missing, field="base_model")
        assert err.value.fields == ["base_model"]
    bare = _folder(tmp_path / "bare")
    with pytest.raises(ModelNotFoundError, match="has no config.json"):
        locate_model(str(bare))
    assert locate_model(str(bare), config=False) == (str(bare.resolve()), True)
    weights_only = _folder(tmp_path / "weights_only", "config.json")
    with pytest.raises(ModelNotFoundError, match="has no tokenizer") as err:
        locate_model(str(weights_only), field="base_model", tokenizer=True)
    assert err.value.fields == ["base_model"]
    with pytest.raises(ModelNotFoundError) as err:
        locate_model(str(tmp_path / "missing"), field=None)
    assert err.value.fields == []


def test_the_engine_the_prm_trainer_and_the_prm_loader_go_through_it(tmp_path, monkeypatch):
    from agentark.backends import transformers_engine
    from agentark.train import prm, prm_scoring, runtime

    asked = []

    def fake(name, field="model", cached=False, config=True, tokenizer=False):
        asked.append((name, field, cached, config, tokenizer))
        return str(tmp_path), True

    monkeypatch.setattr(checkpoints, "locate_model", fake)
    transformers_engine.check_model("some/model")
    runtime.resolve_base("some/base")
    assert prm.resolve_base_model("some/backbone") == str(tmp_path)
    assert prm_scoring.prm_folder("some/prm") == tmp_path
    assert asked == [("some/model", "model", False, True, False), ("some/base", "model", False, True, False),
                     ("some/backbone", "base_model", True, True, True), ("some/prm", None, True, False, False)]


def test_no_other_module_looks_models_up_in_the_hub_cache_or_converts_the_embedded_model():
    """The hub-cache lookup and the embedded model's conversion are called from the resolver alone."""
    callers = {}
    for path in (ROOT / "agentark").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("snapshot_download", "ensure_embedded"):
                callers.setdefault(ast.unparse(node.func), set()).add(str(path.relative_to(ROOT)))
    assert callers == {"snapshot_download": {"agentark/checkpoints.py"}, "ensure_embedded": {"agentark/checkpoints.py"}}


def test_the_embedded_model_is_never_taken_for_a_prm():
    from agentark.train.prm_scoring import prm_folder

    for name in ("", "embedded:smollm2-135m"):
        with pytest.raises(ModelNotFoundError, match="not a studio PRM"):
            prm_folder(name)
