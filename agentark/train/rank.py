"""One rank of an SFT or PAD job under ``accelerate launch``, and the command that starts all of them.

The same file protocol as the PRM's (``agentark.train.prm_launch``), so the job runs every kind's
multi-GPU training the same way: rank 0 appends each metrics report to ``metrics.jsonl`` and writes
``result.json`` at the end; every rank stops after its current step once ``STOP`` exists (the Trainer
synchronises the stop and saves the checkpoint collectively).

Run as ``python -m agentark.train.rank KIND OUT_DIR [--resume]``; it reads ``OUT_DIR/train_config.json``.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from agentark.train.launch import check_engine_installed, launch_command, write_accelerate_config
from agentark.train.prm_launch import ACCELERATE_FILE, METRICS_FILE, RESULT_FILE, STOP_FILE

CONFIG_FILE = "train_config.json"


def rank_launch(kind: str, cfg, out_dir: Path | str, resume: bool = False) -> list[str]:
    """Write the job's config and accelerate config into ``out_dir``; return the ``accelerate launch`` command."""
    check_engine_installed(cfg.distributed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=2))
    accelerate_yaml = write_accelerate_config(
        out_dir / ACCELERATE_FILE, distributed=cfg.distributed, num_processes=cfg.num_processes,
        precision=cfg.precision, gradient_accumulation_steps=cfg.gradient_accumulation_steps)
    return launch_command(accelerate_yaml, "agentark.train.rank",
                          [kind, str(out_dir), *(["--resume"] if resume else [])])


def main(argv: list[str] | None = None) -> int:
    from agentark.train.kinds import config_from_dict

    parser = argparse.ArgumentParser(description="one rank of an SFT or PAD job under accelerate launch")
    parser.add_argument("kind", choices=("sft", "pad"))
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    out_dir: Path = args.out_dir
    cfg = config_from_dict(args.kind, json.loads((out_dir / CONFIG_FILE).read_text()))
    main_rank = os.environ.get("RANK", "0") == "0"

    def report(step: int, values: dict) -> None:
        if main_rank:
            with open(out_dir / METRICS_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": step, **values}) + "\n")

    if args.kind == "sft":
        from agentark.train.sft import train_sft as train
    else:
        from agentark.train.pad import train_pad as train
    result = train(cfg, out_dir, on_metrics=report, should_stop=lambda: (out_dir / STOP_FILE).exists(),
                   resume=args.resume)
    if main_rank:
        (out_dir / RESULT_FILE).write_text(json.dumps(result.to_dict(), indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
