"""Process-aware distillation (PAD): GRPO on the student with a studio PRM's step scores as reward.

Each completion earns (a) the PRM's verdict on its reasoning: the completion is split into steps by the same
segmenter the labels were made with, every step scored in one PRM pass, and the step scores aggregated
(min / mean / last / product / soft-min with a temperature; the reference uses soft-min, T = 0.1), and
(b) the verifiable reward: 1 when the grader's extracted answer equals the reference, else 0. TRL's
``GRPOTrainer`` weights and sums them. Design decision: the reward functions are plain callables checked on
hand-made completions of real problems before the job starts (types, NaN, one reward per completion), so a
bad PRM or a broken config fails in seconds instead of after the policy model has loaded.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from agentark.errors import ConfigError
from agentark.options import field_help
from agentark.runs.steps import SEGMENTERS
from agentark.train.runtime import (
    OnMetrics,
    ShouldStop,
    TrainResult,
    causal_lm,
    detect_hardware,
    job_callback,
    lineage_fields,
    load_tokenizer,
    sync_device,
    train_and_finish,
    training_arguments,
    trl_trainer,
)
from agentark.train.prm_scoring import AGGREGATIONS
from agentark.train.train_config import TrainConfig, at_least
from agentark.train.train_jobs import register_training_kind


@dataclass
class PADJobConfig(TrainConfig):
    """A PAD job: problems with reference answers, the PRM that judges steps, and how GRPO samples and trains."""

    dataset: str = field(default="builtin:arithmetic-onestep", metadata=field_help(
        "Problems to practise on (any studio dataset: builtin:..., gsm8k, a .jsonl/.csv file); they need "
        "reference answers for the verifiable reward."))
    split: str = field(default="train", metadata=field_help(
        "Split of the dataset (keep the test split for evaluation)."))
    limit: int | None = field(default=64, metadata=field_help("How many problems to use; empty for all."))
    problem_seed: int = field(default=0, metadata=field_help("Seed of the built-in generator that picks the problems."))
    prm: str = field(default="", metadata={**field_help(
        "The studio PRM that scores steps: its model id or folder (train one with `train prm`). Empty only "
        "when prm_weight is 0."), "widget": "prm"})
    prm_weight: float = field(default=1.0, metadata=field_help("Weight of the PRM reward."))
    correctness_weight: float = field(default=1.0, metadata=field_help(
        "Weight of the verifiable reward (1 when the final answer equals the reference)."))
    aggregation: str = field(default="softmin", metadata=field_help(
        "How step scores become one reward: min, mean, last, product, or softmin (a soft minimum).",
        AGGREGATIONS))
    softmin_temperature: float = field(default=0.1, metadata=field_help(
        "Temperature of softmin: near 0 it is the minimum, large it is the mean."))
    segmenter: str = field(default="auto", metadata=field_help(
        "How completions are split into steps; use the one the PRM's labels were made with.", SEGMENTERS))
    num_generations: int = field(default=4, metadata=field_help(
        "Completions sampled per problem; GRPO compares them with each other."))
    max_completion_length: int = field(default=128, metadata=field_help("Tokens per sampled completion."))
    generation_temperature: float = field(default=1.0, metadata=field_help("Sampling temperature of the completions."))
    beta: float = field(default=0.04, metadata=field_help(
        "KL penalty towards the base model (0 skips the reference model and the KL chart)."))
    learning_rate: float = field(default=1e-6, metadata=at_least(0, "Peak learning rate of AdamW."))
    per_device_batch_size: int = field(default=4, metadata=at_least(1,
        "Completions per device per forward pass; batch x accumulation x GPUs must be a multiple of "
        "num_generations."))
    save_steps: int = field(default=25, metadata=at_least(1,
        "Save a resumable checkpoint every this many steps (cancel also saves one)."))
    vllm_server_url: str | None = field(default=None, metadata=field_help(
        "GPU only: generate through a running `trl vllm-serve` at this URL (TRL's vLLM server mode) instead "
        "of transformers."))

    def __post_init__(self) -> None:
        super().__post_init__()
        if not str(self.dataset).strip():
            raise ConfigError("No dataset given: set [[dataset]] (builtin:arithmetic-easy, gsm8k, or a file).")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"[[limit]] must be at least 1 (got {self.limit}); leave it empty for every problem.")
        if self.num_generations < 2:
            raise ConfigError(f"[[num_generations]] must be at least 2 (got {self.num_generations}): GRPO compares "
                              "completions of the same problem.")
        effective = self.per_device_batch_size * self.gradient_accumulation_steps * self.world_size
        if effective % self.num_generations:
            raise ConfigError(
                f"per_device_batch_size x gradient_accumulation_steps x GPUs = {effective} is not a multiple of "
                f"num_generations = {self.num_generations}; e.g. set [[per_device_batch_size]] "
                f"{self.num_generations} or [[num_generations]] {math.gcd(effective, self.num_generations)}.")
        if self.max_completion_length < 8:
            raise ConfigError(f"[[max_completion_length]] must be at least 8 tokens (got "
                              f"{self.max_completion_length}).")
        if self.prm_weight < 0 or self.correctness_weight < 0 or self.prm_weight + self.correctness_weight <= 0:
            raise ConfigError("Reward weights must be 0 or more with at least one positive; e.g. [[prm_weight]] 1 "
                              "[[correctness_weight]] 1.")
        if self.prm_weight > 0 and not str(self.prm).strip():
            raise ConfigError("[[prm_weight]] is above 0 but no PRM is given: set [[prm]] to a studio PRM "
                              "(train one with `python -m agentark train prm`) or [[prm_weight]] to 0.")
        self.check_choices(("aggregation", AGGREGATIONS), ("segmenter", SEGMENTERS))
        if self.aggregation == "softmin" and self.softmin_temperature <= 0:
            raise ConfigError(f"[[softmin_temperature]] must be positive (got {self.softmin_temperature}).")
        if self.beta < 0:
            raise ConfigError(f"[[beta]] must be 0 or more (got {self.beta}).")
        if self.vllm_server_url and self.device == "cpu":
            raise ConfigError("[[vllm_server_url]] is GPU-only (TRL's vLLM server mode); on a CPU leave it empty.")


def completion_text(completion) -> str:
    """The text of a completion as TRL passes it: a string, or a conversational ``[{"role": "assistant", ...}]``."""
    if isinstance(completion, list):
        return "".join(str(m.get("content") or "") for m in completion if m.get("role", "assistant") == "assistant")
    return str(completion or "")


class PRMReward:
    """Reward (a): the aggregated PRM step scores of each completion; 0 for a completion with no steps."""

    __name__ = "prm"

    def __init__(self, scorer, aggregation: str, temperature: float, segmenter: str) -> None:
        self.scorer = scorer
        self.aggregation = aggregation
        self.temperature = temperature
        self.segmenter = segmenter

    def steps(self, text: str) -> list[str]:
        from agentark.runs.steps import segment

        return [s.text for s in segment(text, self.segmenter)]

    def __call__(self, prompts, completions, question, **kwargs) -> list[float]:
        from agentark.train.prm_scoring import aggregate

        items = [(q, self.steps(completion_text(c))) for q, c in zip(question, completions)]
        scores = self.scorer.score(items)
        return [aggregate(s, self.aggregation, self.temperature) if s else 0.0 for s in scores]


class CorrectnessReward:
    """Reward (b): 1 when the grader's extracted final answer equals the reference, else 0. Also logs the share
    of completions with an answer the grader can parse at all."""

    __name__ = "correct"

    def __call__(self, prompts, completions, reference, log_metric=None, **kwargs) -> list[float]:
        from agentark.grading import extract_answer, is_correct

        answers = [extract_answer(completion_text(c)) for c in completions]
        if log_metric is not None and answers:
            log_metric("parseable_answer_share", sum(a is not None for a in answers) / len(answers))
        return [1.0 if a is not None and is_correct(a, ref) else 0.0 for a, ref in zip(answers, reference)]


def practice_problems(cfg: PADJobConfig) -> list:
    """The problems a PAD job practises on (its lineage: the held-out check refuses them for this model)."""
    from agentark.errors import DatasetError
    from agentark.tasks import load_problems

    report = load_problems(cfg.dataset, limit=cfg.limit, split=cfg.split, seed=cfg.problem_seed)
    if not report.problems:
        raise DatasetError(f"Dataset '{cfg.dataset}' (split {cfg.split}) gave no problems; check the name and split.")
    return report.problems


def pad_rows(cfg: PADJobConfig) -> list[dict]:
    """The GRPO dataset: the solve prompt as a chat, plus the question and reference for the rewards."""
    from agentark.debate import solve_messages

    return [{"prompt": solve_messages(p.question), "question": p.question, "reference": p.reference_answer}
            for p in practice_problems(cfg)]


def reward_functions(cfg: PADJobConfig, scorer=None) -> tuple[list, list[float]]:
    """The reward callables and their weights; loads the PRM unless a loaded one is given."""
    funcs, weights = [], []
    if cfg.prm_weight > 0:
        if scorer is None:
            from agentark.train.prm_scoring import load_prm

            scorer = load_prm(cfg.prm, device="cpu" if cfg.device == "cpu" else "auto")
        funcs.append(PRMReward(scorer, cfg.aggregation, cfg.softmin_temperature, cfg.segmenter))
        weights.append(cfg.prm_weight)
    if cfg.correctness_weight > 0:
        funcs.append(CorrectnessReward())
        weights.append(cfg.correctness_weight)
    return funcs, weights


def check_rewards(funcs: list, rows: list[dict]) -> None:
    """Call every reward on hand-made completions of real problems (a right answer in two steps, a wrong one,
    an empty one) and refuse anything but one finite number per completion."""
    sample = rows[:2]
    prompts, completions, kwargs = [], [], {"question": [], "reference": []}
    for row in sample:
        for text in (f"Work it out.\n\nThe answer is {row['reference']}.", "I think it is 1e9 + 7.\n\nThe answer is x.",
                     ""):
            prompts.append(row["prompt"])
            completions.append([{"role": "assistant", "content": text}])
            kwargs["question"].append(row["question"])
            kwargs["reference"].append(row["reference"])
    for func in funcs:
        name = getattr(func, "__name__", type(func).__name__)
        try:
            out = func(prompts=prompts, completions=completions, completion_ids=None, log_metric=lambda *a: None,
                       trainer_state=None, **kwargs)
        except Exception as exc:
            raise ConfigError(f"Reward '{name}' failed on sample completions before launch: {type(exc).__name__}: "
                              f"{exc}. Check the PRM folder and the dataset's reference answers.") from exc
        if not isinstance(out, list) or len(out) != len(completions):
            raise ConfigError(f"Reward '{name}' returned {len(out) if isinstance(out, list) else type(out).__name__} "
                              f"for {len(completions)} completions; it must return one number per completion.")
        bad = [v for v in out if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)]
        if bad:
            raise ConfigError(f"Reward '{name}' returned non-finite or non-numeric values {bad[:3]} on sample "
                              "completions; check the PRM (a NaN score usually means a broken checkpoint).")


def check_pad(cfg: PADJobConfig, scorer=None) -> tuple[list[dict], list, list[float]]:
    """Everything that can be refused before a PAD job starts: device, vLLM, problems, the base model's
    tokenizer and chat template, the PRM, and the rewards on a sample. Returns (rows, rewards, weights)."""
    hw = detect_hardware(cfg.device, cfg.precision, cfg.gradient_checkpointing)
    if cfg.vllm_server_url and hw.device != "cuda":
        raise ConfigError("[[vllm_server_url]] is GPU-only (TRL's vLLM server mode) and no GPU is visible; leave it "
                          "empty to generate with transformers.")
    rows = pad_rows(cfg)
    load_tokenizer(cfg.base_model)
    funcs, weights = reward_functions(cfg, scorer)
    check_rewards(funcs, rows)
    return rows, funcs, weights


def _timed_grpo_class():
    from trl import GRPOTrainer

    class TimedGRPOTrainer(GRPOTrainer):
        """TRL's GRPO trainer that also reports, per optimizer step, the seconds spent sampling completions
        (``generation_time_s``) and scoring them (``reward_time_s``, the PRM pass and the grader); the rest of
        ``step_time_s`` is training (log-probabilities, loss, backward, optimizer)."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._spent = {"generation_time_s": 0.0, "reward_time_s": 0.0}

        def _timed(self, name: str, work, *args, **kwargs):
            sync_device()
            started = time.perf_counter()
            try:
                return work(*args, **kwargs)
            finally:
                sync_device()
                self._spent[name] += time.perf_counter() - started

        def _generate(self, *args, **kwargs):
            return self._timed("generation_time_s", super()._generate, *args, **kwargs)

        def _calculate_rewards(self, *args, **kwargs):
            return self._timed("reward_time_s", super()._calculate_rewards, *args, **kwargs)

        def training_step(self, *args, **kwargs):
            output = super().training_step(*args, **kwargs)
            # The parent counts micro-steps in _step; an optimizer step ends every accumulation-steps of them.
            if self._step % self.current_gradient_accumulation_steps == 0:
                for name, seconds in self._spent.items():
                    self._metrics["train"][name].append(seconds)
                self._spent = dict.fromkeys(self._spent, 0.0)
            return output

    return TimedGRPOTrainer


