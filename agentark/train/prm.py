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
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar

from agentark.config import EMBEDDED_MODEL
from agentark.errors import ConfigError
from agentark.options import field_help
from agentark.train.launch import check_gpus
from agentark.train.prm_data import (
    IGNORE,
    StepwiseCollator,
    StepwiseData,
    load_stepwise,
    separator_ids,
    tokenize_dataset,
)
from agentark.train.runtime import (
    CHECKPOINTS,
    FINAL,
    Hardware,
    OnMetrics,
    ShouldStop,
    TrainResult,
    applied_settings,
    detect_hardware,
    file_problem_ids,
    job_callback,
    lineage_fields,
    last_checkpoint,
    peak_memory_mb,
)
from agentark.ids import file_sha256
from agentark.train.train_config import TrainConfig, at_least, require_export
from agentark.train.train_jobs import register_training_kind

log = logging.getLogger(__name__)

META_FILE = "agentark_prm.json"
PROJECTOR_FILE = "contrastive_projector.safetensors"
FORMAT = "agentark-prm"
LABEL2ID = {"bad": 0, "good": 1}
NEGATIVE_SHARE_WARNING = 0.10
LABEL_TYPES = ("auto", "hard", "soft")


@dataclass
class PRMConfig(TrainConfig):
    """A PRM training job: which stepwise file, which backbone, and how to train; stored as the job's config.
    The CLI flags and the Train page form are generated from these fields and their help."""

    # A LoRA PRM keeps its adapter when sharded; load_prm merges it at load time.
    merges_lora: ClassVar[bool] = False

    export: str = field(default="", metadata={**field_help(
        "The training set: a studio PRM export (id or sha256, see `python -m agentark exports`) or a "
        "PRM800K/Math-Shepherd-style stepwise file (.parquet/.jsonl with prompt, completions, labels)."),
        "widget": "export", "trains": "prm"})
    base_model: str = field(default=EMBEDDED_MODEL, metadata={**field_help(
        "The PRM's backbone, chosen independently of the student: the embedded model, a checkpoint folder, a "
        "model id in the local Hugging Face cache, or a model the studio trained."), "widget": "base_model"})
    separator: str = field(default="\n", metadata=field_help(
        "Text placed after each step; the PRM's head is read at its last token. Saved with the model."))
    label_type: str = field(default="auto", metadata=field_help(
        "hard: good/bad with cross entropy; soft: Monte-Carlo fractions with binary cross entropy; auto: soft "
        "when the file has fractional labels.", LABEL_TYPES))
    class_weights: str = field(default="none", metadata=field_help(
        "Weigh the classes: 'none', 'balanced' (inverse frequency of good and bad steps in the file) or "
        "'NEG:POS' such as '4:1'."))
    learning_rate: float = field(default=2e-5, metadata=at_least(
        0, "Peak learning rate of AdamW (LoRA and a frozen backbone usually want about 1e-4)."))
    weight_decay: float = field(default=0.0, metadata=field_help("AdamW weight decay."))
    max_length: int = field(default=1024, metadata=field_help(
        "Tokens per trajectory; a long question is cut from the left and steps that do not fit are dropped."))
    freeze_backbone: bool = field(default=False, metadata=field_help(
        "Train only the classification head (and the contrastive projector); the backbone stays fixed."))
    contrastive_weight: float = field(default=0.0, metadata=field_help(
        "Weight of the supervised contrastive term on the steps' separator states (0 turns it off)."))
    contrastive_temperature: float = field(default=0.1, metadata=field_help("Temperature of the contrastive term."))
    projector_dim: int = field(default=128, metadata=field_help(
        "Output size of the contrastive projector (trained and saved with the model)."))
    logging_steps: int = field(default=1, metadata=field_help("Report metrics every this many optimizer steps."))

    def __post_init__(self) -> None:
        require_export(self.export, "prm")
        super().__post_init__()
        if not self.separator:
            raise ConfigError("[[separator]] is empty; use a short text such as '\\n' that marks the end of a step.")
        for name in ("logging_steps", "projector_dim"):
            if getattr(self, name) < 1:
                raise ConfigError(f"[[{name}]] must be at least 1 (got {getattr(self, name)}).")
        if self.max_length < 8:
            raise ConfigError(f"[[max_length]] must be at least 8 tokens (got {self.max_length}).")
        if self.weight_decay < 0:
            raise ConfigError(f"[[weight_decay]] must be 0 or more (got {self.weight_decay}).")
        self.check_choices(("label_type", LABEL_TYPES))
        if self.contrastive_weight < 0 or self.contrastive_temperature <= 0:
            raise ConfigError("[[contrastive_weight]] must be 0 or more and [[contrastive_temperature]] positive.")
        if self.freeze_backbone and self.lora:
            raise ConfigError("[[freeze_backbone]] and [[lora]] both limit what trains; choose one (LoRA trains "
                              "adapters and the head, a frozen backbone trains the head only).")
        parse_class_weights(self.class_weights)
        if self.contrastive_weight > 0 and self.sharded:
            raise ConfigError("The contrastive projector runs outside the sharded forward pass; with "
                              f"[[distributed]] '{self.distributed}' set [[contrastive_weight]] 0, or use ddp or "
                              "zero2.")


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
class PRMResult(TrainResult):
    """A :class:`TrainResult` (final folder, step, metrics, hardware, peak memory, stopped, checkpoint) plus
    what the PRM saw: the data's figures, the label type, the class weights, and the model's size."""

    resumed_from: str | None = None
    data_summary: dict = field(default_factory=dict)
    label_type: str = "hard"
    dropped_steps: int = 0
    class_weights: list[float] | None = None
    train_seconds: float = 0.0
    trainable_parameters: int = 0
    total_parameters: int = 0
    tokens: int = 0

    @property
    def model_path(self) -> Path | None:
        """The folder to load: the final model, or the last checkpoint when the job stopped early."""
        return self.model_dir or self.checkpoint


