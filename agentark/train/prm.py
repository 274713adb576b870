"""Train a process reward model (PRM) on stepwise data with transformers' ``Trainer``.

The PRM is a token-classification model (two classes: 0 bad, 1 good) whose head is read only at the
separator placed after each step (see :mod:`agentark.train.prm_data`). Hard labels train it with cross
entropy; soft labels (Monte-Carlo fractions) with binary cross entropy on the good-minus-bad logit, so a
label of 0.7 reaches the loss as 0.7 (TRL's PRM trainer, gone since TRL 1.14, cast them to int). Options:
a frozen backbone, LoRA (peft), class weights, and a supervised contrastive term on the separator states
through a small projector that is trained and saved with the model.

Design decision: every folder this module writes, each ``checkpoint-N`` and the final ``model``, is a
loadable studio PRM: it carries ``agentark_prm.json`` (separator, label mapping, label type, base model),
which :func:`agentark.train.prm_scoring.load_prm` requires. So a job cancelled or crashed mid-way still
leaves a usable model, and a folder that lacks the file is refused as "not a studio PRM".
"""
from __future__ import annotations

import json
import logging
import math
import os
import resource
import shutil
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

from agentark.config import EMBEDDED_MODEL
from agentark.errors import ConfigError, ModelNotFoundError
from agentark.train.prm_data import (IGNORE, StepwiseCollator, StepwiseData, load_stepwise, separator_ids,
                                     tokenize_dataset)

log = logging.getLogger(__name__)

META_FILE = "agentark_prm.json"
PROJECTOR_FILE = "contrastive_projector.safetensors"
FORMAT = "agentark-prm"
LABEL2ID = {"bad": 0, "good": 1}
NEGATIVE_SHARE_WARNING = 0.10
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DISTRIBUTED = ("none", "ddp", "zero2", "zero3", "fsdp")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")

MetricsCallback = Callable[[int, dict[str, float]], None]
StopCallback = Callable[[], bool]


def _help(text: str) -> dict:
    return {"help": text}


