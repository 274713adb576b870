"""A study's declaration: one dataclass (``StudyConfig``) behind the study file, the CLI and the Study page.

A study asks whether distilling a team's debate teaches a student more than cheaper data does. It names the
dataset and its splits, the teacher (a debate method, its agents, rounds and models), the data arms (debate
R-SFT, debate DA, single-agent self-distillation of matched volume, corrections-only, and PAD on top of an SFT
arm), the student, PRM and PAD training settings, and the evaluation (held-out problems, training seeds).

Design decision: the fields are flat, prefixed by the part of the study they set (``teacher_agents``,
``sft_epochs``), so ``agentark.options`` generates every flag and form widget from them like any config. A
study file (TOML) may group them in tables: ``[teacher] agents = 3`` is ``teacher_agents = 3``
(:func:`load_study_file`); an unknown key is refused with the keys that exist.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from agentark.config import EMBEDDED_MODEL
from agentark.errors import ConfigError
from agentark.jobs.machine import DEVICE_CHOICES
from agentark.options import ConfigBase, check_bounds

# The data arms a study can train, in table order; "base" (the untrained student) is always evaluated.
ARMS = ("rsft", "da", "single", "corrections", "pad")
ARM_NAMES = {
    "base": "base model (no training)",
    "rsft": "debate R-SFT",
    "da": "debate DA",
    "single": "single-agent self-distillation, matched volume",
    "corrections": "corrections only (R-SFT)",
    "pad": "PAD (GRPO with the study's PRM)",
}
# Arms trained with SFT on an export, and the arms PAD may start from / the single arm may match.
SFT_ARMS = ("rsft", "da", "single", "corrections")
MATCHABLE = ("rsft", "da")
STUDENT_ENGINES = ("transformers", "vllm")
# Tables of a study file and the field prefix each stands for.
SECTIONS = ("teacher", "student", "single", "sft", "prm", "pad", "eval")


def _served(values: dict, name: str) -> bool:
    return values.get("teacher_engine") == "openai"


@dataclass
class StudyConfig(ConfigBase):
    """One declared experiment; stored as the study job's config."""

    name: str = field(default="study", metadata={"help": "a short name for the study (its id starts with it)"})
    dataset: str = field(default="builtin:arithmetic-onestep", metadata={
        "help": "builtin:arithmetic-onestep, gsm8k, hf:NAME or a .jsonl/.parquet/.csv path", "widget": "dataset"})
    train_split: str = field(default="train", metadata={"help": "split the teacher debates and students learn on"})
    test_split: str = field(default="test", metadata={"help": "held-out split every arm is evaluated on"})
    train_problems: int = field(default=24, metadata={"help": "training problems", "min": 1})
    test_problems: int = field(default=40, metadata={"help": "held-out test problems", "min": 2})
    problem_seed: int = field(default=0, metadata={
        "help": "seed that picks the built-in generator's problems (train and test)"})
    arms: list[str] = field(default_factory=lambda: list(ARMS), metadata={
        "help": "data arms to train and evaluate (the base model is always evaluated)", "choices": ARMS,
        "flag": "--arm", "repeat": True})
    seeds: list[int] = field(default_factory=lambda: [0], metadata={
        "help": "training seeds: every trained arm is trained and evaluated once per seed", "flag": "--seed",
        "repeat": True})

    teacher_method: str = field(default="debate", metadata={
        "help": "the teacher's debate method (debate, mad, critique, ...)"})
    teacher_agents: int | None = field(default=3, metadata={"help": "teacher agents (empty: the method's default)",
                                                            "min": 1})
    teacher_rounds: int | None = field(default=2, metadata={"help": "teacher rounds (empty: the method's default)",
                                                            "min": 1})
    teacher_engine: str = field(default="transformers", metadata={
        "help": "the teacher's engine: transformers, openai (a served model), vllm, scripted"})
    teacher_model: str = field(default=EMBEDDED_MODEL, metadata={"help": "the teacher's model"})
    teacher_agent_models: list[str] = field(default_factory=list, metadata={
        "help": "one model per speaker, in order ([ENGINE=]MODEL); empty: every speaker uses teacher_model",
        "repeat": True, "metavar": "[ENGINE=]MODEL"})
    teacher_base_urls: list[str] = field(default_factory=list, metadata={
        "help": "the served teacher's OpenAI-compatible URLs (teacher_engine openai)", "flag": "--teacher-base-url",
        "repeat": True, "applies": _served})
    teacher_api_key_env: str | None = field(default=None, metadata={
        "help": "environment variable holding the served teacher's API key (the key is never stored)",
        "applies": _served})
    teacher_temperature: float = field(default=0.7, metadata={"help": "teacher sampling temperature", "min": 0,
                                                              "max": 2})
    teacher_max_tokens: int = field(default=128, metadata={"help": "tokens per teacher message", "min": 1})
    teacher_seed: int = field(default=0, metadata={"help": "the teacher's sampling seed"})

    student_model: str = field(default=EMBEDDED_MODEL, metadata={
        "help": "the base model every arm starts from (and the base row of the table)"})
    student_engine: str = field(default="transformers", metadata={
        "help": "engine that evaluates the students (and samples the single-agent arm)", "choices": STUDENT_ENGINES})

    single_engine: str = field(default="", metadata={
        "help": "engine of the single-agent samples (empty: student_engine); e.g. openai for the same weights "
                "served by vLLM"})
    single_model: str = field(default="", metadata={"help": "model of the single-agent samples (empty: "
                                                            "student_model; give the same weights when served)"})
    single_base_urls: list[str] = field(default_factory=list, metadata={
        "help": "OpenAI-compatible URLs serving the base model (single_engine openai)", "flag": "--single-base-url",
        "repeat": True})
    single_samples: int = field(default=4, metadata={"help": "single-agent samples per problem per round", "min": 1})
    single_max_rounds: int = field(default=4, metadata={
        "help": "sampling rounds at most while the correct answers are fewer than the debate arm's rows", "min": 1})
    single_temperature: float = field(default=0.7, metadata={"help": "single-agent sampling temperature",
                                                             "min": 0, "max": 2})
    single_match: str = field(default="rsft", metadata={
        "help": "the debate arm whose rows and tokens the single-agent arm matches", "choices": MATCHABLE})
    da_max_per_problem: int = field(default=4, metadata={"help": "DA: distinct trajectories per problem", "min": 1})

    sft_epochs: float = field(default=2.0, metadata={"help": "SFT passes over each arm's training set"})
    sft_max_steps: int | None = field(default=None, metadata={"help": "SFT optimizer steps (empty: by epochs)",
                                                              "min": 1})
    sft_learning_rate: float = field(default=2e-5, metadata={"help": "SFT peak learning rate"})
    sft_batch_size: int = field(default=4, metadata={"help": "SFT examples per device per step", "min": 1})
    sft_max_length: int = field(default=512, metadata={"help": "SFT tokens per conversation", "min": 16})
    sft_lora: bool = field(default=False, metadata={"help": "train LoRA adapters (merged into the final model)"})

    prm_model: str = field(default="", metadata={"help": "the PRM's backbone (empty: student_model)"})
    prm_epochs: float = field(default=1.0, metadata={"help": "PRM passes over the teacher's step labels"})
    prm_max_steps: int | None = field(default=None, metadata={"help": "PRM optimizer steps (empty: by epochs)",
                                                              "min": 1})
    prm_learning_rate: float = field(default=2e-5, metadata={"help": "PRM peak learning rate"})
    prm_max_length: int = field(default=512, metadata={"help": "PRM tokens per trajectory", "min": 8})

    pad_on: str = field(default="rsft", metadata={"help": "the SFT arm PAD starts from", "choices": MATCHABLE})
    pad_steps: int = field(default=4, metadata={"help": "PAD (GRPO) optimizer steps", "min": 1})
    pad_generations: int = field(default=4, metadata={"help": "PAD completions per problem", "min": 2})
    pad_learning_rate: float = field(default=1e-6, metadata={"help": "PAD peak learning rate"})
    pad_prm_weight: float = field(default=1.0, metadata={"help": "weight of the PRM reward (correctness: 1)",
                                                         "min": 0})
    pad_max_completion_length: int = field(default=128, metadata={"help": "tokens per PAD completion", "min": 8})

    eval_max_tokens: int = field(default=128, metadata={"help": "tokens per answer in evaluation", "min": 1})
    eval_temperature: float = field(default=0.0, metadata={"help": "evaluation temperature (0: greedy)", "min": 0,
                                                           "max": 2})
    device: str = field(default="auto", metadata={"help": "where to train: auto, cpu or cuda",
                                                  "choices": DEVICE_CHOICES})

    def __post_init__(self) -> None:
        check_bounds(StudyConfig, self)
        if not str(self.name).strip():
            raise ConfigError("Give the study a [[name]].")
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown:
            raise ConfigError(f"Unknown arm(s) {', '.join(unknown)} in [[arms]]; choose from {', '.join(ARMS)}.")
        self.arms = [a for a in ARMS if a in self.arms]
        self.seeds = [int(s) for s in dict.fromkeys(self.seeds)]
        if not self.seeds:
            raise ConfigError("[[seeds]] is empty; give at least one training seed, e.g. 0.")
        if self.train_split == self.test_split:
            raise ConfigError(f"[[train_split]] and [[test_split]] are both '{self.train_split}': the evaluation "
                              "would not be held out. Use train and test.")
        if "pad" in self.arms and self.pad_on not in self.arms:
            raise ConfigError(f"PAD starts from the {self.pad_on} arm; add it to [[arms]] or set [[pad_on]] to an "
                              "arm the study trains.")
        for name in ("sft_epochs", "prm_epochs", "sft_learning_rate", "prm_learning_rate", "pad_learning_rate"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"[[{name}]] must be positive (got {getattr(self, name)}).")
        if self.teacher_base_urls and self.teacher_engine != "openai":
            raise ConfigError("[[teacher_base_urls]] belong to [[teacher_engine]] openai.")

    # -- what the steps are built from ---------------------------------------------------------------------
    @property
    def sampler_engine(self) -> str:
        return self.single_engine or self.student_engine

    @property
    def sampler_model(self) -> str:
        return self.single_model or self.student_model

    @property
    def prm_backbone(self) -> str:
        return self.prm_model or self.student_model


