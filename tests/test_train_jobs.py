"""Training kinds on the job framework: CLI in-process runs, refusals that write nothing, cancel/resume,
a crash that ends failed, and the model registered with its provenance."""
from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

import agentark.jobs  # noqa: F401  (registers every kind)
from agentark import config
from agentark.cli import main
from agentark.debate import SOLVE_PROMPT
from agentark.jobs import create, find, run_job
from agentark.store import Store, job_tables
from agentark.store.job_tables import job_metrics
from agentark.store.model_tables import get_model
from agentark.train.runtime import last_checkpoint
from agentark.train.sft import SFTJobConfig
from tests.tinylm import tiny_llama  # noqa: F401
from tests.toy_exports import prm_export, sft_export


def test_cli_trains_sft_in_process_and_registers_the_model(tiny_llama, tmp_path, capsys):
    export = sft_export(tmp_path / "rsft.parquet")
    rc = main(["train", "sft", "--export", export, "--base-model", str(tiny_llama), "--max-steps", "2",
               "--per-device-batch-size", "2", "--learning-rate", "0.001", "--job-id", "sft-cli-1"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "model sft-cli-1 registered" in out
    with Store() as store:
        store.refresh()
        row = get_model(store, "sft-cli-1")
        assert row["kind"] == "sft" and row["job_id"] == "sft-cli-1" and row["step"] == 2
        assert row["export_sha256"] == hashlib.sha256(open(export, "rb").read()).hexdigest()
        assert json.loads(row["config_json"])["max_steps"] == 2 and row["prompt"] == SOLVE_PROMPT
        assert row["device"] == "cpu" and row["precision"] == "fp32" and row["world_size"] == 1
        metrics = job_metrics(store, "sft-cli-1")
        loss = metrics[metrics["name"] == "loss"]
        assert list(loss["step"]) == [1, 2]
        jobs = job_tables.jobs(store)
        assert jobs.set_index("job_id").loc["sft-cli-1", "status"] == "done"
    assert (config.checkpoints_dir() / "sft-cli-1" / "model.safetensors").exists()
    assert main(["models", "--kind", "sft"]) == 0
    assert "sft-cli-1" in capsys.readouterr().out


def test_cli_trains_a_prm_job(tiny_llama, tmp_path, capsys):
    export = prm_export(tmp_path / "prm.parquet")
    rc = main(["train", "prm", "--export", export, "--base-model", str(tiny_llama), "--max-steps", "2",
               "--per-device-batch-size", "4", "--job-id", "prm-cli-1"])
    assert rc == 0, capsys.readouterr()
    with Store() as store:
        store.refresh()
        assert get_model(store, "prm-cli-1")["kind"] == "prm"
        assert set(job_metrics(store, "prm-cli-1")["name"]) >= {"loss", "learning_rate"}
    from agentark.train.prm_scoring import load_prm

    scores = load_prm("prm-cli-1").score([("What is 1 + 4?", ["Add 1 and 4.", "The answer is 5."])])
    assert len(scores[0]) == 2


def test_bad_input_is_refused_and_nothing_is_written(tiny_llama, tmp_path, capsys):
    pd.DataFrame({"messages": []}).to_parquet(tmp_path / "empty.parquet")
    rc = main(["train", "sft", "--export", str(tmp_path / "empty.parquet"), "--base-model", str(tiny_llama)])
    assert rc == 2 and "no rows" in capsys.readouterr().err
    rc = main(["train", "sft", "--export", "no-such-export", "--base-model", str(tiny_llama)])
    assert rc == 2 and "exports" in capsys.readouterr().err
    rc = main(["train", "pad", "--prm", str(tiny_llama), "--base-model", str(tiny_llama), "--limit", "2"])
    assert rc == 2 and "not a studio PRM" in capsys.readouterr().err
    rc = main(["train", "pad", "--prm-weight", "0", "--per-device-batch-size", "3"])
    assert rc == 2 and "multiple of num_generations" in capsys.readouterr().err
    rc = main(["train", "sft", "--export", sft_export(tmp_path / "ok.parquet"), "--base-model", str(tiny_llama),
               "--num-processes", "2"])
    assert rc == 2 and "needs 2 GPUs" in capsys.readouterr().err
    assert not (config.home() / "jobs").exists() or not any((config.home() / "jobs").iterdir())


def test_cancel_keeps_the_checkpoint_and_resume_finishes(tiny_llama, tmp_path):
    cfg = SFTJobConfig(export=sft_export(tmp_path / "rsft.parquet"), base_model=str(tiny_llama), max_steps=4,
                       per_device_batch_size=2, learning_rate=1e-3)
    job_id = create("sft", cfg).job_id
    _, folder = find(job_id)
    # Cancel while step 1 is reported: the job stops after the step in flight (2) and saves it.
    progress = run_job(job_id, on_progress=lambda done, total: folder.request_cancel())
    assert progress["status"] == "stopped" and last_checkpoint(folder.path).name == "checkpoint-2"
    assert not (config.checkpoints_dir() / job_id).exists()
    # The cancelled job's checkpoint is a model folder a debate can load.
    from agentark.backends.transformers_engine import check_model

    check_model(str(last_checkpoint(folder.path)))
    progress = run_job(job_id)
    assert progress["status"] == "done" and progress["done"] == 4 and progress["model_id"] == job_id
    with Store() as store:
        store.refresh()
        steps = job_metrics(store, job_id, "loss")["step"].tolist()
    assert steps == [1, 2, 3, 4]


def test_a_crash_ends_failed_with_the_error_and_keeps_the_last_checkpoint(tiny_llama, tmp_path):
    export = tmp_path / "rsft.parquet"
    cfg = SFTJobConfig(export=sft_export(export), base_model=str(tiny_llama), max_steps=2,
                       per_device_batch_size=2, save_steps=1)
    job_id = create("sft", cfg).job_id
    export.unlink()  # the file vanishes between launch and run
    with pytest.raises(Exception):
        run_job(job_id)
    _, folder = find(job_id)
    assert folder.status() == "failed" and "does not exist" in folder.progress()["error"]


FAKE_RANKS = """
import json, sys, time
from pathlib import Path
out = Path(sys.argv[1])
with open(out / "metrics.jsonl", "a") as f:
    for step in (1, 2):
        f.write(json.dumps({"step": step, "loss": 1.0 / step}) + "\\n")
        f.flush()
stopped = False
for _ in range(int(sys.argv[2])):
    if (out / "STOP").exists():
        stopped = True
        break
    time.sleep(0.1)
(out / "result.json").write_text(json.dumps({"model_dir": None if stopped else str(out / "final"), "step": 2,
    "metrics": {"loss": 0.5}, "hardware": {"device": "cuda", "world_size": 2}, "peak_memory_mb": 10.0,
    "stopped": stopped, "checkpoint": None}))
"""


@pytest.mark.parametrize("cancel", [False, True])
def test_multi_gpu_jobs_relay_the_ranks_metrics_and_stop_request(tmp_path, monkeypatch, cancel):
    """The job side of `accelerate launch`: the ranks here are a script speaking the same file protocol."""
    import sys

    from agentark.train import train_jobs as train_jobs

    script = tmp_path / "ranks.py"
    script.write_text(FAKE_RANKS)
    monkeypatch.setattr(train_jobs, "launch_command",
                        lambda kind, cfg, out, resume: [sys.executable, str(script), str(out),
                                                        "600" if cancel else "1"])
    folder = train_jobs.TrainFolder("sft-ranks")
    folder.path.mkdir(parents=True)
    folder.create({"kind": "sft", "config": {}})
    seen = []

    def on_metrics(step, values):
        seen.append((step, values))
        if cancel:
            folder.request_cancel()

    result = train_jobs.run_distributed(folder, "sft", None, False, on_metrics, poll_s=0.05)
    assert seen == [(1, {"loss": 1.0}), (2, {"loss": 0.5})]
    assert result.stopped is cancel and result.hardware["world_size"] == 2
    assert (folder.path / "STOP").exists() is cancel