@dataclass
class PRMConfig:
    """Everything a PRM training job needs; the CLI flags and the Train page form are generated from it."""

    data: str = field(default="", metadata=_help(
        "Stepwise training file (.parquet/.jsonl with prompt, completions, labels): a studio PRM export or a "
        "PRM800K/Math-Shepherd-style stepwise file."))
    base_model: str = field(default=EMBEDDED_MODEL, metadata=_help(
        "The PRM's backbone, chosen independently of the student: 'embedded:smollm2-135m', a checkpoint folder, "
        "or a model id in the local Hugging Face cache."))
    separator: str = field(default="\n", metadata=_help(
        "Text placed after each step; the PRM's head is read at its last token. Saved with the model."))
    label_type: str = field(default="auto", metadata=_help(
        "'hard' (good/bad, cross entropy), 'soft' (Monte-Carlo fractions, binary cross entropy) or 'auto' "
        "(soft when the file has fractional labels)."))
    max_length: int = field(default=1024, metadata=_help(
        "Longest token sequence; a long question is cut from the left, steps that do not fit are dropped."))
    epochs: float = field(default=1.0, metadata=_help("Passes over the training file (ignored when max_steps > 0)."))
    max_steps: int = field(default=0, metadata=_help("Stop after this many optimizer steps; 0 means use epochs."))
    learning_rate: float = field(default=2e-5, metadata=_help(
        "Peak learning rate (LoRA and frozen backbones usually want ~1e-4)."))
    lr_scheduler: str = field(default="linear", metadata=_help("Learning-rate schedule: linear, cosine or constant."))
    warmup_steps: int = field(default=0, metadata=_help("Optimizer steps of linear warm-up."))
    weight_decay: float = field(default=0.0, metadata=_help("AdamW weight decay."))
    per_device_batch_size: int = field(default=4, metadata=_help("Trajectories per device per forward pass."))
    gradient_accumulation_steps: int = field(default=1, metadata=_help(
        "Forward passes per optimizer step (effective batch = per-device batch x accumulation x devices)."))
    freeze_backbone: bool = field(default=False, metadata=_help(
        "Train only the classification head (and the contrastive projector); the backbone stays fixed."))
    lora: bool = field(default=False, metadata=_help("Train LoRA adapters on all linear layers plus the head."))
    lora_r: int = field(default=16, metadata=_help("LoRA rank."))
    lora_alpha: int = field(default=32, metadata=_help("LoRA scaling numerator (alpha / r scales the update)."))
    lora_dropout: float = field(default=0.05, metadata=_help("Dropout on the LoRA branch."))
    contrastive_weight: float = field(default=0.0, metadata=_help(
        "Weight of the supervised contrastive term on the steps' separator states (0 turns it off)."))
    contrastive_temperature: float = field(default=0.1, metadata=_help("Temperature of the contrastive term."))
    projector_dim: int = field(default=128, metadata=_help(
        "Output size of the contrastive projector (trained and saved with the model)."))
    class_weights: str = field(default="none", metadata=_help(
        "'none', 'balanced' (inverse class frequency of the training steps) or 'NEG:POS' weights such as '4:1'."))
    logging_steps: int = field(default=1, metadata=_help("Report metrics every this many optimizer steps."))
    save_steps: int = field(default=50, metadata=_help("Write a checkpoint every this many optimizer steps."))
    save_total_limit: int = field(default=2, metadata=_help("Checkpoints kept on disk (older ones are deleted)."))
    seed: int = field(default=0, metadata=_help("Seed for the head's initialisation, data order and dropout."))
    device: str = field(default="auto", metadata=_help("'auto' (CUDA when visible), 'cpu' or 'cuda' (GPU only)."))
    precision: str = field(default="auto", metadata=_help(
        "'auto' (bf16 on a GPU that has it, else fp32), 'fp32', or GPU-only 'bf16'/'fp16'."))
    gradient_checkpointing: str = field(default="auto", metadata=_help(
        "'auto' (on with a GPU), 'on' or 'off': recompute activations to save memory."))
    distributed: str = field(default="none", metadata=_help(
        "Multi-GPU engine for `accelerate launch` (GPU only): none, ddp, zero2, zero3 (DeepSpeed) or fsdp."))
    num_processes: int = field(default=0, metadata=_help(
        "GPUs per machine for a distributed run; 0 means all visible GPUs."))
    num_machines: int = field(default=1, metadata=_help("Machines in a multi-node distributed run."))

    def __post_init__(self) -> None:
        if self.label_type not in ("auto", "hard", "soft"):
            raise ConfigError(f"label_type must be auto, hard or soft (got '{self.label_type}').")
        if not self.separator:
            raise ConfigError("separator is empty; use a short text such as '\\n' that marks the end of a step.")
        positive = {"max_length": self.max_length, "per_device_batch_size": self.per_device_batch_size,
                    "gradient_accumulation_steps": self.gradient_accumulation_steps, "logging_steps": self.logging_steps,
                    "save_steps": self.save_steps, "save_total_limit": self.save_total_limit, "lora_r": self.lora_r,
                    "projector_dim": self.projector_dim, "num_machines": self.num_machines}
        for name, value in positive.items():
            if value < 1:
                raise ConfigError(f"{name} must be at least 1 (got {value}).")
        if self.max_steps < 0 or self.num_processes < 0 or self.warmup_steps < 0:
            raise ConfigError("max_steps, num_processes and warmup_steps cannot be negative; use 0 for the default.")
        if self.max_steps == 0 and self.epochs <= 0:
            raise ConfigError(f"epochs must be positive when max_steps is 0 (got {self.epochs}).")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be positive (got {self.learning_rate}).")
        if self.lr_scheduler not in ("linear", "cosine", "constant"):
            raise ConfigError(f"lr_scheduler must be linear, cosine or constant (got '{self.lr_scheduler}').")
        if self.contrastive_weight < 0 or self.contrastive_temperature <= 0:
            raise ConfigError("contrastive_weight must be >= 0 and contrastive_temperature > 0.")
        if not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"lora_dropout must be in [0, 1) (got {self.lora_dropout}).")
        if self.freeze_backbone and self.lora:
            raise ConfigError("freeze_backbone and lora both limit what trains; choose one (LoRA trains adapters "
                              "and the head, a frozen backbone trains the head only).")
        parse_class_weights(self.class_weights)
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"device must be auto, cpu or cuda (got '{self.device}').")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)} (got '{self.precision}').")
        if self.gradient_checkpointing not in ("auto", "on", "off"):
            raise ConfigError(f"gradient_checkpointing must be auto, on or off (got '{self.gradient_checkpointing}').")
        if self.distributed not in DISTRIBUTED:
            raise ConfigError(f"distributed must be one of {', '.join(DISTRIBUTED)} (got '{self.distributed}').")
        if self.contrastive_weight > 0 and self.distributed in ("zero3", "fsdp"):
            raise ConfigError("The contrastive projector runs outside the sharded forward pass; with "
                              f"distributed='{self.distributed}' set contrastive_weight 0, or use ddp or zero2.")
        if self.distributed == "none" and self.num_machines > 1:
            raise ConfigError("num_machines > 1 needs a distributed engine; set distributed to ddp, zero2, zero3 or fsdp.")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "PRMConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def parse_class_weights(spec: str) -> str | tuple[float, float] | None:
    """None for 'none', 'balanced', or the (negative, positive) weights of a 'NEG:POS' spec."""
    if spec == "none":
        return None
    if spec == "balanced":
        return spec
    try:
        neg, pos = (float(x) for x in spec.split(":"))
    except ValueError:
        raise ConfigError(f"class_weights '{spec}' is not 'none', 'balanced' or 'NEG:POS' (e.g. '4:1').") from None
    if not (neg > 0 and pos > 0):
        raise ConfigError(f"class_weights must be positive numbers (got '{spec}').")
    return neg, pos


