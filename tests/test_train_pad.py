"""PAD (GRPO with PRM rewards) on a tiny random Llama: rewards by hand, checks before launch, a few steps."""
from __future__ import annotations

import math

import pytest
from safetensors.torch import load_file

from agentark.errors import ConfigError
from agentark.checkpoints import read_card
from agentark.tasks import load_problems
from agentark.train.pad import CorrectnessReward, PADJobConfig, PRMReward, check_pad, check_rewards, train_pad
from agentark.train.runtime import last_checkpoint
from tests.tinylm import tiny_llama  # noqa: F401

STEP_SCORES = {"Add 3 and 4.": 0.9, "So 3 + 4 = 8.": 0.2, "The answer is 8.": 0.6}
COMPLETION = [{"role": "assistant", "content": "Add 3 and 4.\n\nSo 3 + 4 = 8.\n\nThe answer is 8."}]


class TableScorer:
    """A PRM stand-in that scores each step by a fixed table and records what it was asked."""

    def __init__(self, table=STEP_SCORES, default: float = 0.5) -> None:
        self.table, self.default, self.calls = table, default, []

    def score(self, items):
        self.calls.append(items)
        return [[self.table.get(step, self.default) for step in steps] for _, steps in items]


def _softmin(values, t):
    weights = [math.exp(-v / t) for v in values]
    return sum(w * v for w, v in zip(weights, values)) / sum(weights)


@pytest.mark.parametrize("how, expected", [
    ("min", 0.2),
    ("mean", (0.9 + 0.2 + 0.6) / 3),
    ("last", 0.6),
    ("product", 0.9 * 0.2 * 0.6),
    ("softmin", _softmin([0.9, 0.2, 0.6], 0.1)),
])
def test_prm_reward_equals_a_hand_computation(how, expected):
    scorer = TableScorer()
    reward = PRMReward(scorer, how, 0.1, "paragraphs")
    out = reward(prompts=[[]], completions=[COMPLETION], question=["What is 3 + 4?"])
    assert out == [pytest.approx(expected)]
    # The PRM saw the question and the completion split by the labels' segmenter.
    assert scorer.calls == [[("What is 3 + 4?", ["Add 3 and 4.", "So 3 + 4 = 8.", "The answer is 8."])]]


def test_softmin_hand_value_lies_between_min_and_mean():
    value = _softmin([0.9, 0.2, 0.6], 0.1)
    assert 0.2 < value < 0.25  # dominated by the worst step at T = 0.1


def test_prm_reward_of_an_empty_completion_is_zero_and_plain_strings_work():
    reward = PRMReward(TableScorer(), "mean", 0.1, "paragraphs")
    assert reward(prompts=["", ""], completions=["", "Add 3 and 4."], question=["q", "q"]) == [0.0, 0.9]


def test_correctness_reward_grades_against_the_reference_and_logs_the_parseable_share():
    logged = {}
    reward = CorrectnessReward()
    out = reward(prompts=[[]] * 3, completions=[COMPLETION, [{"role": "assistant", "content": "The answer is 7."}],
                                                 [{"role": "assistant", "content": "no idea"}]],
                 reference=["7", "7", "7"], log_metric=lambda name, value: logged.update({name: value}))
    assert out == [0.0, 1.0, 0.0]
    assert logged == {"parseable_answer_share": pytest.approx(2 / 3)}


def test_broken_rewards_are_refused_on_a_sample():
    rows = [{"prompt": [], "question": "What is 3 + 4?", "reference": "7"}]

    class NaNScorer:
        def score(self, items):
            return [[float("nan")] * len(s) for _, s in items]

    with pytest.raises(ConfigError, match="non-finite"):
        check_rewards([PRMReward(NaNScorer(), "mean", 0.1, "paragraphs")], rows)

    def short(prompts, completions, **kw):
        return [1.0]

    with pytest.raises(ConfigError, match="one number per completion"):
        check_rewards([short], rows)

    def crashes(prompts, completions, **kw):
        raise KeyError("reference")

    with pytest.raises(ConfigError, match="failed on sample"):
        check_rewards([crashes], rows)
    check_rewards([CorrectnessReward()], rows)


def test_conflicting_options_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="multiple of num_generations"):
        PADJobConfig(prm="x", per_device_batch_size=3, num_generations=4)
    with pytest.raises(ConfigError, match="set prm"):
        PADJobConfig(prm="")
    with pytest.raises(ConfigError, match="GPU-only"):
        PADJobConfig(prm="x", device="cpu", vllm_server_url="http://localhost:8000")
    with pytest.raises(ConfigError, match="at least one positive"):
        PADJobConfig(prm_weight=0, correctness_weight=0)
    PADJobConfig(prm_weight=0)


def test_a_folder_that_is_not_a_studio_prm_is_refused_before_launch(tiny_llama):
    from agentark.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="not a studio PRM"):
        check_pad(PADJobConfig(base_model=str(tiny_llama), prm=str(tiny_llama), limit=2))


def _cfg(tiny_llama, **kw) -> PADJobConfig:
    return PADJobConfig(**{"base_model": str(tiny_llama), "prm": "unused", "limit": 4, "max_steps": 2,
                           "per_device_batch_size": 4, "num_generations": 4, "max_completion_length": 12,
                           "learning_rate": 1e-3, "beta": 0.04, **kw})


def test_pad_trains_with_both_rewards_and_reports_its_metrics(tiny_llama, tmp_path):
    seen = []
    scorer = TableScorer()
    result = train_pad(_cfg(tiny_llama), tmp_path / "job", on_metrics=lambda s, m: seen.append((s, m)), scorer=scorer)
    assert [s for s, _ in seen] == [1, 2]
    names = set(seen[0][1])
    assert {"loss", "grad_norm", "learning_rate", "reward", "reward_std", "rewards/prm/mean", "rewards/correct/mean",
            "kl", "completions/mean_length", "parseable_answer_share", "step_time_s"} <= names
    assert seen[0][1]["rewards/prm/mean"] == pytest.approx(0.5)  # every sampled step is unknown to the table
    before, after = load_file(tiny_llama / "model.safetensors"), load_file(result.model_dir / "model.safetensors")
    # GRPO has no gradient when every completion of a group scores the same (zero advantage, and the KL term is
    # zero while policy == reference); the random tiny model sometimes samples such groups only.
    if any(m["reward_std"] > 0 for _, m in seen):
        assert any(not before[k].equal(after[k]) for k in before)
    card = read_card(result.model_dir)
    assert card["kind"] == "pad" and card["prm"] == "unused" and card["config"]["aggregation"] == "softmin"
    # Lineage: the practice problems, though a PAD model has no export.
    practised = load_problems("builtin:arithmetic-onestep", limit=4, split="train").problems
    assert card["export_sha256"] is None and card["training_problems"] == sorted(p.problem_id for p in practised)


def test_pad_stop_and_resume(tiny_llama, tmp_path):
    first = train_pad(_cfg(tiny_llama, prm_weight=0, max_steps=2), tmp_path / "job", should_stop=lambda: True)
    assert first.stopped and first.step == 1 and last_checkpoint(tmp_path / "job").name == "checkpoint-1"
    steps = []
    second = train_pad(_cfg(tiny_llama, prm_weight=0, max_steps=2), tmp_path / "job", resume=True,
                       on_metrics=lambda s, m: steps.append(s))
    assert steps == [2] and second.model_dir is not None
