"""Training on several GPUs (or machines): the ``accelerate launch`` command a job runs, and the entry point
every rank executes, for every training kind.

Design decision: under ``accelerate launch`` every rank is a separate process, so the job's callbacks cannot
cross into them; they talk through files in the job's folder. The main rank (``RANK`` 0, the one guard)
appends each metrics report to ``metrics.jsonl`` and writes ``result.json`` at the end; every rank stops
after its current step once ``STOP`` exists (the Trainer synchronises the stop and saves the checkpoint
collectively). The job tails ``metrics.jsonl`` into its shards and touches ``STOP`` to cancel.

Run as ``python -m agentark.train.rank KIND OUT_DIR [--resume]``; it reads ``OUT_DIR/train_config.json``.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from agentark.jobs.registry import JobKind, get_kind
from agentark.train.launch import accelerate_argv, check_gpus, write_accelerate_config

CONFIG_FILE = "train_config.json"
ACCELERATE_FILE = "accelerate.yaml"
METRICS_FILE = "metrics.jsonl"
RESULT_FILE = "result.json"
STOP_FILE = "STOP"


def launch_command(kind: JobKind, cfg, out_dir: Path | str, resume: bool = False, machine_rank: int = 0,
                   main_process_ip: str | None = None, main_process_port: int = 29500) -> list[str]:
    """Refuse what this machine cannot run, write the job's config and accelerate config into ``out_dir``, and
    return the command line that trains under ``accelerate launch``."""
    check_gpus(cfg)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=2))
    accelerate_yaml = write_accelerate_config(
        out_dir / ACCELERATE_FILE, distributed=cfg.distributed, num_processes=cfg.num_processes,
        num_machines=cfg.num_machines, precision="fp32" if cfg.device == "cpu" else cfg.precision,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps, machine_rank=machine_rank,
        main_process_ip=main_process_ip, main_process_port=main_process_port)
    return accelerate_argv(accelerate_yaml, "agentark.train.rank",
                           [kind.name, str(out_dir), *(["--resume"] if resume else [])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one rank of a training job under accelerate launch")
    parser.add_argument("kind")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    kind = get_kind(args.kind)
    out_dir: Path = args.out_dir
    cfg = kind.config.from_dict(json.loads((out_dir / CONFIG_FILE).read_text()))
    main_rank = os.environ.get("RANK", "0") == "0"

    def report(step: int, values: dict) -> None:
        if main_rank:
            with open(out_dir / METRICS_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": step, **values}) + "\n")

    result = kind.trainer(cfg, out_dir, on_metrics=report, should_stop=lambda: (out_dir / STOP_FILE).exists(),
                          resume=args.resume)
    if main_rank:
        (out_dir / RESULT_FILE).write_text(json.dumps(result.to_dict(), indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