# -- preflight: everything that can be refused before a model is loaded -------------------------------------
def resolve_base_model(name: str) -> str:
    """A local folder for the PRM's backbone, with its weights and tokenizer: the embedded model, a studio model
    id, a checkpoint folder, or a model id in the local Hugging Face cache."""
    from agentark.checkpoints import locate_model

    return locate_model(name, field="base_model", cached=True, tokenizer=True)[0]


def detect_prm_hardware(cfg: PRMConfig) -> Hardware:
    """Device, precision and checkpointing for this machine; a GPU-only option without a GPU is refused."""
    check_gpus(cfg)
    hw = detect_hardware(cfg.device, cfg.precision, cfg.gradient_checkpointing)
    # A frozen backbone has no activations to recompute for a backward pass.
    hw.gradient_checkpointing = hw.gradient_checkpointing and not cfg.freeze_backbone
    return hw


def preflight(cfg: PRMConfig) -> tuple[StepwiseData, str, Hardware]:
    """Refuse bad data, a missing model or a GPU-only option on a CPU machine before anything is written."""
    data = load_stepwise(cfg.export, cfg.label_type)
    hardware = detect_prm_hardware(cfg)
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
    """Tokens the PRM trainer feeds between two reports, and what the shared job callback reports of a log:
    loss, learning rate and gradient norm, tokens per second and the mean step time since the last report."""

    def __init__(self) -> None:
        self.tokens = 0
        self.total_tokens = 0
        self.window_start = time.perf_counter()

    def __call__(self, callback, state, logs: dict) -> dict[str, float] | None:
        if "loss" not in logs:
            return None
        values = {k: float(logs[k]) for k in ("loss", "learning_rate", "grad_norm") if logs.get(k) is not None}
        elapsed = max(time.perf_counter() - self.window_start, 1e-9)
        values.update(tokens_per_s=self.tokens / elapsed, step_time=(
            sum(callback.step_times) / len(callback.step_times) if callback.step_times else elapsed))
        self.tokens, self.window_start = 0, time.perf_counter()
        return values


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


