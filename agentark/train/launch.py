"""Multi-GPU and multi-node training through ``accelerate launch``: the generated config and the command line.

The same launch runs several processes on the CPU (``device`` cpu, ``distributed`` ddp): accelerate starts the
ranks with torchrun as for GPUs, and each rank's Trainer (``use_cpu``) joins the process group on gloo, which is
how CI exercises the distributed path without a GPU.

Design decision: the studio does not distribute anything itself. A job that wants more than one GPU writes an
accelerate config (DDP, DeepSpeed ZeRO-2/3 or FSDP) next to its checkpoints and runs its trainer's entry
module under ``accelerate launch``; the Trainer inside picks the engine up from the environment accelerate
sets. The config is plain accelerate YAML, read back in the tests by accelerate's own config loader.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import yaml

from agentark.errors import ConfigError

ENGINES = ("ddp", "zero2", "zero3", "fsdp")
_MIXED = {"bf16": "bf16", "fp16": "fp16", "fp32": "no", "auto": "bf16"}


def accelerate_config(distributed: str, num_processes: int, num_machines: int = 1, precision: str = "bf16",
                      gradient_accumulation_steps: int = 1, machine_rank: int = 0,
                      main_process_ip: str | None = None, main_process_port: int = 29500) -> dict:
    """The accelerate config for ``num_processes`` GPUs on each of ``num_machines`` machines.

    ``precision`` 'auto' means bf16 (what the trainers pick on a GPU that has it). Multi-node needs the
    main machine's address; every machine runs the same command with its own ``machine_rank``.
    """
    if distributed not in ENGINES:
        raise ConfigError(f"distributed '{distributed}' is not one of: {', '.join(ENGINES)}.")
    if num_processes < 1 or num_machines < 1:
        raise ConfigError("num_processes and num_machines must be at least 1.")
    if precision not in _MIXED:
        raise ConfigError(f"precision '{precision}' is not one of: {', '.join(_MIXED)}.")
    if num_machines > 1 and not main_process_ip:
        raise ConfigError("A multi-node run needs the main machine's address: give main_process_ip (and the same "
                          "main_process_port on every machine).")
    if not 0 <= machine_rank < num_machines:
        raise ConfigError(f"machine_rank must be in [0, {num_machines}) (got {machine_rank}).")
    config: dict = {
        "compute_environment": "LOCAL_MACHINE",
        "debug": False,
        "num_machines": num_machines,
        "num_processes": num_processes * num_machines,  # accelerate counts processes over all machines
        "machine_rank": machine_rank,
        "mixed_precision": _MIXED[precision],
        "rdzv_backend": "static",
        "same_network": True,
        "use_cpu": False,
        "main_training_function": "main",
        "downcast_bf16": "no",
    }
    if num_machines > 1:
        config.update(main_process_ip=main_process_ip, main_process_port=main_process_port)
    if distributed == "ddp":
        config["distributed_type"] = "MULTI_GPU"
    elif distributed in ("zero2", "zero3"):
        stage = int(distributed[-1])
        config["distributed_type"] = "DEEPSPEED"
        config["deepspeed_config"] = {
            "zero_stage": stage,
            "gradient_accumulation_steps": gradient_accumulation_steps,
            "offload_optimizer_device": "none",
            "offload_param_device": "none",
            "zero3_init_flag": stage == 3,
            # ZeRO-3 shards the weights; gathering them at save time keeps checkpoints loadable by from_pretrained.
            **({"zero3_save_16bit_model": True} if stage == 3 else {}),
            "deepspeed_multinode_launcher": "standard",
        }
    else:
        config["distributed_type"] = "FSDP"
        config["fsdp_config"] = {
            "fsdp_version": 2,
            "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "fsdp_reshard_after_forward": True,
            "fsdp_offload_params": False,
            "fsdp_cpu_ram_efficient_loading": True,
            # Full state dicts make every checkpoint a plain model folder.
            "fsdp_state_dict_type": "FULL_STATE_DICT",
        }
    return config


def write_accelerate_config(path: Path | str, **options) -> Path:
    """Write :func:`accelerate_config` as YAML to ``path`` and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(accelerate_config(**options), sort_keys=True))
    return path


def check_engine_installed(distributed: str) -> None:
    """DeepSpeed is an optional dependency; refuse a ZeRO run before launch when it is missing."""
    if distributed in ("zero2", "zero3") and importlib.util.find_spec("deepspeed") is None:
        raise ConfigError(f"[[distributed]] '{distributed}' runs on DeepSpeed, which is not installed; "
                          "`pip install deepspeed` on the GPU machine, or choose ddp or fsdp.")


def check_gpus(cfg) -> None:
    """Refuse a job for more GPUs than this machine shows, or on an engine that is not installed. Processes on the
    CPU (``device`` cpu: DDP on gloo, the Trainer's ``use_cpu``) need no GPU."""
    if cfg.num_processes * cfg.num_machines <= 1 or cfg.device == "cpu":
        return
    import torch

    seen = torch.cuda.device_count()
    if seen < cfg.num_processes:
        raise ConfigError(f"[[num_processes]] {cfg.num_processes} needs {cfg.num_processes} GPUs on this machine "
                          f"and {seen or 'none'} {'are' if seen > 1 else 'is'} visible; set [[num_processes]] to "
                          f"{max(seen, 1)}, or run on a machine with more GPUs.")
    check_engine_installed(cfg.distributed)


def accelerate_argv(config_path: Path | str, module: str, args: list[str]) -> list[str]:
    """``accelerate launch --config_file CONFIG -m MODULE ARGS...`` with this interpreter's accelerate."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config_path), "-m", module,
            *[str(a) for a in args]]
