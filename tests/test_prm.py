"""PRM trainer and scoring API on a tiny random Llama (no hub): training, soft labels, stop/resume, scoring."""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import torch

from agentark.errors import AgentArkError, ConfigError, DatasetError, ModelNotFoundError
from agentark.train.prm import META_FILE, PRMConfig, load_projector, step_loss, train_prm
from agentark.train.prm_data import IGNORE, StepwiseCollator, load_stepwise, tokenize_dataset
from agentark.train.prm_scoring import aggregate, load_prm
from tests.tinylm import build_tiny_llama


def toy_rows(n: int = 32, seed: int = 0) -> list[dict]:
    """A learnable set: a step is bad exactly when it contains the marker 'BUG'."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        steps, labels = [], []
        for k in range(rng.randint(2, 5)):
            bad = rng.random() < 0.35
            steps.append(f"{k} + {i} = {k + i}" + (" BUG" if bad else " ok"))
            labels.append(not bad)
        rows.append({"prompt": f"question {i}", "completions": steps, "labels": labels, "problem_id": f"q{i}"})
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("prm")


@pytest.fixture(scope="module")
def base(workdir) -> Path:
    return build_tiny_llama(workdir / "base")


@pytest.fixture(scope="module")
def trained(workdir, base):
    """One PRM trained on the toy set, shared by the tests that read a trained model."""
    data = write_jsonl(workdir / "toy.jsonl", toy_rows())
    metrics: list[tuple[int, dict]] = []
    cfg = PRMConfig(export=str(data), base_model=str(base), max_steps=30, learning_rate=3e-3, per_device_batch_size=8,
                    save_steps=100, lr_scheduler="constant")
    result = train_prm(cfg, workdir / "out", on_metrics=lambda s, m: metrics.append((s, m)))
    return result, metrics


def test_training_reports_metrics_and_loss_falls(trained, base):
    result, metrics = trained
    assert metrics[0][0] == 0 and metrics[0][1]["data/negatives"] > 0
    steps = [(s, m) for s, m in metrics if s > 0]
    assert [s for s, _ in steps] == list(range(1, 31))
    assert set(steps[0][1]) == {"loss", "learning_rate", "grad_norm", "tokens_per_s", "step_time"}
    losses = [m["loss"] for _, m in steps]
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5
    assert result.step == 30 and not result.stopped
    assert result.hardware == {"device": "cpu", "precision": "fp32", "world_size": 1, "gradient_checkpointing": False}
    assert result.peak_memory_mb > 0 and result.tokens > 0
    from agentark.checkpoints import read_card

    card = read_card(result.model_dir)
    assert card["kind"] == "prm" and card["step"] == 30 and card["device"] == "cpu" and len(card["export_sha256"]) == 64
    assert card["training_problems"] == sorted(f"q{i}" for i in range(32))  # lineage: the export rows' problems
    from safetensors.torch import load_file

    before = load_file(str(base / "model.safetensors"))
    after = load_file(str(Path(result.model_path) / "model.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before if k in after and "layers" in k)


def test_scores_separate_good_from_bad_steps(trained):
    result, _ = trained
    scorer = load_prm(str(result.model_path))
    rows = toy_rows(12, seed=7)
    scores = scorer.score([(r["prompt"], r["completions"]) for r in rows])
    good = [s for r, sc in zip(rows, scores, strict=True) for s, ok in zip(sc, r["labels"], strict=True) if ok]
    bad = [s for r, sc in zip(rows, scores, strict=True) for s, ok in zip(sc, r["labels"], strict=True) if not ok]
    assert bad and good and max(bad) < min(good)


def test_one_pass_scoring_equals_per_prefix_scoring(trained):
    scorer = load_prm(str(trained[0].model_path), batch_size=3)
    items = [(r["prompt"], r["completions"]) for r in toy_rows(4, seed=3)] + [("empty", [])]
    fast, slow = scorer.score(items), scorer.score_prefixes(items)
    assert [len(x) for x in fast] == [len(s) for _, s in items]
    assert fast[-1] == []
    for a, b in zip(fast, slow, strict=True):
        assert torch.allclose(torch.tensor(a), torch.tensor(b), atol=1e-5)


def test_checkpoints_carry_the_studio_file_and_a_folder_without_it_is_refused(trained, base):
    result, _ = trained
    meta = json.loads((Path(result.model_path) / META_FILE).read_text())
    assert meta["separator"] == "\n" and meta["label2id"] == {"bad": 0, "good": 1} and meta["label_type"] == "hard"
    with pytest.raises(ModelNotFoundError, match="not a studio PRM.*train prm"):
        load_prm(str(base))
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_prm("/nonexistent/prm")


def test_aggregations_equal_hand_computations():
    s = [0.9, 0.5, 0.8]
    assert aggregate(s, "min") == 0.5
    assert aggregate(s, "mean") == pytest.approx(2.2 / 3)
    assert aggregate(s, "last") == 0.8
    assert aggregate(s, "product") == pytest.approx(0.36)
    w = [math.exp(-0.9 / 0.1), math.exp(-0.5 / 0.1), math.exp(-0.8 / 0.1)]
    assert aggregate(s, "softmin", 0.1) == pytest.approx(sum(a * b for a, b in zip(w, s)) / sum(w))
    assert aggregate(s, "softmin", 1e-4) == pytest.approx(0.5)
    assert aggregate(s, "softmin", 1e4) == pytest.approx(aggregate(s, "mean"), abs=1e-4)
    with pytest.raises(ConfigError, match="choose one of"):
        aggregate(s, "max")
    with pytest.raises(ConfigError, match="no steps"):
        aggregate([], "min")


def test_soft_labels_stay_floats_end_to_end(tmp_path, base):
    rows = [{"prompt": "q", "completions": ["1 + 1 = 2", "2 * 2 = 5 BUG"], "labels": [0.7, 0.25]},
            {"prompt": "r", "completions": ["3 - 1 = 2"], "labels": [1.0]}]
    path = tmp_path / "soft.parquet"
    import pandas as pd

    pd.DataFrame(rows).to_parquet(path)
    data = load_stepwise(path)
    assert data.label_type == "soft" and data.labels[0] == [0.7, 0.25]
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base)
    features, _ = tokenize_dataset(data, tok, tok("\n", add_special_tokens=False)["input_ids"], 128)
    assert [v for v in features[0]["labels"] if v != IGNORE] == [0.7, 0.25]
    batch = StepwiseCollator(tok.pad_token_id)(features)
    assert batch["labels"].dtype == torch.float32
    picked = batch["labels"][batch["labels"] != IGNORE]
    assert torch.allclose(picked, torch.tensor([0.7, 0.25, 1.0]))
    logits = torch.randn(*batch["labels"].shape, 2)
    margin = (logits[..., 1] - logits[..., 0])[batch["labels"] != IGNORE]
    expected = torch.nn.functional.binary_cross_entropy_with_logits(margin, picked)
    assert torch.allclose(step_loss(logits, batch["labels"], "soft"), expected)
    result = train_prm(PRMConfig(export=str(path), base_model=str(base), max_steps=2, learning_rate=1e-3),
                       tmp_path / "out")
    assert result.label_type == "soft"
    assert json.loads((Path(result.model_path) / META_FILE).read_text())["label_type"] == "soft"
    with pytest.raises(DatasetError, match="fractional"):
        load_stepwise(path, "hard")


def test_class_weights_weigh_each_class():
    labels = torch.tensor([[IGNORE, 1.0, IGNORE, 0.0, 1.0]])
    logits = torch.randn(1, 5, 2)
    w = torch.tensor([4.0, 1.0])
    picked, target = logits[0, [1, 3, 4]], torch.tensor([1, 0, 1])
    per = torch.nn.functional.cross_entropy(picked, target, reduction="none")
    expected = (per * torch.tensor([1.0, 4.0, 1.0])).sum() / 6.0
    assert torch.allclose(step_loss(logits, labels, "hard", w), expected)


def test_stop_keeps_a_usable_checkpoint_and_resume_continues(tmp_path, base):
    data = write_jsonl(tmp_path / "toy.jsonl", toy_rows(16))
    cfg = PRMConfig(export=str(data), base_model=str(base), max_steps=4, per_device_batch_size=4, save_steps=100,
                    learning_rate=1e-3)
    seen: list[int] = []
    first = train_prm(cfg, tmp_path / "out", on_metrics=lambda s, m: seen.append(s), should_stop=lambda: len(seen) >= 2)
    assert first.stopped and first.step == 2
    assert first.checkpoint.name == "checkpoint-2" and first.model_path == first.checkpoint
    assert len(load_prm(str(first.checkpoint)).score([("q", ["1 + 1 = 2"])])[0]) == 1
    assert not (tmp_path / "out" / "final").exists()
    resumed: list[int] = []
    second = train_prm(cfg, tmp_path / "out", on_metrics=lambda s, m: resumed.append(s), resume=True)
    assert second.resumed_from == str(first.checkpoint) and not second.stopped
    assert second.step == 4 and [s for s in resumed if s > 0] == [3, 4]
    assert (tmp_path / "out" / "final" / META_FILE).exists()


def test_contrastive_projector_is_trained_and_saved(tmp_path, base):
    data = write_jsonl(tmp_path / "toy.jsonl", toy_rows(8))
    cfg = PRMConfig(export=str(data), base_model=str(base), max_steps=2, save_steps=1, per_device_batch_size=8,
                    learning_rate=1e-2, contrastive_weight=0.5, projector_dim=8, freeze_backbone=True)
    result = train_prm(cfg, tmp_path / "out")
    projector = load_projector(result.model_path)
    assert projector is not None and projector.weight.shape == (8, 32)
    from safetensors.torch import load_file

    at_step_1 = load_file(str(tmp_path / "out" / "checkpoints" / "checkpoint-1" / "model.safetensors"))
    assert not torch.equal(at_step_1["prm_projector.weight"], projector.weight.detach())
    # The frozen backbone is untouched; only the head and the projector learned.
    base_w = load_file(str(base / "model.safetensors"))
    final = load_file(str(Path(result.model_path) / "model.safetensors"))
    assert all(torch.equal(base_w[k], final[k]) for k in base_w if k in final)
    assert result.trainable_parameters < result.total_parameters


def test_lora_trains_adapters_and_the_merged_model_scores(tmp_path, base):
    data = write_jsonl(tmp_path / "toy.jsonl", toy_rows(8))
    cfg = PRMConfig(export=str(data), base_model=str(base), max_steps=2, save_steps=1, lora=True, lora_r=4,
                    learning_rate=1e-2, class_weights="balanced")
    result = train_prm(cfg, tmp_path / "out")
    assert result.trainable_parameters < result.total_parameters and len(result.class_weights) == 2
    assert (tmp_path / "out" / "checkpoints" / "checkpoint-1" / "adapter_config.json").exists()
    full, from_adapter = load_prm(str(result.model_path)), load_prm(str(tmp_path / "out" / "checkpoints" / "checkpoint-2"))
    items = [("q", ["1 + 1 = 2", "2 + 2 = 5 BUG"])]
    assert torch.allclose(torch.tensor(full.score(items)[0]), torch.tensor(from_adapter.score(items)[0]), atol=1e-5)


@pytest.mark.parametrize("rows,match", [
    ([], "no rows"),
    ([{"prompt": "q", "completions": ["a", "b"], "labels": [True]}], "2 completions but 1 labels"),
    ([{"prompt": "q", "completions": ["a"], "labels": [-1]}], "outside the expected set"),
    ([{"prompt": "q", "completions": ["a"], "labels": [1.5]}], "outside the expected set"),
])
def test_bad_data_is_refused_before_training(tmp_path, base, rows, match):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DatasetError, match=match):
        train_prm(PRMConfig(export=str(path), base_model=str(base)), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_models_and_options_are_refused_before_training(tmp_path, base):
    data = write_jsonl(tmp_path / "toy.jsonl", toy_rows(2))
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        train_prm(PRMConfig(export=str(data), base_model=str(tmp_path / "missing")), tmp_path / "out")
    no_tok = tmp_path / "no_tokenizer"
    no_tok.mkdir()
    (no_tok / "config.json").write_text((base / "config.json").read_text())
    with pytest.raises(ModelNotFoundError, match="has no tokenizer"):
        train_prm(PRMConfig(export=str(data), base_model=str(no_tok)), tmp_path / "out")
    if not torch.cuda.is_available():
        for option in ({"precision": "bf16"}, {"num_processes": 2, "distributed": "zero2"}, {"device": "cuda"}):
            with pytest.raises(ConfigError, match="(needs a GPU|no GPU is visible|none is visible)"):
                train_prm(PRMConfig(export=str(data), base_model=str(base), **option), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ConfigError, match="choose one"):
        PRMConfig(export="x.parquet", lora=True, freeze_backbone=True)
    with pytest.raises(ConfigError, match="NEG:POS"):
        PRMConfig(export="x.parquet", class_weights="heavy")


def test_every_config_field_has_help():
    from dataclasses import fields

    assert all(f.metadata.get("help") for f in fields(PRMConfig))
    assert PRMConfig.from_dict(PRMConfig(export="x.parquet", max_steps=3).to_dict()).max_steps == 3
    assert issubclass(ConfigError, AgentArkError)
    with pytest.raises(ConfigError, match="No export given"):
        PRMConfig()
