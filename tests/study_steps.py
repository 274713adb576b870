"""Every step config a study would run, captured without running anything: the harness behind
``tests/test_study_steps.py`` and its fixture ``tests/study_steps_before.json``.

The runner's own methods build each step (the teacher's debates, the evaluations, the single-agent sampling
rounds, the exports, the PRM, SFT and PAD jobs); ``job_step`` and the store operations between steps are replaced
by recorders, so what is captured is exactly the config and inputs each step's job would be created with.
"""
from __future__ import annotations

from typing import Any

# A study file as an older version wrote it: flat prefixed keys beside tables, every part off its defaults, and a
# problem seed that is not 0 (the evaluation's problem seed and sampling seed differ).
OLD_STYLE_STUDY = """\
name = "old-style"
dataset = "builtin:arithmetic"
train_problems = 7
test_problems = 9
problem_seed = 3
arms = ["rsft", "single", "corrections", "pad", "da"]
seeds = [2, 5]
teacher_agents = 4
teacher_model = "tests.study_script:teacher"
teacher_engine = "scripted"
teacher_agent_models = ["scripted=tests.study_script:teacher", "tests.study_script:single"]
sft_batch_size = 2
pad_steps = 7
da_max_per_problem = 2
device = "cpu"

[teacher]
method = "debate"
rounds = 3
temperature = 0.5
max_tokens = 96
seed = 4

[student]
model = "student/base"
engine = "vllm"

[single]
engine = "scripted"
model = "tests.study_script:single"
samples = 3
max_rounds = 2
temperature = 0.9
match = "da"

[sft]
epochs = 3.0
max_steps = 11
learning_rate = 3e-5
max_length = 256
lora = true

[prm]
model = "prm/backbone"
epochs = 2.0
max_steps = 5
learning_rate = 4e-5
max_length = 300

[pad]
on = "rsft"
generations = 6
learning_rate = 2e-6
prm_weight = 0.5
max_completion_length = 64

[eval]
max_tokens = 100
temperature = 0.2
"""


def capture_steps(runner_cls, cfg, monkeypatch) -> dict[str, Any]:
    """The config and inputs of every step ``cfg`` would run, keyed by the step's label (plus the exports)."""
    from agentark.studies import study_job

    runner = object.__new__(runner_cls)
    runner.cfg, runner.store, runner.done = cfg, None, 0
    runner.record = {"steps": [], "arms": {}, "errors": {}}
    steps: dict[str, Any] = {}

    def job_step(label, kind, step_cfg, inputs, **create_inputs):
        steps[label] = {"kind": kind, "config": step_cfg.to_dict(), "inputs": inputs}
        return {"job_id": f"job:{label}", "model_id": f"model:{label}", "info": {}}

    def export(export_cfg):
        name = f"export {len([k for k in steps if k.startswith('export ')])}"
        steps[name] = {"kind": "export", "config": export_cfg.to_dict()}
        return {"path": f"/exports/{name}.jsonl", "sha256": f"sha:{name}", "rows": 3, "tokens": 30}

    monkeypatch.setattr(runner, "job_step", job_step, raising=False)
    monkeypatch.setattr(runner, "export", export, raising=False)
    monkeypatch.setattr(runner, "stage", lambda text: None, raising=False)
    monkeypatch.setattr(runner, "save", lambda: None, raising=False)
    monkeypatch.setattr(study_job, "segment_runs", lambda *a, **k: None)
    monkeypatch.setattr(study_job, "run_auto_labelers", lambda *a, **k: None)
    monkeypatch.setattr(study_job, "list_exports", lambda store: [])

    steps["teacher debate on the train split"] = runner.teacher_config(cfg.train_split, cfg.train_problems).to_dict()
    steps["teacher debate on the test problems"] = runner.teacher_config(cfg.test_split, cfg.test_problems).to_dict()
    steps["evaluate a student"] = runner.eval_config("a-student").to_dict()
    rounds = cfg.single.max_rounds if hasattr(cfg, "single") else cfg.single_max_rounds
    for round_ in range(rounds):
        steps[f"single-agent samples, round {round_ + 1}"] = runner.sampler_config(round_).to_dict()
    steps["single-agent export"] = runner.single_export_config(["sampled-1", "sampled-2"]).to_dict()
    exports = runner.debate_exports(["teacher-run"])
    prm = runner.prm_model(["teacher-run"])
    monkeypatch.setattr(runner, "evaluate", lambda *a, **k: None, raising=False)
    for seed in cfg.seeds:
        exports["single"] = {"path": "/exports/single.jsonl", "sha256": "sha:single", "rows": 3, "tokens": 30}
        students = {arm: runner.sft_arm(arm, seed, exports[arm]) for arm in ("rsft", "da", "single", "corrections")
                    if arm in cfg.arms}
        if "pad" in cfg.arms:
            pad_on = cfg.pad_on
            runner.pad_arm(seed, students.get(pad_on, "pad-start"), prm, exports.get(pad_on) or {})
    return steps