@dataclass
class PRMResult:
    """What a training run produced and on what; stored with the job and the model's registry row."""

    model_path: str
    checkpoint: str | None
    global_step: int
    stopped: bool
    resumed_from: str | None
    final_metrics: dict[str, float]
    data_summary: dict[str, float]
    label_type: str
    dropped_steps: int
    class_weights: list[float] | None
    device: str
    precision: str
    world_size: int
    peak_memory_mb: float
    peak_memory_of: str
    train_seconds: float
    trainable_parameters: int
    total_parameters: int
    tokens: int

    def to_dict(self) -> dict:
        return asdict(self)


# -- preflight: everything that can be refused before a model is loaded -------------------------------------
def resolve_base_model(name: str) -> str:
    """A local folder for the PRM's backbone: the embedded model, a studio model id, a checkpoint folder, or a
    model id in the local Hugging Face cache."""
    from agentark.models import resolve

    if not name or name.startswith("embedded:"):
        from agentark.backends.embedded import ensure_embedded

        return str(ensure_embedded())
    name = resolve(name)
    path = Path(name).expanduser()
    if path.is_dir():
        folder = path.resolve()
    elif name.startswith((".", "/", "~")) or name.endswith("/") or name.count("/") > 1:
        raise ModelNotFoundError(f"Base model folder '{name}' does not exist; give an existing checkpoint folder, a "
                                 "model id in your Hugging Face cache, or 'embedded:smollm2-135m'.")
    else:
        from huggingface_hub import snapshot_download

        try:
            folder = Path(snapshot_download(name, local_files_only=True))
        except Exception as exc:  # noqa: BLE001 - any hub failure means "not in the local cache" here
            raise ModelNotFoundError(
                f"'{name}' is neither a folder nor a model in the local Hugging Face cache ({type(exc).__name__}); "
                "download it into the cache on a connected machine, or give a checkpoint folder.") from exc
    if not (folder / "config.json").exists():
        raise ModelNotFoundError(f"{folder} has no config.json; point base_model at a saved model folder.")
    if not any((folder / f).exists() for f in TOKENIZER_FILES):
        raise ModelNotFoundError(f"{folder} has no tokenizer ({', '.join(TOKENIZER_FILES)}); save the tokenizer into "
                                 "that folder (tokenizer.save_pretrained(folder)) or pick another base model.")
    return str(folder)


@dataclass
class Hardware:
    device: str
    precision: str
    gradient_checkpointing: bool
    world_size: int


