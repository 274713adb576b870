"""SFT trainer on a tiny random Llama: it trains, masks prompt tokens, stops on request and resumes."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from safetensors.torch import load_file

from agentark.debate import SOLVE_PROMPT
from agentark.errors import ConfigError, DatasetError, ModelNotFoundError
from agentark.checkpoints import read_card
from agentark.train.runtime import last_checkpoint
from agentark.train.sft import SFTJobConfig, build_trainer, check_sft, train_sft
from tests.tinylm import build_tiny_llama, tiny_llama  # noqa: F401


def _export(path, n: int = 8):
    rows = [{"messages": [{"role": "user", "content": SOLVE_PROMPT.format(question=f"What is {i} + 4?")},
                          {"role": "assistant", "content": f"Add {i} and 4.\n\nThe answer is {i + 4}."}],
             "problem_id": f"p{i % 5}"}
            for i in range(n)]
    pd.DataFrame(rows).to_parquet(path)
    return str(path)


def _cfg(tiny_llama, export, **kw) -> SFTJobConfig:
    return SFTJobConfig(**{"export": export, "base_model": str(tiny_llama), "max_steps": 2, "per_device_batch_size": 2,
                           "learning_rate": 1e-3, "save_steps": 100, **kw})


def test_sft_trains_and_writes_a_final_model_with_its_card(tiny_llama, tmp_path):
    seen = []
    result = train_sft(_cfg(tiny_llama, _export(tmp_path / "e.parquet")), tmp_path / "job",
                       on_metrics=lambda step, m: seen.append((step, m)))
    assert [s for s, _ in seen] == [1, 2]
    assert {"loss", "learning_rate", "grad_norm", "step_time_s"} <= set(seen[0][1])
    assert "tokens_per_s" in seen[1][1]
    before, after = load_file(tiny_llama / "model.safetensors"), load_file(result.model_dir / "model.safetensors")
    changed = [k for k in before if not before[k].equal(after[k])]
    assert len(changed) > len(before) // 2
    card = read_card(result.model_dir)
    assert card["kind"] == "sft" and card["prompt"] == SOLVE_PROMPT and card["step"] == 2
    assert card["device"] == "cpu" and card["precision"] == "fp32" and card["world_size"] == 1
    assert card["export_sha256"] and card["config"]["max_steps"] == 2 and card["peak_memory_mb"] > 0
    # Lineage: the export rows' problems (8 rows over 5 problems), read by the held-out check.
    assert card["training_problems"] == [f"p{i}" for i in range(5)]
    assert card["training_source"] == f"export rows {card['export_sha256'][:12]}"


def test_prompt_tokens_carry_no_loss(tiny_llama, tmp_path):
    trainer, *_ = build_trainer(_cfg(tiny_llama, _export(tmp_path / "e.parquet")), tmp_path / "job")
    tok = trainer.processing_class
    for i in range(3):
        row = trainer.train_dataset[i]
        prompt = [{"role": "user", "content": SOLVE_PROMPT.format(question=f"What is {i} + 4?")}]
        prompt_len = len(tok.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)["input_ids"])
        assert all(label == -100 for label in row["labels"][:prompt_len])
        answer = row["labels"][prompt_len:]
        assert answer == row["input_ids"][prompt_len:] and -100 not in answer
        assert tok.decode(answer).startswith(f"Add {i} and 4.")
        assert answer[-2] == tok.convert_tokens_to_ids("<|im_end|>")  # the answer ends its turn
    # What the optimizer sees: the collated batch keeps the mask (padding is masked too).
    batch = trainer.data_collator([trainer.train_dataset[0], trainer.train_dataset[1]])
    row = trainer.train_dataset[0]
    first_answer = next(k for k, label in enumerate(row["labels"]) if label != -100)
    assert batch["labels"][0][:first_answer].eq(-100).all()
    assert batch["labels"][0][first_answer:len(row["labels"])].tolist() == row["labels"][first_answer:]


def test_lora_trains_adapters_and_merges_them(tiny_llama, tmp_path):
    result = train_sft(_cfg(tiny_llama, _export(tmp_path / "e.parquet"), lora=True, lora_r=4, lora_alpha=8),
                       tmp_path / "job")
    names = set(load_file(result.model_dir / "model.safetensors"))
    assert not any("lora" in n for n in names) and names == set(load_file(tiny_llama / "model.safetensors"))
    assert not (result.model_dir / "adapter_config.json").exists()


def test_stop_saves_a_checkpoint_and_resume_continues_from_it(tiny_llama, tmp_path):
    export = _export(tmp_path / "e.parquet")
    first = train_sft(_cfg(tiny_llama, export, max_steps=3), tmp_path / "job", should_stop=lambda: True)
    assert first.stopped and first.model_dir is None and first.step == 1
    assert last_checkpoint(tmp_path / "job").name == "checkpoint-1"
    steps = []
    second = train_sft(_cfg(tiny_llama, export, max_steps=3), tmp_path / "job", resume=True,
                       on_metrics=lambda step, m: steps.append(step))
    assert steps == [2, 3] and second.step == 3 and not second.stopped
    state = json.loads((last_checkpoint(tmp_path / "job") / "trainer_state.json").read_text())
    assert state["global_step"] == 3


def test_bad_input_is_refused_before_training(tiny_llama, tmp_path):
    export = _export(tmp_path / "e.parquet")
    with pytest.raises(ConfigError, match="set export"):
        SFTJobConfig(export="")
    with pytest.raises(ConfigError, match="max_steps"):
        SFTJobConfig(export=export, max_steps=0)
    pd.DataFrame({"messages": []}).to_parquet(tmp_path / "empty.parquet")
    with pytest.raises(DatasetError, match="no rows"):
        check_sft(_cfg(tiny_llama, str(tmp_path / "empty.parquet")))
    pd.DataFrame({"prompt": ["q"], "completions": [["a"]], "labels": [[True]]}).to_parquet(tmp_path / "prm.parquet")
    with pytest.raises(DatasetError, match="train prm"):
        check_sft(_cfg(tiny_llama, str(tmp_path / "prm.parquet")))
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        check_sft(_cfg(tiny_llama, export, base_model=str(tmp_path / "nowhere")))
    no_template = build_tiny_llama(tmp_path / "plain", chat_template=False)
    with pytest.raises(ConfigError, match="chat template"):
        check_sft(_cfg(tiny_llama, export, base_model=str(no_template)))
    (tmp_path / "weights-only").mkdir()
    (tmp_path / "weights-only" / "config.json").write_text((tiny_llama / "config.json").read_text())
    with pytest.raises(ModelNotFoundError, match="tokenizer"):
        check_sft(_cfg(tiny_llama, export, base_model=str(tmp_path / "weights-only")))
    with pytest.raises(ConfigError, match="needs a GPU|no GPU"):
        check_sft(_cfg(tiny_llama, export, precision="bf16", device="cpu"))
    assert not (tmp_path / "job").exists()
