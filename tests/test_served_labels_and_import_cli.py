"""label-mc against a served model (the same server flags as debate; the step prefix really continued),
server options that fail before a job folder exists, and --model on every import command."""
from __future__ import annotations

import json

from agentark.cli import main
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.store import run_tables
from tests.app_pages import segmented_run
from tests.openai_server import OpenAIServer, Reply
from tests.test_export import PRM800K_LINE


def test_label_mc_on_a_served_model_continues_each_step_prefix(agentark_home, capsys):
    run_id = segmented_run(1)

    def finish(body: dict, attempt: int) -> Reply:
        return Reply(text="so the answer is 14.")

    with OpenAIServer(finish) as server:
        code = main(["label-mc", "--run", run_id, "--k", "2", "--engine", "openai", "--model", "served",
                     "--base-url", server.base_url, "--concurrency", "4", "--max-retries", "0"])
    assert code == 0, capsys.readouterr().err
    assert server.requests, "no rollout reached the server"
    for body in server.requests:
        assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
        assert body["messages"][-1]["role"] == "assistant" and body["messages"][-1]["content"].strip()
    prefixes = {b["messages"][-1]["content"] for b in server.requests}
    assert len(prefixes) > 1  # one per step: the rollouts depend on the step
    assert len({b["seed"] for b in server.requests}) > 1
    with Store() as store:
        store.refresh()
        labels = q.labels_in_force(store, [run_id], ["auto:mc"])
    assert len(labels) > 0 and len(server.requests) == 2 * len(labels)  # k rollouts per step prefix


def test_bad_server_options_fail_before_a_job_folder_exists(agentark_home, capsys, monkeypatch):
    run_id = segmented_run(1)
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    base = ["label-mc", "--run", run_id, "--model", "served"]
    cases = [
        (["--engine", "openai", "--base-url", "ftp://host/v1"], "http://"),
        (["--engine", "openai"], "--base-url"),
        (["--engine", "openai", "--base-url", "http://127.0.0.1:9/v1", "--concurrency", "0"], "concurrency"),
        (["--engine", "openai", "--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "NO_SUCH_KEY"], "NO_SUCH_KEY"),
        (["--engine", "transformers", "--base-url", "http://127.0.0.1:9/v1"], "--engine openai"),
        (["--engine", "nope"], "Unknown engine"),
    ]
    for flags, hint in cases:
        assert main(base + flags) == 2, flags
        assert hint in capsys.readouterr().err, flags
    labeling = agentark_home / "labeling"
    assert not labeling.exists() or not any(labeling.iterdir())


def test_import_commands_take_the_speaker_model(tmp_path, capsys):
    du = tmp_path / "du.json"
    du.write_text(json.dumps({"What is 2+2?": [[[{"role": "user", "content": "Solve 2+2"},
                                                 {"role": "assistant", "content": "The answer is 4."}]], 4]}))
    assert main(["import", "--format", "du2023", str(du), "--model", "gpt-3.5-turbo"]) == 0
    prm = tmp_path / "prm.jsonl"
    prm.write_text(json.dumps(PRM800K_LINE) + "\n")
    assert main(["import-steps", "prm800k", str(prm), "--model", "gpt-4"]) == 0
    step_run = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_id"]
    with Store() as store:
        models = dict(store.con.execute("SELECT method, model FROM runs").fetchall())
        assert models == {"import:du2023": "gpt-3.5-turbo", "prm800k": "gpt-4"}
        assert set(run_tables.messages(store, step_run)["model"]) == {"gpt-4"}
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["import", "--format", "maslab", str(empty)]) == 2
    assert main(["import-steps", "math-shepherd", str(empty)]) == 2