def detect_hardware(cfg: PRMConfig) -> Hardware:
    """Device, precision and checkpointing for this machine; a GPU-only option without a GPU is refused."""
    import torch

    cuda = torch.cuda.is_available()
    gpu_only = []
    if cfg.device == "cuda":
        gpu_only.append("device='cuda'")
    if cfg.precision in ("bf16", "fp16"):
        gpu_only.append(f"precision='{cfg.precision}'")
    if cfg.distributed != "none":
        gpu_only.append(f"distributed='{cfg.distributed}'")
    if cfg.num_processes > 1:
        gpu_only.append(f"num_processes={cfg.num_processes}")
    if gpu_only and not cuda:
        raise ConfigError(f"{', '.join(gpu_only)} needs a CUDA GPU and none is visible on this machine; run on a GPU "
                          "machine, or set device 'auto', precision 'auto', distributed 'none' and num_processes 0.")
    device = "cuda" if cuda and cfg.device != "cpu" else "cpu"
    precision = cfg.precision
    if precision == "auto":
        precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if device == "cuda" else "fp32"
    if device == "cpu" and precision != "fp32":
        raise ConfigError(f"precision '{precision}' needs a GPU; use 'auto' or 'fp32' with device 'cpu'.")
    checkpointing = {"on": True, "off": False}.get(cfg.gradient_checkpointing, device == "cuda")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    return Hardware(device, precision, checkpointing and not cfg.freeze_backbone, world_size)


def preflight(cfg: PRMConfig) -> tuple[StepwiseData, str, Hardware]:
    """Refuse bad data, a missing model or a GPU-only option on a CPU machine before anything is written."""
    data = load_stepwise(cfg.data, cfg.label_type)
    hardware = detect_hardware(cfg)
    return data, resolve_base_model(cfg.base_model), hardware


def balance_note(summary: dict[str, float]) -> str:
    """The export's positive/negative figures, with a warning naming the labelers that add negatives."""
    text = (f"{int(summary['rows'])} rows, {int(summary['steps'])} steps: {summary['positives']:.0f} positive, "
            f"{summary['negatives']:.0f} negative ({summary['negative_share']:.1%})")
    if summary["negative_share"] < NEGATIVE_SHARE_WARNING:
        text += (f". Negatives are under {NEGATIVE_SHARE_WARNING:.0%}: the PRM will learn little about wrong steps. "
                 "Add them with Monte-Carlo labels (`label-mc`), the debate signal (`autolabel`), or people on the "
                 "labeling page; or set class_weights 'balanced'.")
    return text


def class_weight_values(cfg: PRMConfig, data: StepwiseData) -> list[float] | None:
    spec = parse_class_weights(cfg.class_weights)
    if spec is None:
        return None
    if spec == "balanced":
        s = data.summary()
        if s["negatives"] == 0 or s["positives"] == 0:
            raise ConfigError("class_weights 'balanced' needs both good and bad steps in the data; this file has "
                              f"{s['positives']:.0f} positive and {s['negatives']:.0f} negative steps. Add labels of "
                              "the missing kind or set class_weights 'none'.")
        return [s["steps"] / (2 * s["negatives"]), s["steps"] / (2 * s["positives"])]
    return list(spec)


# -- the model and its loss -------------------------------------------------------------------------------
def _load_model(cfg: PRMConfig, base_folder: str, hardware: Hardware):
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForTokenClassification.from_pretrained(
        base_folder, num_labels=2, id2label={v: k for k, v in LABEL2ID.items()}, label2id=dict(LABEL2ID),
        dtype=torch.float32)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if cfg.contrastive_weight > 0:
        model.prm_projector = torch.nn.Linear(model.config.hidden_size, cfg.projector_dim)
    if cfg.freeze_backbone:
        for name, param in model.named_parameters():
            param.requires_grad = name.startswith(("score.", "classifier.", "prm_projector."))
    if cfg.lora:
        from peft import LoraConfig, TaskType, get_peft_model

        extra = ["prm_projector"] if cfg.contrastive_weight > 0 else []
        model = get_peft_model(model, LoraConfig(task_type=TaskType.TOKEN_CLS, r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                                                 lora_dropout=cfg.lora_dropout, target_modules="all-linear",
                                                 modules_to_save=["score", *extra]))
    if hardware.gradient_checkpointing:
        model.config.use_cache = False
    return model, tokenizer


def _projector(model):
    """The contrastive projector (the trained copy under peft's wrapper when LoRA is on), or None."""
    for name, module in model.named_modules():
        if name.endswith("prm_projector"):
            return module
    return None


