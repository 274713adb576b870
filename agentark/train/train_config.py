"""What every training job is configured with: the base model, the optimizer and schedule, LoRA, saving, the
device and precision, and how many GPUs and machines share the work.

Design decision: ``TrainConfig`` is the one definition of these fields (their defaults, help and checks);
``PRMConfig``, ``SFTJobConfig`` and ``PADJobConfig`` extend it with what only their trainer needs and
redeclare a shared field only to change its default or help (a redeclared field keeps its place, so the
CLI flags and the Train page's form list the shared options in the same order for every kind). Bounds are field
metadata (``min``/``max``, checked by ``agentark.options.check_bounds``), so the page's number inputs offer only
what the check accepts; a subclass that redeclares a bounded field repeats its bounds with ``at_least``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from agentark.config import EMBEDDED_MODEL
from agentark.errors import ConfigError
from agentark.jobs.machine import DEVICE_CHOICES as DEVICES
from agentark.options import ConfigBase, check_bounds, field_help

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
SWITCHES = ("auto", "on", "off")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")
DISTRIBUTED = ("ddp", "zero2", "zero3", "fsdp")
SHARDED = ("zero3", "fsdp")


def at_least(low: float, text: str, hint: str = "") -> dict:
    """A number field's metadata: its help and its inclusive lower bound (and the bound error's hint)."""
    return {**field_help(text), "min": low, **({"hint": hint} if hint else {})}


@dataclass
class TrainConfig(ConfigBase):
    """The options every trainer shares; stored, with the kind's own, as the job's config."""

    # Whether the trainer merges LoRA weights on the main process, which needs whole (unsharded) weights.
    merges_lora: ClassVar[bool] = True

    base_model: str = field(default=EMBEDDED_MODEL, metadata={**field_help(
        "The model to train: the embedded model, a checkpoint folder, a model id in the local Hugging Face "
        "cache, or a model the studio trained."), "widget": "base_model"})
    # epochs and learning_rate must be above 0: the bound keeps the box from going below it, the check below
    # refuses 0 itself.
    epochs: float = field(default=1.0, metadata=at_least(0, "Passes over the training set (ignored when max_steps is set)."))
    max_steps: int | None = field(default=None, metadata=at_least(
        1, "Stop after this many optimizer steps; leave empty to train for the given epochs.",
        "Leave it empty to train by epochs."))
    learning_rate: float = field(default=1e-5, metadata=at_least(0, "Peak learning rate of AdamW."))
    lr_scheduler: str = field(default="linear", metadata=field_help(
        "Learning-rate schedule after warm-up.", SCHEDULERS))
    warmup_steps: int = field(default=0, metadata=at_least(0, "Optimizer steps of linear warm-up."))
    per_device_batch_size: int = field(default=4, metadata=at_least(1, "Examples per device per forward pass."))
    gradient_accumulation_steps: int = field(default=1, metadata=at_least(1,
        "Forward passes accumulated into one optimizer step (effective batch = batch x accumulation x GPUs)."))
    lora: bool = field(default=False, metadata=field_help(
        "Train LoRA adapters instead of all weights; the final model has them merged in."))
    lora_r: int = field(default=16, metadata=at_least(1, "LoRA rank."))
    lora_alpha: int = field(default=32, metadata=field_help("LoRA scaling numerator (scale = alpha / r)."))
    # A dropout of 1 drops the whole branch: the bound admits it for the slider, the check below refuses it.
    lora_dropout: float = field(default=0.05, metadata={**field_help("Dropout on the LoRA branch."), "min": 0, "max": 1})
    save_steps: int = field(default=50, metadata=at_least(1,
        "Save a resumable checkpoint every this many steps (cancel also saves one)."))
    seed: int = field(default=0, metadata=field_help("Seed for data order, sampling and new weights."))
    device: str = field(default="auto", metadata=field_help(
        "Where to train: auto picks the GPU when there is one.", DEVICES))
    precision: str = field(default="auto", metadata=field_help(
        "Weights and activations: auto is bf16 on a GPU that has it and fp32 on the CPU; bf16/fp16 need a GPU.",
        PRECISIONS))
    gradient_checkpointing: str = field(default="auto", metadata=field_help(
        "Recompute activations to save memory: auto turns it on on a GPU.", SWITCHES))
    num_processes: int = field(default=1, metadata=at_least(1,
        "GPUs per machine; above 1 the job runs under `accelerate launch` with a generated config."))
    num_machines: int = field(default=1, metadata=at_least(1,
        "Machines of a multi-node run (each with num_processes GPUs)."))
    distributed: str = field(default="ddp", metadata=field_help(
        "How several GPUs share the work: ddp, DeepSpeed ZeRO-2/3, or FSDP.", DISTRIBUTED))

    @property
    def world_size(self) -> int:
        """How many processes train: GPUs per machine times machines."""
        return self.num_processes * self.num_machines

    def __post_init__(self) -> None:
        if not str(self.base_model).strip():
            raise ConfigError("No base model given: set [[base_model]] (embedded:smollm2-135m for the embedded "
                              "model).")
        check_bounds(type(self), self)
        if self.max_steps is None and self.epochs <= 0:
            raise ConfigError(f"[[epochs]] must be positive (got {self.epochs}), or set [[max_steps]].")
        if not self.learning_rate > 0:
            raise ConfigError(f"[[learning_rate]] must be positive (got {self.learning_rate}).")
        if self.lora_dropout == 1:
            raise ConfigError("[[lora_dropout]] must be below 1 (got 1): 1 drops the whole LoRA branch; use "
                              "[[lora_dropout]] 0.05 or so.")
        self.check_choices(("device", DEVICES), ("precision", PRECISIONS), ("gradient_checkpointing", SWITCHES),
                           ("lr_scheduler", SCHEDULERS), ("distributed", DISTRIBUTED))
        if self.world_size > 1 and self.device == "cpu":
            raise ConfigError("[[num_processes]] or [[num_machines]] above 1 trains on several GPUs; on a CPU "
                              "use 1.")
        if self.merges_lora and self.lora and self.world_size > 1 and self.distributed in SHARDED:
            raise ConfigError(f"LoRA weights are merged on the main process, which needs whole weights; with "
                              f"[[lora]] set [[distributed]] to ddp or zero2, not {self.distributed}.")

    def check_choices(self, *allowed: tuple[str, tuple]) -> None:
        """Refuse a field whose value is not among its choices."""
        for name, choices in allowed:
            if getattr(self, name) not in choices:
                raise ConfigError(f"[[{name}]] '{getattr(self, name)}' is not one of: {', '.join(choices)}.")

    @property
    def sharded(self) -> bool:
        """Whether the weights are split over the processes (ZeRO-3 or FSDP on several GPUs)."""
        return self.world_size > 1 and self.distributed in SHARDED


def require_export(export: str, make: str) -> None:
    """Refuse a config without a training set, naming the command that makes one."""
    if not str(export).strip():
        raise ConfigError(f"No export given: set [[export]] to an export id or a file path (make one with "
                          f"`python -m agentark export {make}`).")
