"""Importers on the files people really have: system prompts, binary data, wrong-typed fields, empty files,
files bigger than one write batch, and two uploads that share a name. Every importer keeps its good
records, rejects each bad one with its line and reason, and raises when nothing was imported."""
from __future__ import annotations

import json

import pytest

from agentark.runs import formats, import_io
from agentark.runs.formats import import_writer, transcript_jsonl
from agentark.labels import step_import
from agentark.errors import ImportFormatError
from agentark.labels.step_import import import_steps
from agentark.store import Store, run_tables
from agentark.runs.formats import import_file, import_upload
from tests.test_export import PRM800K_LINE, SHEPHERD_LINE

BINARY = bytes(range(256)) * 8


def persona_entry(question: str, answers: list[str], reference) -> tuple[str, list]:
    """A du2023 entry whose agents each start with a persona system prompt, then user/assistant rounds."""
    contexts = []
    for a, answer in enumerate(answers):
        contexts.append([
            {"role": "system", "content": f"You are agent {a}, a careful mathematician."},
            {"role": "user", "content": f"Solve: {question}"},
            {"role": "assistant", "content": answer},
            {"role": "user", "content": "Here are the other agents' answers. Update yours."},
            {"role": "assistant", "content": answer + " I stand by it."},
        ])
    return question, [contexts, reference]


def maslab_line(question: str, answer: str, **extra) -> str:
    row = {"query": question, "gt": answer, "response": f"===== Solution 1 =====\nThe answer is {answer}.",
           "token_stats": {"m": {"num_llm_calls": 1, "prompt_tokens": 10, "completion_tokens": 5}}}
    row.update(extra)
    return json.dumps(row)


def transcript_line(seq: int, **extra) -> str:
    rec = {"schema": transcript_jsonl.SCHEMA, "run_id": "ext", "problem_id": "p1", "agent": "a", "round": 1,
           "role": "solver", "seq": seq, "content": "The answer is 3.", "answer": "3",
           "problem": {"question": "1+2?", "reference_answer": "3"}}
    rec.update(extra)
    return json.dumps(rec)


# -- point 3: du2023 roles and --model --------------------------------------------------------------------------
def test_du2023_with_system_prompts_stores_the_assistant_turns_not_the_user_prompts(tmp_path):
    path = tmp_path / "persona.json"
    path.write_text(json.dumps(dict([persona_entry("What is 2+3?", ["The answer is 5.", "The answer is 6."], 5)])))
    with Store() as store:
        report = import_file(store, "du2023", path, model="llama-3-8b")
        msgs = run_tables.messages(store, report.run_id).sort_values(["round", "agent"])
        assert msgs["content"].tolist() == ["The answer is 5.", "The answer is 6.",
                                            "The answer is 5. I stand by it.", "The answer is 6. I stand by it."]
        assert msgs["round"].tolist() == [1, 1, 2, 2]
        assert not msgs["content"].str.contains("Solve:|other agents").any()
        assert set(msgs["model"]) == {"llama-3-8b"}
        assert run_tables.get_run(store, report.run_id)["model"] == "llama-3-8b"


def test_du2023_contexts_that_cannot_be_read_are_rejected_with_line_and_reason(tmp_path):
    good = persona_entry("What is 1+1?", ["The answer is 2."], 2)
    bad = {
        "unknown role": [[[{"role": "user", "content": "q"}, {"role": "bot", "content": "2"}]], 2],
        "answer first": [[[{"role": "assistant", "content": "2"}, {"role": "user", "content": "q"}]], 2],
        "no answer": [[[{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]], 2],
        "message not an object": [[["user", "q"]], 2],
        "content not text": [[[{"role": "user", "content": "q"}, {"role": "assistant", "content": 5}]], 2],
        "answer is a list": [[[{"role": "user", "content": "q"}, {"role": "assistant", "content": "2"}]], [2]],
    }
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({good[0]: good[1], **bad}, indent=1))
    with Store() as store:
        report = import_file(store, "du2023", path)
    assert report.imported == 1 and len(report.rejected) == len(bad)
    reasons = [why for _, why in report.rejected]
    assert "role 'bot'" in reasons[0] and "before any user message" in reasons[1]
    assert "no assistant message" in reasons[2] and "expected {role, content}" in reasons[3]
    assert "no text content" in reasons[4] and "reference answer" in reasons[5]
    lines = [line for line, _ in report.rejected]
    assert lines == sorted(lines) and lines[0] > 1


