"""Every page and the CLI's run listings work on runs with any optional field missing (issue 28): runs imported
without a model, tokens, latency or finish reasons, next to one that has them all."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from agentark.cli import main
from agentark.runs.formats import import_file, transcript_jsonl
from agentark.store import Store
from tests.conftest import ROOT
from tests.test_team_defects import du2023_file

pytestmark = pytest.mark.timeout(600)

PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


def _transcripts(path, run_id: str, full: bool) -> None:
    lines = []
    for i in range(3):
        rec = {"schema": transcript_jsonl.SCHEMA, "run_id": run_id, "problem_id": f"{run_id}-p{i}", "agent": "a",
               "round": 1, "role": "solver", "seq": 0, "content": f"Step 1: add.\nThe answer is {i + 2}.",
               "answer": str(i + 2), "problem": {"question": f"{i}+2?", "reference_answer": str(i + 2)}}
        if full:
            rec.update(model="m-full", prompt_tokens=10, completion_tokens=5, latency_ms=12.0, finish_reason="stop",
                       run={"kind": "debate", "method": "debate", "model": "m-full"},
                       outcome={"final_answer": str(i + 2), "is_correct": True, "prompt_tokens": 10,
                                "completion_tokens": 5, "engine_calls": 1, "wall_ms": 12.0})
        lines.append(json.dumps(rec))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def sparse_runs(tmp_path) -> list[str]:
    _transcripts(tmp_path / "bare.jsonl", "bare", full=False)
    _transcripts(tmp_path / "full.jsonl", "full", full=True)
    with Store() as store:
        ids = [import_file(store, "transcripts", tmp_path / "bare.jsonl").run_id,
               import_file(store, "transcripts", tmp_path / "full.jsonl").run_id,
               import_file(store, "du2023", du2023_file(tmp_path / "d.json")).run_id]
    return ids


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_on_runs_with_fields_missing(sparse_runs, page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(f"pages/{page}")
    at.query_params["runs"] = ",".join(sparse_runs)
    at.query_params["run"] = sparse_runs[0]
    at.run()
    assert not at.exception, at.exception


def test_cli_listings_work_on_runs_with_fields_missing(sparse_runs, capsys):
    assert main(["runs"]) == 0
    shown = capsys.readouterr().out
    assert all(run in shown for run in sparse_runs)
    assert main(["runs", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    for run in sparse_runs:
        assert main(["stats", run]) == 0
