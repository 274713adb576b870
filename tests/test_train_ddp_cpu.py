"""The distributed training path on the CPU: SFT and PRM jobs with 2 processes (``device`` cpu, DDP on gloo) run
through the studio's own launch code (``accelerate launch`` of ``agentark.train.rank``, relayed by the job), save a
checkpoint when stopped and resume from it to the end.

The stop is asked for when the job hears its first step (an event, not a clock); the ranks finish the step in
flight, save it together and exit, and the job resumes from that checkpoint.
"""
from __future__ import annotations

import pytest
import yaml

from agentark.jobs import create, find, run_job
from agentark.store import Store
from agentark.store.job_tables import job_metrics
from agentark.train.prm import PRMConfig
from agentark.train.rank import ACCELERATE_FILE
from agentark.train.runtime import last_checkpoint
from agentark.train.sft import SFTJobConfig
from tests.toy_exports import prm_export, sft_export
from tests.tinylm import tiny_llama  # noqa: F401

pytestmark = pytest.mark.slow

# Enough steps that the stop, relayed from the ranks' first logged step, lands before the end even on a quiet
# machine (with 3 the ranks of the tiny model finished before the relay saw step 1).
STEPS = 20
TWO_CPU_PROCESSES = dict(device="cpu", num_processes=2, distributed="ddp", max_steps=STEPS, save_steps=1,
                         per_device_batch_size=2, learning_rate=1e-3)


def stop_and_resume(job_id: str) -> tuple[dict, dict]:
    _, folder = find(job_id)
    first = run_job(job_id, on_progress=lambda done, total: folder.request_cancel())
    assert first["status"] == "stopped", first
    checkpoint = last_checkpoint(folder.path)
    assert checkpoint is not None and checkpoint.name.startswith("checkpoint-")
    launched = yaml.safe_load((folder.path / ACCELERATE_FILE).read_text())
    assert launched["num_processes"] == 2 and launched["distributed_type"] == "MULTI_GPU"
    second = run_job(job_id)
    assert second["status"] == "done", second
    assert second["resumed_at"]
    return first, second


@pytest.mark.timeout(900)
@pytest.mark.parametrize("kind", ["sft", "prm"])
def test_two_cpu_processes_train_with_ddp_on_gloo_checkpoint_and_resume(kind, tiny_llama, tmp_path):
    if kind == "sft":
        cfg = SFTJobConfig(export=sft_export(tmp_path / "sft.parquet"), base_model=str(tiny_llama),
                           **TWO_CPU_PROCESSES)
    else:
        cfg = PRMConfig(export=prm_export(tmp_path / "prm.parquet"), base_model=str(tiny_llama), **TWO_CPU_PROCESSES)
    job_id = create(kind, cfg).job_id
    first, second = stop_and_resume(job_id)
    assert 1 <= first["done"] < STEPS and second["done"] == STEPS
    # Both ranks joined one process group: the Trainer saw a world of 2.
    assert second["world_size"] == 2 and second["device"] == "cpu"
    assert second["model_id"] == job_id
    with Store() as store:
        store.refresh()
        steps = job_metrics(store, job_id, "loss")["step"].tolist()
    # Resumed, not restarted: every step reported once.
    assert steps == list(range(1, STEPS + 1))
