"""The auto:prm label source: probabilities become labels with confidence, reruns add only changes; the
prm_label job kind (stop, resume, ingestion once); the CLI."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from agentark.cli import main
from agentark.errors import ConfigError, ModelNotFoundError
from agentark import jobs
from agentark.jobs import list_jobs, run_job
from agentark.labels.human_labels import step_table
from agentark.labels.prm_labeler import (
    KIND,
    SOURCE,
    PRMLabelConfig,
    PRMLabelFolder,
    prm_label_rows,
    run_prm_labeler,
)
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import label_tables as q
from tests.steps_fixtures import debate_store


class FixedScorer:
    """Scores each step by whether its text holds the wrong product '14' (a stand-in PRM)."""

    def __init__(self, wrong: float = 0.2, right: float = 0.9) -> None:
        self.wrong, self.right, self.calls = wrong, right, 0

    def score(self, items):
        self.calls += 1
        return [[self.wrong if "14" in s else self.right for s in steps] for _, steps in items]


def test_rows_carry_value_confidence_and_probability():
    rows = prm_label_rows([["a", "b"], ["c"]], [[0.9, 0.3], [0.5]], threshold=0.5)
    assert rows["value"].tolist() == [1.0, -1.0, 1.0]
    assert rows["confidence"].tolist() == pytest.approx([0.9, 0.7, 0.5])
    assert rows["soft_value"].tolist() == pytest.approx([0.9, 0.3, 0.5])


def test_labeler_writes_the_source_once_and_again_only_on_change(tmp_path):
    store = debate_store(tmp_path / "s.duckdb")
    segment_runs(store, None, SegmentConfig())
    cfg = PRMLabelConfig(model="stand-in")
    written = run_prm_labeler(store, cfg, FixedScorer())
    steps = q.steps_in_context(store)
    assert written == len(steps)
    labels = q.labels_in_force(store, None, [SOURCE]).merge(steps[["step_id", "text"]], on="step_id")
    wrong = labels[labels["text"].str.contains("14")]
    assert not wrong.empty and (wrong["value"] == -1.0).all() and wrong["confidence"].tolist() == pytest.approx([0.8] * len(wrong))
    assert (labels[~labels["text"].str.contains("14")]["value"] == 1.0).all()
    assert run_prm_labeler(store, cfg, FixedScorer()) == 0
    assert run_prm_labeler(store, cfg, FixedScorer(wrong=0.45)) == len(wrong)
    table = step_table(store)
    assert SOURCE in table.columns and table["min_confidence"].notna().all()


def test_config_refuses_bad_values():
    with pytest.raises(ConfigError, match="No PRM given"):
        PRMLabelConfig()
    with pytest.raises(ConfigError, match="threshold"):
        PRMLabelConfig(model="m", threshold=1.5)


def test_cli_labels_with_a_trained_prm(tmp_path, agentark_home, capsys):
    from agentark.train.prm import PRMConfig, train_prm
    from tests.tinylm import build_tiny_llama

    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"prompt": "q", "completions": ["3 * 4 = 14", "12 - 2 = 10"], "labels": [False, True]}))
    result = train_prm(PRMConfig(export=str(data), base_model=str(build_tiny_llama(tmp_path / "base")), max_steps=1),
                       tmp_path / "out")
    store = debate_store(agentark_home / "agentark.duckdb")
    segment_runs(store, None, SegmentConfig())
    n_steps = len(q.steps_in_context(store))
    store.close()
    assert main(["label-prm", "--model", str(result.model_dir)]) == 0
    assert f"done: {n_steps} auto:prm labels stored" in capsys.readouterr().out
    assert main(["label-prm"]) == 2 and "--model" in capsys.readouterr().err
    assert main(["label-prm", "--model", str(tmp_path / "base")]) == 2
    assert "not a studio PRM" in capsys.readouterr().err
    assert [j for j in list_jobs() if j["kind"] == "prm_label"][0]["status"] == "done"


def test_job_stops_between_chunks_resumes_and_ingests_each_label_once(tmp_path, agentark_home, monkeypatch):
    store = debate_store(agentark_home / "agentark.duckdb")
    segment_runs(store, None, SegmentConfig())
    n_steps = len(q.steps_in_context(store))
    prm = tmp_path / "prm"
    prm.mkdir()
    (prm / "agentark_prm.json").write_text(json.dumps({"format": "agentark-prm"}))
    job_id = jobs.create(KIND, PRMLabelConfig(model=str(prm), chunk_size=1), store=store).job_id
    folder = PRMLabelFolder(job_id)

    def stop_after_first(done, total):
        if done == 1:
            folder.request_cancel()

    assert run_job(job_id, on_progress=stop_after_first, scorer=FixedScorer())["status"] == "stopped"
    assert len(folder.finished_shards("labels")) == 1
    assert run_job(job_id, scorer=FixedScorer())["status"] == "done"
    assert len(folder.finished_shards("labels")) == 4  # one per message, the first not redone
    store.refresh()
    assert q.count_labels(store, SOURCE) == n_steps
    store.refresh()
    assert q.count_labels(store, SOURCE) == n_steps
    again = jobs.create(KIND, PRMLabelConfig(model=str(prm)), store=store).job_id
    run_job(again, scorer=FixedScorer())
    store.refresh()
    assert q.count_labels(store, SOURCE) == n_steps  # the same probabilities change nothing in force
    with pytest.raises(ModelNotFoundError, match="not a studio PRM"):
        jobs.create(KIND, PRMLabelConfig(model=str(tmp_path)), store=store)


def test_labeling_page_lists_studio_prms_and_starts_nothing_for_a_bad_one(agentark_home):
    from agentark.checkpoints import model_dir, write_card
    from tests.app_pages import segmented_run
    from tests.test_label_pages import labeling_page, open_tab

    segmented_run(2)
    fake = model_dir("prm-fake")
    fake.mkdir(parents=True)
    write_card(fake, {"model_id": "prm-fake", "kind": "prm", "created_at": "2026-01-01T00:00:00"})
    at = labeling_page()
    open_tab(at, "Prepare")
    at.button(key="FormSubmitter:lab_prm-Start PRM job").click().run()
    assert at.error and "No PRM given" in at.error[0].value
    assert at.selectbox(key="lab_prm_model").options == ["prm-fake"]
    at.selectbox(key="lab_prm_model").set_value("prm-fake")
    at.button(key="FormSubmitter:lab_prm-Start PRM job").click().run()
    assert at.error and "not a studio PRM" in at.error[0].value
    labeling_dir = agentark_home / "labeling"
    assert not labeling_dir.exists() or not any(labeling_dir.iterdir())
