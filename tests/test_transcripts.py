"""Importers (du2023, maslab, our transcripts) on files written in each format, and the export round trip."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from agentark.debate import debate_job
from agentark.cli import main
from agentark.debate import DebateConfig
from agentark.errors import ImportFormatError
from agentark.store import Store, run_tables
from agentark.runs.formats import import_file
from agentark.runs.formats.transcript_jsonl import export_transcripts


def du_entry(question: str, answers: list[list[str]], reference) -> tuple[str, list]:
    contexts = []
    for agent_answers in answers:
        ctx = []
        for rnd, text in enumerate(agent_answers):
            ctx.append({"role": "user", "content": f"round {rnd} prompt"})
            ctx.append({"role": "assistant", "content": text})
        contexts.append(ctx)
    return question, [contexts, reference]


def test_du2023_rounds_are_the_assistant_turns(tmp_path):
    data = dict([
        du_entry("What is 2+3?", [["The answer is 5.", "The answer is 5."], ["The answer is 6.", "The answer is 5."]],
                 "Two plus three.\n#### 5"),
        du_entry("What is 4*4?", [["The answer is 16.", "The answer is 16."], ["The answer is 12.", "The answer is 12."]], 16),
    ])
    data["broken"] = "not a pair"
    data["What is 1+1?"] = [[[{"role": "user", "content": "q"}, {"role": "assistant"}]], 2]
    path = tmp_path / "gsm_debate.json"
    path.write_text(json.dumps(data, indent=1))
    with Store() as store:
        report = import_file(store, "du2023", path)
        assert (report.imported, report.duplicates) == (2, 0)
        lines = [line for line, _ in report.rejected]
        assert [r[1] for r in report.rejected] == [
            f"problem 3 'broken' (line {lines[0]}): value is not [agent_contexts, answer]",
            f"problem 4 'What is 1+1?' (line {lines[1]}): agent_1 message 1 (assistant) has no text content"]
        assert all(line > 1 for line, _ in report.rejected)  # the line of the question in the file
        msgs = run_tables.messages(store, report.run_id)
        first = msgs[msgs["content"] == "The answer is 6."].iloc[0]
        assert (first["agent"], first["round"], first["role"]) == ("agent_2", 1, "solver")
        assert len(msgs) == 8 and sorted(msgs["round"].unique()) == [1, 2]
        problems = run_tables.run_problems(store, report.run_id)
        assert problems["reference_answer"].tolist() == ["5", "16"]
        # 4*4: the last round is 16 against 12, no majority, so no final answer (issue 30: ties are not broken).
        assert problems["is_correct"].tolist() == [True, False] and problems["answer_changes"].tolist() == [1, 0]
        again = import_file(store, "du2023", path, again=True)
        assert (again.imported, again.duplicates, again.run_id) == (0, 2, report.run_id)
        assert len(run_tables.messages(store, report.run_id)) == 8


def test_du2023_not_json_is_a_format_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{oops")
    with Store() as store, pytest.raises(ImportFormatError, match="not JSON"):
        import_file(store, "du2023", path)


def test_maslab_solution_blocks_and_token_stats(tmp_path):
    lines = [
        json.dumps({"query": "What is 2+2?", "gt": "4", "response": "===== Solution 1 =====\nThe answer is 4.\n"
                    "===== Solution 2 =====\nI get 5. The answer is 5.\n===== Solution 3 =====\nThe answer is 4.",
                    "token_stats": {"llama-3-8b": {"num_llm_calls": 6, "prompt_tokens": 900, "completion_tokens": 300}}}),
        "{not json",
        json.dumps({"query": "What is 3+3?", "response": "The answer is 6."}),
        json.dumps({"query": "What is 2+2?", "gt": "4", "response": "The answer is 4."}),
        json.dumps({"query": "Area?", "gt": "The area is \\boxed{12}.", "response": "So \\boxed{12}.",
                    "token_stats": {}}),
        json.dumps({"query": "Bad stats", "gt": "1", "response": "x", "token_stats": {"m": 3}}),
    ]
    path = tmp_path / "maslab.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with Store() as store:
        report = import_file(store, "maslab", path, dataset="gsm8k")
        assert (report.imported, report.duplicates) == (2, 1)
        assert [line for line, _ in report.rejected] == [2, 3, 6]
        assert "not JSON" in report.rejected[0][1] and "'gt'" in report.rejected[1][1]
        assert "token_stats" in report.rejected[2][1]
        msgs = run_tables.messages(store, report.run_id)
        first = msgs[msgs["problem_id"] == msgs["problem_id"].iloc[0]]
        assert first["agent"].tolist() == ["agent_1", "agent_2", "agent_3"]
        assert first["model"].unique().tolist() == ["llama-3-8b"]
        problems = run_tables.run_problems(store, report.run_id)
        row = problems.iloc[0]
        assert (row.final_answer, row.prompt_tokens, row.completion_tokens, row.engine_calls) == ("4", 900, 300, 6)
        assert problems.iloc[1].reference_answer == "12" and problems.iloc[1].is_correct


def test_transcripts_round_trip_is_lossless(tmp_path, monkeypatch):
    cfg = DebateConfig(method="debate", agents=2, rounds=2, limit=3, engine="scripted", model="tests.scripted:first_number")
    run_id, _ = debate_job.create_debate_run(cfg)
    debate_job.run_debate_job(run_id)
    out = tmp_path / "export.jsonl"
    tables = {
        "runs": "SELECT * FROM runs WHERE run_id = $run",
        "problems": "SELECT * FROM problems WHERE problem_id IN (SELECT problem_id FROM run_problems WHERE run_id = $run) ORDER BY problem_id",
        "run_problems": "SELECT * FROM run_problems WHERE run_id = $run ORDER BY idx",
        "messages": "SELECT * FROM messages WHERE run_id = $run ORDER BY message_id",
        "outcomes": "SELECT * FROM outcomes WHERE run_id = $run ORDER BY problem_id",
    }
    with Store() as store:
        store.refresh()
        assert export_transcripts(store, run_id, out) == 3 * 2 * 2
        before = {t: store.con.execute(sql, {"run": run_id}).df() for t, sql in tables.items()}
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records[0]["schema"] == "agentark.transcript/1" and records[0]["run"]["method"] == "debate"
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.setenv("AGENTARK_HOME", str(fresh))
    with Store() as store:
        report = import_file(store, "transcripts", out)
        assert (report.imported, report.duplicates, report.rejected) == (12, 0, [])
        after = {t: store.con.execute(sql, {"run": run_id}).df() for t, sql in tables.items()}
        for table in tables:
            pd.testing.assert_frame_equal(before[table], after[table], check_dtype=True, obj=table)
        again = import_file(store, "transcripts", out, again=True)
        assert (again.imported, again.duplicates) == (0, 12)


def test_transcripts_rejections_keep_good_records(tmp_path):
    good = {"schema": "agentark.transcript/1", "run_id": "ext-1", "problem_id": "q1", "agent": "a", "round": 1,
            "role": "solver", "seq": 0, "content": "The answer is 3.", "answer": "3", "is_correct": True,
            "problem": {"question": "1+2?", "reference_answer": "3"}}
    lines = [json.dumps(good), json.dumps({**good, "schema": "other"}), json.dumps({**good, "seq": 1, "round": "x"}),
             json.dumps({**good, "seq": 2, "problem": {"question": "1+2?"}}), "[1, 2]", json.dumps(good)]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines))
    with Store() as store:
        report = import_file(store, "transcripts", path)
        assert (report.imported, report.duplicates) == (1, 1)
        assert [(line, reason.split(" ")[0]) for line, reason in report.rejected] == [
            (2, "'schema'"), (3, "'round'"), (4, "'problem.reference_answer'"), (5, "a")]
        assert run_tables.count(store, "messages", "ext-1") == 1
        assert run_tables.get_run(store, "ext-1")["status"] == "imported"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nope\n")
    with Store() as store, pytest.raises(ImportFormatError, match="line 1"):
        import_file(store, "transcripts", bad)


def test_cli_export_then_import(tmp_path, capsys):
    assert main(["debate", "--limit", "2", "--method", "cot", "--engine", "scripted",
                 "--model", "tests.scripted:first_number"]) == 0
    run_id = capsys.readouterr().out.split()[1].rstrip(":")
    out = tmp_path / "t.jsonl"
    assert main(["export", "transcripts", "--run", run_id, "--out", str(out)]) == 0
    assert f"2 rows -> {out}" in capsys.readouterr().out
    assert main(["import", "--format", "transcripts", str(out), "--home", str(tmp_path / "h2")]) == 0
    assert "2 imported, 0 skipped as duplicate, 0 rejected" in capsys.readouterr().out
    assert main(["import", "--format", "maslab", str(tmp_path / "missing.jsonl")]) == 2
    assert "No file" in capsys.readouterr().err