def flatten(data: dict, where: str = "study file") -> dict:
    """A study file's tables as flat field names (``[teacher] agents`` -> ``teacher_agents``); unknown keys are
    refused with the keys that exist."""
    known = {f.name for f in fields(StudyConfig)}
    flat: dict = {}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in SECTIONS:
                raise ConfigError(f"{where}: unknown table [{key}]; tables are {', '.join(SECTIONS)}.")
            for sub, v in value.items():
                flat[f"{key}_{sub}"] = v
        else:
            flat[key] = value
    unknown = sorted(set(flat) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; a study file sets: "
                          f"{', '.join(sorted(known))} (or their [section] form).")
    return flat


def parse_study(text: str, where: str = "study file") -> StudyConfig:
    """A study from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}.") from exc
    try:
        return StudyConfig(**flatten(data, where))
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}.") from exc


def load_study_file(path: Path | str) -> StudyConfig:
    """Read a study file (TOML); ``builtin`` names the built-in study."""
    if str(path) == BUILTIN_NAME:
        return builtin_study()
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"No study file {path}; write one (see docs/studies.md) or run the built-in study with "
                          f"`python -m agentark study run {BUILTIN_NAME}`.")
    return parse_study(path.read_text(encoding="utf-8"), str(path))


BUILTIN_NAME = "builtin"
BUILTIN_FILE = Path(__file__).with_name("builtin_study.toml")


def builtin_study() -> StudyConfig:
    """The built-in study: the embedded model as teacher and student on one-step arithmetic, sized for two CPU
    cores (see docs/studies.md for its measured table)."""
    return parse_study(BUILTIN_FILE.read_text(encoding="utf-8"), str(BUILTIN_FILE))
