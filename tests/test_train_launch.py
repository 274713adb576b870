"""The accelerate configs a multi-GPU training run writes, read back by accelerate itself; the file protocol of a rank."""
from __future__ import annotations

import json

import pytest
import torch
from accelerate.commands.config.config_args import ClusterConfig

from agentark.errors import ConfigError
from agentark.jobs import get_kind
from agentark.train.launch import accelerate_argv, accelerate_config, write_accelerate_config
from agentark.train.prm import PRMConfig
from agentark.train.rank import CONFIG_FILE, METRICS_FILE, RESULT_FILE, STOP_FILE, launch_command, main
from tests.tinylm import build_tiny_llama


@pytest.mark.parametrize("engine,kind", [("ddp", "MULTI_GPU"), ("zero2", "DEEPSPEED"), ("zero3", "DEEPSPEED"),
                                         ("fsdp", "FSDP")])
def test_generated_config_is_read_by_accelerate(tmp_path, engine, kind):
    path = write_accelerate_config(tmp_path / "a.yaml", distributed=engine, num_processes=4, precision="bf16",
                                   gradient_accumulation_steps=8)
    loaded = ClusterConfig.from_yaml_file(str(path))
    assert loaded.distributed_type.value == kind
    assert (loaded.num_processes, loaded.num_machines, loaded.mixed_precision) == (4, 1, "bf16")
    if kind == "DEEPSPEED":
        ds = loaded.deepspeed_config
        assert ds["zero_stage"] == int(engine[-1]) and ds["gradient_accumulation_steps"] == 8
        assert ds["zero3_init_flag"] is (engine == "zero3")
    if kind == "FSDP":
        assert loaded.fsdp_config["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
        assert loaded.fsdp_config["fsdp_state_dict_type"] == "FULL_STATE_DICT"


def test_multi_node_counts_processes_over_machines_and_needs_the_main_address(tmp_path):
    cfg = accelerate_config("zero2", num_processes=8, num_machines=2, machine_rank=1, main_process_ip="10.0.0.1")
    assert (cfg["num_processes"], cfg["num_machines"], cfg["machine_rank"]) == (16, 2, 1)
    assert cfg["main_process_ip"] == "10.0.0.1" and cfg["main_process_port"] == 29500
    with pytest.raises(ConfigError, match="main_process_ip"):
        accelerate_config("ddp", num_processes=8, num_machines=2)
    with pytest.raises(ConfigError, match="not one of"):
        accelerate_config("horovod", num_processes=2)
    argv = accelerate_argv(tmp_path / "a.yaml", "agentark.train.rank", ["prm", tmp_path])
    assert argv[1:5] == ["-m", "accelerate.commands.launch", "--config_file", str(tmp_path / "a.yaml")]
    assert argv[5:] == ["-m", "agentark.train.rank", "prm", str(tmp_path)]


def test_a_multi_gpu_run_is_refused_on_a_cpu_machine(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"prompt": "q", "completions": ["a"], "labels": [True]}) + "\n")
    with pytest.raises(ConfigError, match="none is visible"):
        launch_command(get_kind("prm"), PRMConfig(export=str(data), num_processes=2, distributed="fsdp"),
                       tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_rank_reports_through_files_and_stops_on_the_stop_file(tmp_path):
    base = build_tiny_llama(tmp_path / "base")
    data = tmp_path / "d.jsonl"
    rows = [{"prompt": f"q{i}", "completions": ["1 + 1 = 2", "2 + 2 = 5"], "labels": [True, False]} for i in range(8)]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / CONFIG_FILE).write_text(json.dumps(PRMConfig(export=str(data), base_model=str(base), max_steps=3,
                                                        per_device_batch_size=2).to_dict()))
    (out / STOP_FILE).touch()
    assert main(["prm", str(out)]) == 0
    reports = [json.loads(line) for line in (out / METRICS_FILE).read_text().splitlines()]
    assert [r["step"] for r in reports] == [0, 1] and "loss" in reports[1]
    result = json.loads((out / RESULT_FILE).read_text())
    assert result["stopped"] and result["step"] == 1 and result["checkpoint"].endswith("checkpoint-1")
