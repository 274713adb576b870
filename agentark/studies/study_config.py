"""A study's declaration: one dataclass (``StudyConfig``) behind the study file, the CLI and the Study page.

A study asks whether distilling a team's debate teaches a student more than cheaper data does. It names the
dataset and its splits, the teacher (a debate method, its agents, rounds and models, or ``teacher_runs``: debates
already run or imported, whose problems the study splits into train and test by question), the data arms (debate
R-SFT, debate DA, single-agent self-distillation and the teacher alone (its round-1 answers), both of matched
volume, corrections-only, and PAD on top of an SFT arm), the student, PRM and PAD training settings, and the
evaluation (held-out problems, training seeds).

Design decision: a study is made of the configs its steps run, not of copies of their fields. The teacher is a
``DebateConfig``, the single-agent arm a ``SingleAgentConfig``, the students' training the ``SFTJobConfig``,
``PRMConfig`` and ``PADJobConfig``, the evaluation an ``EvalConfig``; the study keeps only what is its own
(dataset, splits, sizes, problem seed, arms, seeds, the student, the device) and, when it builds a step, sets the
fields it decides (the problems, the exports, the models, the seeds) on the part's config (``study_job``).
``agentark.options`` offers a part's fields as prefixed options (``teacher_agents``, flag ``--teacher-agents``),
so the CLI flags and the page form are generated as for any config. A study file (TOML) gives a part as a table:
``[teacher] agents = 3`` is ``teacher_agents = 3`` (:func:`study_file_values`); an unknown key is refused with the
keys that exist, and the keys of older study files (``[sft] batch_size``, ``[pad] steps``) still load.
"""
from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from agentark.config import EMBEDDED_MODEL
from agentark.debate.debate_config import DebateConfig
from agentark.errors import ConfigError
from agentark.evaluate.eval_config import EvalConfig
from agentark.options import ConfigBase, check_bounds, from_flat, option_names, options
from agentark.studies.arms import arm_names, matchable_arms
from agentark.studies.single_agent import SingleAgentConfig
from agentark.train.pad import PADJobConfig
from agentark.train.prm import PRMConfig
from agentark.train.sft import SFTJobConfig
from agentark.jobs.machine import DEVICE_CHOICES

STUDENT_ENGINES = ("transformers", "vllm")
# What a part's config holds, until the study builds a step, in the fields the study sets that may not be empty.
SET_BY_STUDY = "(set by the study for each step)"
# Keys of older study files (and stored study configs) and the options they are now.
RENAMED = {"teacher_agent_models": "teacher_agent_model", "sft_batch_size": "sft_per_device_batch_size",
           "pad_steps": "pad_max_steps", "pad_generations": "pad_num_generations"}
# Tables of a study file that are not a part's config: ``[student] model`` is ``student_model``.
STUDY_TABLES = ("student",)