def step_loss(logits, labels, label_type: str, class_weights=None):
    """Hard: cross entropy over bad/good; soft: BCE on the good-minus-bad logit against the fraction.

    Both read only positions whose label is not IGNORE; class weights (negative, positive) weigh each step's
    term and normalise by the total weight, so a weighted mean stays a mean.
    """
    import torch.nn.functional as F

    mask = labels != IGNORE
    picked = logits[mask].float()
    target = labels[mask].float()
    if label_type == "hard":
        return F.cross_entropy(picked, target.long(), weight=class_weights)
    margin = picked[:, 1] - picked[:, 0]
    per_step = F.binary_cross_entropy_with_logits(margin, target, reduction="none")
    if class_weights is None:
        return per_step.mean()
    weights = target * class_weights[1] + (1 - target) * class_weights[0]
    return (per_step * weights).sum() / weights.sum()


def contrastive_loss(embeddings, classes, temperature: float):
    """Supervised contrastive loss (Khosla et al. 2020) over the steps of a batch: each step is pulled towards
    the steps of its class and pushed from the others; anchors with no same-class partner do not count."""
    import torch
    import torch.nn.functional as F

    z = F.normalize(embeddings.float(), dim=-1)
    n = z.shape[0]
    same = (classes[:, None] == classes[None, :]) & ~torch.eye(n, dtype=torch.bool, device=z.device)
    anchors = same.any(dim=1)
    if n < 2 or not anchors.any():
        return z.sum() * 0.0
    sim = (z @ z.T) / temperature
    sim = sim.masked_fill(torch.eye(n, dtype=torch.bool, device=z.device), float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    pos_log_prob = log_prob.masked_fill(~same, 0.0).sum(dim=1) / same.sum(dim=1).clamp(min=1)
    return -pos_log_prob[anchors].mean()


class _Meter:
    """Tokens and step times between two logging steps, shared by the trainer and the callback."""

    def __init__(self) -> None:
        self.tokens = 0
        self.total_tokens = 0
        self.step_times: list[float] = []
        self.window_start = time.perf_counter()
        self.step_start = self.window_start

    def take(self) -> dict[str, float]:
        elapsed = max(time.perf_counter() - self.window_start, 1e-9)
        out = {"tokens_per_s": self.tokens / elapsed,
               "step_time": sum(self.step_times) / len(self.step_times) if self.step_times else elapsed}
        self.tokens, self.step_times, self.window_start = 0, [], time.perf_counter()
        return out


def _make_trainer_class():
    from transformers import Trainer

    class PRMTrainer(Trainer):
        """A Trainer whose loss reads the head at the step separators (hard or soft) plus the contrastive term."""

        loss_is_scaled_for_ga = False

        def __init__(self, *args, prm_cfg: PRMConfig, label_type: str, class_weights, meter: _Meter, **kwargs):
            super().__init__(*args, **kwargs)
            self.prm_cfg = prm_cfg
            self.label_type = label_type
            self.class_weights = class_weights
            self.meter = meter

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            import torch

            labels = inputs["labels"]
            contrastive = self.prm_cfg.contrastive_weight > 0
            outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                            output_hidden_states=contrastive)
            weights = None
            if self.class_weights is not None:
                weights = torch.tensor(self.class_weights, dtype=torch.float32, device=labels.device)
            loss = step_loss(outputs.logits, labels, self.label_type, weights)
            if contrastive:
                mask = labels != IGNORE
                states = outputs.hidden_states[-1][mask]
                projector = _projector(model)
                embedded = projector(states.to(projector.weight.dtype))
                loss = loss + self.prm_cfg.contrastive_weight * contrastive_loss(
                    embedded, labels[mask] >= 0.5, self.prm_cfg.contrastive_temperature)
            if model.training:
                count = int(inputs["attention_mask"].sum())
                self.meter.tokens += count
                self.meter.total_tokens += count
            return (loss, outputs) if return_outputs else loss

    return PRMTrainer