class _ListDataset:
    def __init__(self, items: list[dict]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def train_prm(cfg: PRMConfig, out_dir: Path | str, on_metrics: OnMetrics | None = None,
              should_stop: ShouldStop | None = None, resume: bool | str = False,
              on_log: Callable[[str], None] | None = None) -> PRMResult:
    """Train a PRM into ``out_dir``: resumable ``checkpoints/checkpoint-N`` folders and, when it finishes,
    ``final`` (merged weights, tokenizer, projector, the studio PRM file and the model card).

    ``on_metrics(step, {name: value})`` is called each logging step with loss, learning_rate, grad_norm,
    tokens_per_s and step_time (and once at step 0 with the data's figures, ``data/*``); ``should_stop()``
    is asked after every optimizer step and a True stops training there, saving a checkpoint. ``resume``
    True continues from the newest checkpoint in ``out_dir`` (from scratch when there is none), or from the
    checkpoint folder it names. Bad data, a missing model or a GPU-only option on a CPU machine raise before
    anything is written.
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
    callback = job_callback(on_metrics, should_stop, measure=meter, on_checkpoint=write_meta)
    args = TrainingArguments(
        output_dir=str(out_dir / CHECKPOINTS), per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps, num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps or -1, learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler, warmup_steps=cfg.warmup_steps, weight_decay=cfg.weight_decay,
        logging_steps=cfg.logging_steps, logging_strategy="steps", save_strategy="steps", save_steps=cfg.save_steps,
        save_total_limit=2, seed=cfg.seed, report_to="none", disable_tqdm=True,
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
    peak = peak_memory_mb(hardware.device)
    hardware.world_size = int(trainer.args.world_size)
    final_dir = None
    if callback.stopped:
        say(f"Stopped at step {trainer.state.global_step}; checkpoint {checkpoint} is usable and resumable.")
    else:
        sha = file_sha256(cfg.export)
        card = {"kind": "prm", "base_model": cfg.base_model, "export_sha256": sha,
                **lineage_fields(file_problem_ids(cfg.export), f"export rows {sha[:12]}"),
                "config": cfg.to_dict(), "step": int(trainer.state.global_step), "metrics": dict(callback.last),
                "device": hardware.device, "precision": hardware.precision, "world_size": hardware.world_size,
                "peak_memory_mb": round(peak, 1), "data_summary": summary}
        sharded = hardware.world_size > 1 and cfg.distributed in ("zero3", "fsdp")
        final_dir = _save_final(trainer, tokenizer, out_dir, meta, card, sharded)
    params = list(trainer.model.parameters())
    return PRMResult(
        model_dir=final_dir, step=int(trainer.state.global_step), metrics=dict(callback.last),
        hardware=hardware.to_dict(), peak_memory_mb=round(peak, 1), stopped=callback.stopped, checkpoint=checkpoint,
        applied=applied_settings(trainer),
        resumed_from=resume_from, data_summary=summary, label_type=data.label_type, dropped_steps=dropped,
        class_weights=weights, train_seconds=round(seconds, 3),
        trainable_parameters=sum(p.numel() for p in params if p.requires_grad),
        total_parameters=sum(p.numel() for p in params), tokens=meter.total_tokens)


def _save_final(trainer, tokenizer, out_dir: Path, meta: dict, card: dict, sharded: bool) -> Path:
    """Write ``out_dir/final``: full weights (LoRA merged), tokenizer, projector, the studio PRM file and the
    model card; written under a temporary name and renamed, so a half-written model never looks finished.

    Called on every rank. Sharded weights (ZeRO-3, FSDP) are gathered by ``Trainer.save_model``, in which
    every rank takes part; a LoRA run then keeps its adapter (``load_prm`` merges it at load time).
    """
    from safetensors.torch import save_file

    from agentark.checkpoints import write_card

    target, tmp = out_dir / FINAL, out_dir / (FINAL + ".tmp")
    if sharded:
        trainer.save_model(str(tmp))
        if trainer.is_world_process_zero():
            tokenizer.save_pretrained(tmp)
            (tmp / META_FILE).write_text(json.dumps(meta, indent=2))
            write_card(tmp, card)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)
        return target
    if not trainer.is_world_process_zero():
        return target
    model = trainer.accelerator.unwrap_model(trainer.model)
    if meta["adapter"]:
        model = model.merge_and_unload()
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    projector = getattr(model, "prm_projector", None)
    if projector is not None:
        save_file({k: v.detach().cpu().contiguous() for k, v in projector.state_dict().items()}, str(tmp / PROJECTOR_FILE))
        # The projector is kept in its own file so the weights file is a plain token-classification checkpoint.
        del model.prm_projector
    model.save_pretrained(tmp)
    if projector is not None:
        model.prm_projector = projector
    tokenizer.save_pretrained(tmp)
    (tmp / META_FILE).write_text(json.dumps({**meta, "adapter": False}, indent=2))
    write_card(tmp, card)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
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


PRM = register_training_kind("prm", "PRM training", PRMConfig, preflight, train_prm, reads=("export:prm",))