def build_trainer(cfg: PADJobConfig, out_dir: Path, on_metrics: OnMetrics | None = None,
                  should_stop: ShouldStop | None = None, scorer=None):
    """The configured ``GRPOTrainer`` and its job callback."""
    from trl import GRPOConfig

    hw = detect_hardware(cfg.device, cfg.precision, cfg.gradient_checkpointing)
    rows, funcs, weights = check_pad(cfg, scorer)
    model, tokenizer = causal_lm(cfg, hw, padding_side="left")
    vllm = (dict(use_vllm=True, vllm_mode="server", vllm_server_base_url=cfg.vllm_server_url)
            if cfg.vllm_server_url else {})
    args = GRPOConfig(**training_arguments(cfg, hw, out_dir), num_generations=cfg.num_generations,
                      max_completion_length=cfg.max_completion_length, temperature=cfg.generation_temperature,
                      beta=cfg.beta, reward_weights=weights, log_completions=False, **vllm)
    callback = job_callback(on_metrics, should_stop)
    trainer = trl_trainer(_timed_grpo_class(), cfg, model, tokenizer, args, rows, callback, reward_funcs=funcs)
    return trainer, callback, hw


def train_pad(cfg: PADJobConfig, out_dir: Path | str, on_metrics: OnMetrics | None = None,
              should_stop: ShouldStop | None = None, resume: bool = False, scorer=None) -> TrainResult:
    """Run GRPO on ``cfg.base_model`` with the PRM and verifiable rewards, writing under ``out_dir``.

    Callbacks and ``resume`` behave as in :func:`agentark.train.sft.train_sft`; ``scorer`` is an already
    loaded PRM to use instead of loading ``cfg.prm``.
    """
    from agentark.debate import SOLVE_PROMPT

    out_dir = Path(out_dir)
    trainer, callback, hw = build_trainer(cfg, out_dir, on_metrics, should_stop, scorer)
    practised = sorted({p.problem_id for p in practice_problems(cfg)})
    card = {"kind": "pad", "base_model": cfg.base_model, "export_sha256": None, "prompt": SOLVE_PROMPT,
            "prm": cfg.prm, **lineage_fields(practised, f"practice problems {cfg.dataset} ({cfg.split})")}
    return train_and_finish(trainer, callback, hw, out_dir, card, cfg, resume)


PAD = register_training_kind("pad", "PAD (GRPO with PRM rewards)", PADJobConfig, check_pad, train_pad,
                             reads=("problems", "model:prm"))