def test_maslab_model_option_names_the_speaker(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(maslab_line("What is 2+2?", "4", token_stats={}) + "\n")
    with Store() as store:
        report = import_file(store, "maslab", path, model="qwen-7b")
        assert set(run_tables.messages(store, report.run_id)["model"]) == {"qwen-7b"}
        assert run_tables.get_run(store, report.run_id)["model"] == "qwen-7b"


def test_step_imports_record_the_model(tmp_path):
    path = tmp_path / "prm.jsonl"
    path.write_text(json.dumps(PRM800K_LINE) + "\n")
    with Store() as store:
        report = import_steps(store, path, "prm800k", model="gpt-4-generator")
        assert run_tables.get_run(store, report["run_id"])["model"] == "gpt-4-generator"
        assert set(run_tables.messages(store, report["run_id"])["model"]) == {"gpt-4-generator"}


# -- point 8: binary input, wrong types, empty files -------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["du2023", "maslab", "transcripts", "prm800k", "math-shepherd"])
@pytest.mark.parametrize("content", [BINARY, b"", b"\n\n"], ids=["binary", "empty", "blank"])
def test_binary_and_empty_files_import_nothing_and_raise(tmp_path, fmt, content):
    path = tmp_path / "data.jsonl"
    path.write_bytes(content)
    with Store() as store, pytest.raises(ImportFormatError) as err:
        if fmt in formats.FORMATS:
            import_file(store, fmt, path)
        else:
            import_steps(store, path, fmt)
    message = str(err.value)
    if content == BINARY:
        assert "line 2: not UTF-8 text" in message or "line 1: not UTF-8 text" in message
    else:
        assert "no record" in message or "the file is empty" in message


def test_a_binary_line_among_good_lines_is_rejected_alone(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_bytes(maslab_line("What is 1+1?", "2").encode() + b"\n" + BINARY[:200].replace(b"\n", b" ") + b"\n"
                     + maslab_line("What is 2+2?", "4").encode() + b"\n")
    with Store() as store:
        report = import_file(store, "maslab", path)
    assert report.imported == 2 and report.rejected == [(2, "not UTF-8 text (is this a binary file?)")]


def test_a_du2023_file_that_breaks_off_keeps_what_came_before(tmp_path):
    entry = persona_entry("What is 1+1?", ["The answer is 2."], 2)
    text = json.dumps({entry[0]: entry[1], "What is 2+2?": entry[1]}, indent=1)
    path = tmp_path / "cut.json"
    path.write_bytes(text[: text.index('"What is 2+2?"') + 30].encode() + BINARY[128:140])
    with Store() as store:
        report = import_file(store, "du2023", path)
    assert report.imported == 1 and len(report.rejected) == 1


@pytest.mark.parametrize("fmt, good, bad", [
    ("maslab", maslab_line("What is 1+1?", "2"), [
        maslab_line("A?", "1", token_stats={"m": {"prompt_tokens": "lots"}}),
        maslab_line("B?", "1", query=5), maslab_line("C?", "1", response=["x"]), maslab_line("D?", "1", gt={"x": 1}),
        maslab_line("E?", "1", token_stats=[1]), maslab_line("F?", "1", token_stats={"m": {"prompt_tokens": -3}}),
    ]),
    ("transcripts", transcript_line(0), [
        transcript_line(1, prompt_tokens="lots"), transcript_line(2, round=10**12), transcript_line(3, is_correct="yes"),
        transcript_line(4, latency_ms="fast"), transcript_line(5, problem="1+2?"), transcript_line(6, content=None),
        transcript_line(7, run={"created_at": 5}), transcript_line(8, outcome={"consensus": "all"}),
        transcript_line(9, answer=3), transcript_line(10, problem={"question": "1+2?", "reference_answer": "3", "idx": "0"}),
        transcript_line(11, run={"created_at": "yesterday"}), transcript_line(12, agent=["a"]),
    ]),
    ("prm800k", json.dumps(PRM800K_LINE), [
        json.dumps({**PRM800K_LINE, "label": {"steps": [1]}}),
        json.dumps({**PRM800K_LINE, "question": {"problem": 5}}),
        json.dumps({**PRM800K_LINE, "question": "What?"}),
        json.dumps({**PRM800K_LINE, "label": {"steps": [{"completions": "x"}]}}),
        json.dumps({**PRM800K_LINE, "label": {"steps": [{"completions": [{"text": 5}], "chosen_completion": 0}]}}),
        json.dumps({**PRM800K_LINE, "label": {"steps": [{"completions": [], "chosen_completion": "0"}]}}),
    ]),
    ("math-shepherd", json.dumps(SHEPHERD_LINE), [
        json.dumps({**SHEPHERD_LINE, "input": 5}), json.dumps({**SHEPHERD_LINE, "label": None}),
        json.dumps({**SHEPHERD_LINE, "input": ["a"]}),
    ]),
])
def test_each_wrong_typed_record_is_rejected_with_its_line_and_good_ones_are_kept(tmp_path, fmt, good, bad):
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join([good, *bad]) + "\n")
    with Store() as store:
        if fmt in formats.FORMATS:
            report = import_file(store, fmt, path)
            imported, rejected = report.imported, report.rejected
        else:
            result = import_steps(store, path, fmt)
            imported, rejected = result["solutions"], result["rejected"]
    assert imported == 1
    assert [line for line, _ in rejected] == list(range(2, len(bad) + 2))
    assert all(reason and "Traceback" not in reason for _, reason in rejected)


def test_wrong_typed_fields_are_named_in_the_reason(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(maslab_line("A?", "1") + "\n" + maslab_line("B?", "1", token_stats={"gpt": {"prompt_tokens": "lots"}}))
    with Store() as store:
        report = import_file(store, "maslab", path)
    assert report.rejected == [(2, "'token_stats.gpt.prompt_tokens' is \"lots\", expected a whole number")]


# -- point 9: streamed in batches --------------------------------------------------------------------------------
def test_imports_write_in_batches_and_lose_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(import_writer, "FLUSH_MESSAGES", 3)
    monkeypatch.setattr(step_import, "FLUSH_MESSAGES", 2)
    monkeypatch.setattr(import_io, "CHUNK_CHARS", 64)  # many reads per du2023 member
    du = tmp_path / "du.json"
    du.write_text(json.dumps(dict(persona_entry(f"What is {i}+{i}?", [f"The answer is {2 * i}."] * 2, 2 * i)
                                  for i in range(7)), indent=1))
    prm = tmp_path / "prm.jsonl"
    prm.write_text("\n".join(json.dumps({**PRM800K_LINE, "question": {"problem": f"Q{i}", "ground_truth_answer": "14"}})
                             for i in range(5)))
    with Store() as store:
        report = import_file(store, "du2023", du)
        assert (report.imported, report.messages) == (7, 28)
        placed = run_tables.run_problems(store, report.run_id)
        assert len(placed) == 7 and placed["is_correct"].all()
        assert sorted(store.con.execute("SELECT idx FROM run_problems WHERE run_id = ?", [report.run_id]).fetchall()) \
            == [(i,) for i in range(7)]
        with pytest.raises(ImportFormatError, match="was imported .* as run " + report.run_id):
            import_file(store, "du2023", du)
        again = import_file(store, "du2023", du, again=True)
        assert (again.imported, again.duplicates) == (0, 7)
        steps = import_steps(store, prm, "prm800k")
        assert (steps["solutions"], steps["steps"], steps["labels"]) == (5, 15, 15)
        assert len(run_tables.messages(store, steps["run_id"])) == 5


def test_du2023_reader_reports_lines_and_handles_records_split_across_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(import_io, "CHUNK_CHARS", 5)
    path = tmp_path / "x.json"
    path.write_text('{\n "a\\"b": [1, 2.5, "é"],\n\n "n": 123456789,\n "t": true}')
    assert list(import_io.iter_json_object(path)) == [(2, 'a"b', [1, 2.5, "é"]), (4, "n", 123456789), (5, "t", True)]
    path.write_text('{"a": 1}\n{"b": 2}')
    assert list(import_io.iter_json_object(path))[-1] == (2, import_io.Unreadable("not JSON (text after the end of the object)"))


# -- point 7: uploads -------------------------------------------------------------------------------------------
def test_two_uploads_with_the_same_name_are_two_runs_and_the_same_bytes_twice_are_one(tmp_path):
    first = (maslab_line("What is 1+1?", "2") + "\n").encode()
    second = (maslab_line("What is 5+5?", "10") + "\n").encode()
    with Store() as store:
        a = import_upload(store, "maslab", "results.jsonl", first)
        b = import_upload(store, "maslab", "results.jsonl", second)
        assert a.run_id != b.run_id and a.imported == b.imported == 1
        assert len(run_tables.run_problems(store, a.run_id)) == len(run_tables.run_problems(store, b.run_id)) == 1
        with pytest.raises(ImportFormatError, match="imported .* as run " + a.run_id):
            import_upload(store, "maslab", "results.jsonl", first)
        again = import_upload(store, "maslab", "results.jsonl", first, again=True)
        assert (again.run_id, again.imported, again.duplicates) == (a.run_id, 0, 1)


def test_transcripts_model_option_fills_only_records_that_name_none(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(transcript_line(0) + "\n" + transcript_line(1, model="named-model") + "\n")
    with Store() as store:
        import_file(store, "transcripts", path, model="fallback")
        models = run_tables.messages(store, "ext").sort_values("seq")["model"].tolist()
        assert models == ["fallback", "named-model"] and run_tables.get_run(store, "ext")["model"] == "fallback"