def part(cls, prefix: str, skip: tuple[str, ...], help_text: str, where: str) -> dict:
    """The metadata of a part of the study: a whole config of ``cls`` whose ``skip`` fields the study sets."""
    return {"help": help_text, "config": cls, "prefix": prefix, "skip": skip, "part": where}


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
        "help": "seed that picks the built-in generator's problems (train and test); every step's config records it"})

    teacher: DebateConfig = field(
        default_factory=lambda: DebateConfig(agents=3, rounds=2, max_tokens=128),
        metadata=part(DebateConfig, "teacher", ("dataset", "split", "limit", "problem_seed", "columns"),
                      "the teacher's debate (the study gives it its dataset, splits and problems)", "teacher"))
    teacher_runs: list[str] = field(default_factory=list, metadata={
        "help": "a teacher made of existing runs instead of a debate to run: run ids, or transcript files to import "
                "(FORMAT:PATH, or a .json path read as du2023 and a .jsonl path as transcripts); the study splits "
                "their problems by question into train_problems and test_problems (problem_seed shuffles them)",
        "flag": "--teacher-run", "repeat": True, "part": "teacher"})

    arms: list[str] = field(default_factory=lambda: list(arm_names()), metadata={
        "help": "data arms to train and evaluate (the base model is always evaluated)", "choices": arm_names,
        "flag": "--arm", "repeat": True, "part": "arms"})
    seeds: list[int] = field(default_factory=lambda: [0], metadata={
        "help": "training seeds: every trained arm is trained and evaluated once per seed", "flag": "--seed",
        "repeat": True, "part": "arms"})
    da_max_per_problem: int = field(default=4, metadata={"help": "DA: distinct trajectories per problem", "min": 1,
                                                         "part": "arms"})
    alone_match: str = field(default="rsft", metadata={
        "help": "the debate arm whose rows and tokens the teacher-alone arm matches", "choices": matchable_arms,
        "part": "arms"})
    min_train_rows: int = field(default=20, metadata={
        "help": "an arm trained on fewer rows than this is flagged: its result cannot say much", "min": 1,
        "part": "arms"})
    pad_on: str = field(default="rsft", metadata={"help": "the SFT arm PAD starts from", "choices": matchable_arms,
                                                  "part": "arms"})
    single: SingleAgentConfig = field(default_factory=SingleAgentConfig, metadata=part(
        SingleAgentConfig, "single", (), "the single-agent arm's sampling", "arms"))

    student_model: str = field(default=EMBEDDED_MODEL, metadata={
        "help": "the base model every arm starts from (and the base row of the table)", "part": "students"})
    student_engine: str = field(default="transformers", metadata={
        "help": "engine that evaluates the students (and samples the single-agent arm)", "choices": STUDENT_ENGINES,
        "part": "students"})

    sft: SFTJobConfig = field(
        default_factory=lambda: SFTJobConfig(export=SET_BY_STUDY, epochs=2.0, learning_rate=2e-5, max_length=512),
        metadata=part(SFTJobConfig, "sft", ("export", "base_model", "seed", "device"),
                      "every SFT arm's training (the study gives each its export, base model and seed)", "training"))
    prm_model: str = field(default="", metadata={"help": "the PRM's backbone (empty: student_model)",
                                                 "part": "training"})
    prm: PRMConfig = field(
        default_factory=lambda: PRMConfig(export=SET_BY_STUDY, epochs=1.0, learning_rate=2e-5, max_length=512),
        metadata=part(PRMConfig, "prm", ("export", "base_model", "seed", "device"),
                      "the study's PRM, trained on the teacher's automatically labelled steps", "training"))
    pad: PADJobConfig = field(
        default_factory=lambda: PADJobConfig(prm=SET_BY_STUDY, max_steps=4, num_generations=4,
                                             per_device_batch_size=4, learning_rate=1e-6, max_completion_length=128),
        metadata=part(PADJobConfig, "pad", ("dataset", "split", "limit", "problem_seed", "base_model", "prm", "seed",
                                            "device"),
                      "PAD (GRPO) on top of the pad_on arm, with the study's PRM", "training"))
    device: str = field(default="auto", metadata={"help": "where to train: auto, cpu or cuda", "choices": DEVICE_CHOICES,
                                                  "part": "training"})
    executor: str = field(default="", metadata={
        "help": "where the study and its steps run: local (this machine's slots) or slurm (each step a Slurm job, "
                "the arms and seeds side by side, the study going on after them with --dependency=afterok); empty: "
                "the studio's setting (AGENTARK_EXECUTOR), else local", "part": "training"})

    evaluation: EvalConfig = field(
        default_factory=lambda: EvalConfig(temperature=0.0, max_tokens=128),
        metadata=part(EvalConfig, "eval", ("model", "engine", "engine_options", "dataset", "split", "limit",
                                           "problem_seed"),
                      "how every arm is evaluated on the held-out problems", "evaluation"))

    def __post_init__(self) -> None:
        if any(isinstance(getattr(self, f.name), Mapping) for f in fields(self) if "config" in f.metadata):
            for opt in options(StudyConfig):  # a stored config gives its parts as dicts
                value = getattr(self, opt.name)
                if opt.kind == "config" and isinstance(value, Mapping):
                    known = {f.name for f in fields(opt.meta["config"]) if f.init}
                    setattr(self, opt.name, opt.nested({k: v for k, v in value.items() if k in known}))
        check_bounds(StudyConfig, self)
        if not str(self.name).strip():
            raise ConfigError("Give the study a [[name]].")
        unknown = [a for a in self.arms if a not in arm_names()]
        if unknown:
            raise ConfigError(f"Unknown arm(s) {', '.join(unknown)} in [[arms]]; choose from {', '.join(arm_names())}.")
        self.arms = [a for a in arm_names() if a in self.arms]
        self.seeds = [int(s) for s in dict.fromkeys(self.seeds)]
        if not self.seeds:
            raise ConfigError("[[seeds]] is empty; give at least one training seed, e.g. 0.")
        if self.train_split == self.test_split:
            raise ConfigError(f"[[train_split]] and [[test_split]] are both '{self.train_split}': the evaluation "
                              "would not be held out. Use train and test.")
        self.teacher_runs = [str(r).strip() for r in self.teacher_runs if str(r).strip()]
        if "pad" in self.arms and self.pad_on not in self.arms:
            raise ConfigError(f"PAD starts from the {self.pad_on} arm; add it to [[arms]] or set [[pad_on]] to an "
                              "arm the study trains.")

    @classmethod
    def from_dict(cls, data: dict) -> "StudyConfig":
        """A stored study config: its parts as dicts, or (stored by an older version) flat prefixed keys such as
        ``teacher_agents``; keys the class does not know are ignored."""
        parts = {o.name for o in options(cls) if o.kind == "config"}
        flat = renamed({k: v for k, v in data.items() if k not in parts})
        known = option_names(cls)
        return from_flat(cls, {k: v for k, v in flat.items() if k in known},
                         **{k: v for k, v in data.items() if k in parts})

    # -- what the steps are built from ---------------------------------------------------------------------
    @property
    def sampler_engine(self) -> str:
        return self.single.engine or self.student_engine

    @property
    def sampler_model(self) -> str:
        return self.single.model or self.student_model

    @property
    def prm_backbone(self) -> str:
        return self.prm_model or self.student_model