def _make_callback(meter: _Meter, on_metrics: MetricsCallback | None, should_stop: StopCallback | None,
                   write_meta: Callable[[Path], None]):
    from transformers import TrainerCallback

    class PRMCallback(TrainerCallback):
        """Reports metrics each logging step, honours a stop request at the next step (saving a checkpoint),
        and makes every checkpoint folder a loadable studio PRM."""

        def __init__(self) -> None:
            self.stopped = False
            self.last: dict[str, float] = {}

        def on_step_begin(self, args, state, control, **kwargs):
            meter.step_start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            meter.step_times.append(time.perf_counter() - meter.step_start)
            if should_stop is not None and should_stop():
                self.stopped = True
                control.should_training_stop = True
                control.should_save = True

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" not in logs:
                return
            values = {k: float(logs[k]) for k in ("loss", "learning_rate", "grad_norm") if logs.get(k) is not None}
            values.update(meter.take())
            self.last = values
            if on_metrics is not None and state.is_world_process_zero:
                on_metrics(int(state.global_step), values)

        def on_save(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                write_meta(Path(args.output_dir) / f"checkpoint-{state.global_step}")

    return PRMCallback()


class _ListDataset:
    def __init__(self, items: list[dict]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def _peak_memory(device: str) -> tuple[float, str]:
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20, "cuda max allocated"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process peak RSS"


def last_checkpoint(out_dir: Path | str) -> Path | None:
    """The newest ``checkpoint-N`` folder of a training output folder, or None."""
    found = []
    for p in Path(out_dir).glob("checkpoint-*"):
        suffix = p.name.split("-", 1)[1]
        if p.is_dir() and suffix.isdigit() and (p / "trainer_state.json").exists():
            found.append((int(suffix), p))
    return max(found)[1] if found else None


def train_prm(cfg: PRMConfig, out_dir: Path | str, on_metrics: MetricsCallback | None = None,
              should_stop: StopCallback | None = None, resume: bool | str = False,
              on_log: Callable[[str], None] | None = None) -> PRMResult:
    """Train a PRM into ``out_dir`` (checkpoints ``checkpoint-N`` and, when it finishes, ``model``).

    ``on_metrics(step, {name: value})`` is called each logging step with loss, learning_rate, grad_norm,
    tokens_per_s and step_time (and once at step 0 with the data's figures, ``data/*``); ``should_stop()``
    is asked after every optimizer step and a True stops training there, saving a checkpoint. ``resume``
    True continues from the newest checkpoint in ``out_dir`` (from scratch when there is none), or from the
    checkpoint folder it names.
    """
    import torch
    from transformers import PrinterCallback, TrainingArguments, set_seed

    say = on_log or log.info
    data, base_folder, hardware = preflight(cfg)
    out_dir = Path(out_dir)
    resume_from: str | None = None
    if resume:
        found = Path(resume) if isinstance(resume, str) else last_checkpoint(out_dir)
        if isinstance(resume, str) and not (found / "trainer_state.json").exists():
            raise ConfigError(f"{found} is not a training checkpoint (no trainer_state.json); resume from a "
                              "checkpoint-N folder of the same output folder.")
        resume_from = str(found) if found else None
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = data.summary()
    say(f"PRM data ({data.label_type} labels): {balance_note(summary)}")
    weights = class_weight_values(cfg, data)
    if on_metrics is not None:
        on_metrics(0, {f"data/{k}": float(v) for k, v in summary.items()})

    set_seed(cfg.seed)
    model, tokenizer = _load_model(cfg, base_folder, hardware)
    sep = separator_ids(tokenizer, cfg.separator)
    features, dropped = tokenize_dataset(data, tokenizer, sep, cfg.max_length)
    if not features:
        raise ConfigError(f"No step fits in max_length {cfg.max_length}; raise max_length or shorten the questions.")
    if dropped:
        say(f"{dropped} steps did not fit in max_length {cfg.max_length} and are not trained on.")
    meta = {"format": FORMAT, "version": 1, "separator": cfg.separator, "label2id": dict(LABEL2ID),
            "positive_label": LABEL2ID["good"], "label_type": data.label_type, "max_length": cfg.max_length,
            "base_model": cfg.base_model, "base_folder": base_folder, "adapter": cfg.lora,
            "contrastive_projector": PROJECTOR_FILE if cfg.contrastive_weight > 0 else None,
            "config": cfg.to_dict(), "data_summary": summary}

    def write_meta(folder: Path) -> None:
        if folder.is_dir():
            (folder / META_FILE).write_text(json.dumps(meta, indent=2))

    meter = _Meter()
    callback = _make_callback(meter, on_metrics, should_stop, write_meta)
    args = TrainingArguments(
        output_dir=str(out_dir), per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps, num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1, learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler, warmup_steps=cfg.warmup_steps, weight_decay=cfg.weight_decay,
        logging_steps=cfg.logging_steps, logging_strategy="steps", save_strategy="steps", save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit, seed=cfg.seed, report_to="none", disable_tqdm=True,
        use_cpu=hardware.device == "cpu", bf16=hardware.precision == "bf16", fp16=hardware.precision == "fp16",
        **({"activation_checkpointing": True, "activation_checkpointing_kwargs": {"use_reentrant": False}}
           if hardware.gradient_checkpointing else {}),
        remove_unused_columns=False, dataloader_num_workers=0,
    )
    trainer = _make_trainer_class()(
        model=model, args=args, train_dataset=_ListDataset(features), data_collator=StepwiseCollator(tokenizer.pad_token_id),
        processing_class=tokenizer, callbacks=[callback], prm_cfg=cfg, label_type=data.label_type,
        class_weights=weights, meter=meter)
    # Metrics go to on_metrics; the printer would repeat every log line on stdout.
    trainer.remove_callback(PrinterCallback)
    if hardware.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    if resume_from:
        say(f"Resuming from {resume_from}.")
    trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - started

    checkpoint = last_checkpoint(out_dir)
    if callback.stopped:
        model_path = checkpoint
        say(f"Stopped at step {trainer.state.global_step}; checkpoint {checkpoint} is usable and resumable.")
    else:
        model_path = _save_final(trainer, tokenizer, out_dir, meta) if trainer.is_world_process_zero() else out_dir / "model"
    peak, peak_of = _peak_memory(hardware.device)
    params = list(trainer.model.parameters())
    return PRMResult(
        model_path=str(model_path), checkpoint=str(checkpoint) if checkpoint else None,
        global_step=int(trainer.state.global_step), stopped=callback.stopped, resumed_from=resume_from,
        final_metrics=dict(callback.last), data_summary=summary, label_type=data.label_type, dropped_steps=dropped,
        class_weights=weights, device=hardware.device, precision=hardware.precision,
        world_size=int(trainer.args.world_size), peak_memory_mb=round(peak, 1), peak_memory_of=peak_of,
        train_seconds=round(seconds, 3), trainable_parameters=sum(p.numel() for p in params if p.requires_grad),
        total_parameters=sum(p.numel() for p in params), tokens=meter.total_tokens)


def _save_final(trainer, tokenizer, out_dir: Path, meta: dict) -> Path:
    """Write ``out_dir/model``: full weights (LoRA merged), tokenizer, projector and the studio PRM file;
    written under a temporary name and renamed, so a half-written model never looks finished."""
    from safetensors.torch import save_file

    model = trainer.accelerator.unwrap_model(trainer.model)
    if meta["adapter"]:
        model = model.merge_and_unload()
    target, tmp = out_dir / "model", out_dir / ".model.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    projector = getattr(model, "prm_projector", None)
    if projector is not None:
        save_file({k: v.detach().cpu().contiguous() for k, v in projector.state_dict().items()}, str(tmp / PROJECTOR_FILE))
        del model.prm_projector
    model.save_pretrained(tmp)
    if projector is not None:
        model.prm_projector = projector
    tokenizer.save_pretrained(tmp)
    (tmp / META_FILE).write_text(json.dumps({**meta, "adapter": False}, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def load_projector(model_folder: Path | str):
    """The trained contrastive projector saved with a PRM (a ``torch.nn.Linear``), or None when it has none."""
    import torch
    from safetensors.torch import load_file

    path = Path(model_folder) / PROJECTOR_FILE
    if not path.exists():
        return None
    state = load_file(str(path))
    out_dim, in_dim = state["weight"].shape
    layer = torch.nn.Linear(in_dim, out_dim)
    layer.load_state_dict(state)
    return layer


def mfu(parameters: int, tokens: int, seconds: float, peak_flops: float) -> float:
    """Model FLOPs utilisation of training: 6 FLOPs per parameter per token (forward + backward) over the peak."""
    if seconds <= 0 or peak_flops <= 0:
        return math.nan
    return 6.0 * parameters * tokens / seconds / peak_flops
