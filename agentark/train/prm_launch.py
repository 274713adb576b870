"""A PRM training run on several GPUs: the command a job runs, and the entry point each process executes.

Design decision: under ``accelerate launch`` every rank is a separate process, so the job's callbacks cannot
cross into them; they talk through files in the output folder instead. Rank 0 appends each metrics report to
``metrics.jsonl`` and writes ``result.json`` at the end; every rank stops at the next step once ``STOP``
exists. A job wrapping this tails ``metrics.jsonl`` into its shards and touches ``STOP`` to cancel.

Run as ``python -m agentark.train.prm_launch OUT_DIR [--resume]``; it reads ``OUT_DIR/prm_config.json``.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from agentark.train.launch import check_engine_installed, launch_command, write_accelerate_config
from agentark.train.prm import PRMConfig, preflight, train_prm

CONFIG_FILE = "prm_config.json"
ACCELERATE_FILE = "accelerate.yaml"
METRICS_FILE = "metrics.jsonl"
RESULT_FILE = "result.json"
STOP_FILE = "STOP"


def prm_launch(cfg: PRMConfig, out_dir: Path | str, resume: bool = False, machine_rank: int = 0,
               main_process_ip: str | None = None, main_process_port: int = 29500) -> list[str]:
    """Check everything that can be checked here, write the run's config and accelerate config into
    ``out_dir``, and return the command line that trains under ``accelerate launch``."""
    preflight(cfg)
    check_engine_installed(cfg.distributed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=2))
    accelerate_yaml = write_accelerate_config(
        out_dir / ACCELERATE_FILE, distributed=cfg.distributed, num_processes=cfg.num_processes,
        num_machines=cfg.num_machines, precision=cfg.precision,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps, machine_rank=machine_rank,
        main_process_ip=main_process_ip, main_process_port=main_process_port)
    return launch_command(accelerate_yaml, "agentark.train.prm_launch",
                          [str(out_dir), *(["--resume"] if resume else [])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one rank of a PRM training run under accelerate launch")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    out_dir: Path = args.out_dir
    cfg = PRMConfig.from_dict(json.loads((out_dir / CONFIG_FILE).read_text()))

    def report(step: int, values: dict[str, float]) -> None:
        with open(out_dir / METRICS_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps({"step": step, **values}) + "\n")

    result = train_prm(cfg, out_dir, on_metrics=report, should_stop=lambda: (out_dir / STOP_FILE).exists(),
                       resume=args.resume)
    if os.environ.get("RANK", "0") == "0":
        (out_dir / RESULT_FILE).write_text(json.dumps(result.to_dict(), indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