def renamed(values: dict) -> dict:
    """Option values with the keys of older study files renamed; PAD's batch followed its generations there."""
    out = {RENAMED.get(k, k): v for k, v in values.items()}
    if "pad_generations" in values and "pad_per_device_batch_size" not in values:
        out["pad_per_device_batch_size"] = values["pad_generations"]
    return out


def sections() -> tuple[str, ...]:
    """The tables a study file may have: each part's prefix, and the study's own tables."""
    return tuple(o.meta["prefix"] for o in options(StudyConfig) if o.kind == "config") + STUDY_TABLES


def flatten(data: dict, where: str = "study file") -> dict:
    """A study file's tables as option names (``[teacher] agents`` -> ``teacher_agents``), older keys renamed;
    unknown keys are refused with the keys that exist."""
    flat: dict = {}
    tables = sections()
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in tables:
                raise ConfigError(f"{where}: unknown table [{key}]; tables are {', '.join(tables)}.")
            for sub, v in value.items():
                flat[f"{key}_{sub}"] = v
        else:
            flat[key] = value
    flat = renamed(flat)
    known = option_names(StudyConfig)
    unknown = sorted(set(flat) - known)
    decided = sorted(set(unknown) & {f"{o.meta['prefix']}_{name}" for o in options(StudyConfig)
                                     if o.kind == "config" for name in o.meta["skip"]})
    if decided:
        raise ConfigError(f"{where}: the study sets {', '.join(decided)} itself for each step (from its dataset, "
                          "splits, problems, problem seed, seeds, student and device); set those at the top level "
                          "and leave them out of the tables.")
    if unknown:
        close = {name: difflib.get_close_matches(name, known, n=1) for name in unknown}
        named = ", ".join(f"{name} (did you mean {close[name][0]}?)" if close[name] else name for name in unknown)
        own = [o.name for o in options(StudyConfig) if o.kind != "config"]
        raise ConfigError(f"{where}: unknown key(s) {named}. A study file sets {', '.join(own)} and, in the "
                          f"tables {', '.join(f'[{t}]' for t in tables)}, the fields of each part (`python -m "
                          "agentark study run --help` lists every one as a flag).")
    return flat


def study_text_values(text: str, where: str = "study file") -> dict:
    """A study file's TOML text as option values (see :func:`flatten`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}.") from exc
    return flatten(data, where)


def study_from_values(values: dict, where: str = "study file") -> StudyConfig:
    """A study from option values (a file's, with flags given on top)."""
    try:
        return from_flat(StudyConfig, values)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}.") from exc


def parse_study(text: str, where: str = "study file") -> StudyConfig:
    """A study from TOML text."""
    return study_from_values(study_text_values(text, where), where)


def study_file_values(path: Path | str) -> dict:
    """A study file's option values (``builtin`` names the built-in study)."""
    if str(path) == BUILTIN_NAME:
        path = BUILTIN_FILE
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"No study file {path}; write one (see docs/studies.md) or run the built-in study with "
                          f"`python -m agentark study run {BUILTIN_NAME}`.")
    return study_text_values(path.read_text(encoding="utf-8"), str(path))


def load_study_file(path: Path | str) -> StudyConfig:
    """Read a study file (TOML); ``builtin`` names the built-in study."""
    where = str(BUILTIN_FILE if str(path) == BUILTIN_NAME else path)
    return study_from_values(study_file_values(path), where)


BUILTIN_NAME = "builtin"
BUILTIN_FILE = Path(__file__).with_name("builtin_study.toml")


def builtin_study() -> StudyConfig:
    """The built-in study: the embedded model as teacher and student on one-step arithmetic, sized for two CPU
    cores (see docs/studies.md for its measured table)."""
    return load_study_file(BUILTIN_NAME)
