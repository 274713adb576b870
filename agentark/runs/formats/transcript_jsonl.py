"""The ``transcripts`` format: our own lossless JSONL, one record per message (schema ``agentark.transcript/1``).

A record carries where it belongs, the message, and (repeated on each of a problem's messages) its problem,
its problem's outcome and its run (``TRANSCRIPT_FIELDS``), so any subset of lines still imports on its own.
``export_transcripts`` writes a run this way and importing the export gives back equal rows. Design
decision: every field is checked against the store's column types before a row is kept, and a run id is
checked as a folder name, since a record may come from anywhere. A problem's id is taken from its question
(``agentark.tasks.problem_id``), not from the record, so a file written by an older studio lines up with
the problems stored now; a file whose messages carry no ``answer_kind`` was graded by an older rule, and
its runs are re-graded once imported (``agentark.runs.regrade``).
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd

from agentark.backends.base import FINISH_REASONS
from agentark.clock import now
from agentark.grading import ANSWER_KINDS, normalize_answer
from agentark.ids import is_valid_id
from agentark.runs.formats.import_writer import ImportReport, ImportRequest, RunWriter
from agentark.runs.import_io import (
    FieldError,
    Unreadable,
    bool_field,
    int_field,
    iter_json_lines,
    number_field,
    object_field,
    text_field,
)
from agentark.store import Store, run_tables
from agentark.store import transcript_tables as db
from agentark.tasks import problem_id

SCHEMA = "agentark.transcript/1"
MESSAGE_FIELDS = ("message_id", "agent", "round", "role", "seq", "model", "content", "answer", "answer_norm",
                  "is_correct", "prompt_tokens", "completion_tokens", "latency_ms", "error", "finish_reason",
                  "answer_kind")
OUTCOME_FIELDS = ("final_answer", "is_correct", "consensus", "answer_changes", "prompt_tokens",
                  "completion_tokens", "engine_calls", "wall_ms", "vote_tie")
TRANSCRIPT_FIELDS = {
    "schema": SCHEMA, "run_id": "str", "problem_id": "str", **{f: "message field" for f in MESSAGE_FIELDS},
    "problem": "{dataset, split, question, reference_answer, meta, idx}",
    "outcome": "{" + ", ".join(OUTCOME_FIELDS) + "} or null",
    "run": "{kind, method, dataset, model, config, status, created_at, git_commit, versions}",
}


# -- reading ------------------------------------------------------------------------------------------------
def _created_at(value: object) -> str:
    if value is None:
        return now().isoformat()
    if not isinstance(value, str):
        raise FieldError("'run.created_at' is not an ISO date-time text")
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise FieldError(f"'run.created_at' is {value[:30]!r}, not an ISO date-time") from exc
    return value


def _transcript_message(rec: dict, run_id: str, pid: str, model: str) -> dict:
    """The message row of a transcript record, every field checked against the store's column types."""
    seq = int_field(rec, "seq")
    message = {
        "message_id": text_field(rec, "message_id", required=False) or f"{run_id}:{pid}:{seq:04d}",
        "run_id": run_id, "problem_id": pid, "agent": text_field(rec, "agent"), "round": int_field(rec, "round"),
        "role": text_field(rec, "role"), "seq": seq, "model": text_field(rec, "model", required=False) or model or None,
        "content": text_field(rec, "content"), "answer": text_field(rec, "answer", required=False),
        "answer_norm": text_field(rec, "answer_norm", required=False), "is_correct": bool_field(rec, "is_correct"),
        "prompt_tokens": int_field(rec, "prompt_tokens", required=False) or 0,
        "completion_tokens": int_field(rec, "completion_tokens", required=False) or 0,
        "latency_ms": number_field(rec, "latency_ms") or 0.0, "error": text_field(rec, "error", required=False),
        "finish_reason": text_field(rec, "finish_reason", required=False),
        "answer_kind": text_field(rec, "answer_kind", required=False),
    }
    if message["answer_kind"] not in (None, *ANSWER_KINDS):
        raise FieldError(f"'answer_kind' is {message['answer_kind'][:20]!r}, expected one of {', '.join(ANSWER_KINDS)}")
    if message["finish_reason"] not in (None, *FINISH_REASONS):
        raise FieldError(f"'finish_reason' is {message['finish_reason'][:20]!r}, "
                         f"expected one of {', '.join(FINISH_REASONS)}")
    if message["answer_norm"] is None and message["answer"] is not None:
        message["answer_norm"] = normalize_answer(message["answer"])
    return message


def _transcript_problem(rec: dict, run_id: str, pid: str, dataset: str | None) -> tuple[dict, int | None]:
    problem = object_field(rec, "problem", required=True)
    row = {
        "problem_id": pid, "question": text_field(problem, "question", where="problem."),
        "reference_answer": text_field(problem, "reference_answer", where="problem."),
        "dataset": text_field(problem, "dataset", required=False, where="problem.") or dataset or "import",
        "split": text_field(problem, "split", required=False, where="problem."),
        "meta_json": json.dumps(object_field(problem, "meta", where="problem."), sort_keys=True),
    }
    return row, int_field(problem, "idx", required=False, where="problem.")


def _transcript_outcome(rec: dict, run_id: str, pid: str) -> dict | None:
    if rec.get("outcome") is None:
        return None
    o = object_field(rec, "outcome")
    w = "outcome."
    return {"run_id": run_id, "problem_id": pid,
            "final_answer": text_field(o, "final_answer", required=False, where=w),
            "is_correct": bool_field(o, "is_correct", where=w), "consensus": number_field(o, "consensus", where=w),
            "answer_changes": int_field(o, "answer_changes", required=False, where=w),
            "prompt_tokens": int_field(o, "prompt_tokens", required=False, where=w),
            "completion_tokens": int_field(o, "completion_tokens", required=False, where=w),
            "engine_calls": int_field(o, "engine_calls", required=False, where=w),
            "wall_ms": number_field(o, "wall_ms", where=w), "vote_tie": bool_field(o, "vote_tie", where=w)}


def _transcript_run(rec: dict, run_id: str, model: str) -> dict:
    run = object_field(rec, "run")
    w = "run."
    return {
        "run_id": run_id, "kind": text_field(run, "kind", required=False, where=w) or "import",
        "method": text_field(run, "method", required=False, where=w),
        "dataset": text_field(run, "dataset", required=False, where=w),
        "model": text_field(run, "model", required=False, where=w) or model or None,
        "config": object_field(run, "config", where=w),
        "status": text_field(run, "status", required=False, where=w) or "imported",
        "created_at": _created_at(run.get("created_at")),
        "git_commit": text_field(run, "git_commit", required=False, where=w),
        "versions": object_field(run, "versions", where=w),
    }


# How the file's records are read, for the digest that recognises an import made before (``records_sha256``).
records = iter_json_lines


def read(request: ImportRequest, report: ImportReport) -> dict[str, RunWriter]:
    """Read transcript records into the runs they name (a file may hold several), a line at a time."""
    store, model = request.store, request.model
    writers: dict[str, RunWriter] = {}
    known: dict[str, set[str]] = {}
    for line_no, rec in iter_json_lines(request.path):
        if isinstance(rec, Unreadable):
            report.rejected.append((line_no, rec.reason))
            continue
        try:
            if rec.get("schema") != SCHEMA:
                raise FieldError(f"'schema' is {str(rec.get('schema'))[:40]!r}, expected {SCHEMA!r}")
            run_id = text_field(rec, "run_id", nonempty=True)
            if not is_valid_id(run_id):
                # A run id is also a folder name; one like ../../x must never reach a path.
                raise FieldError(f"'run_id' {run_id[:60]!r} is not a valid run id (letters, digits and _ . : = + -, "
                                 "starting with a letter or digit)")
            source_pid = text_field(rec, "problem_id", nonempty=True)
            message = _transcript_message(rec, run_id, source_pid, model)
            run = _transcript_run(rec, run_id, model)
            problem, idx = _transcript_problem(rec, run_id, source_pid, run["dataset"])
            pid = problem_id(problem["question"])
            message["problem_id"] = problem["problem_id"] = pid
            outcome = _transcript_outcome(rec, run_id, pid)
        except FieldError as exc:
            report.rejected.append((line_no, str(exc)))
            continue
        if message["answer_kind"] is None and message["error"] is None:
            report.regrade.add(run_id)
        if run_id not in writers:
            run["dataset"] = run["dataset"] or problem["dataset"]
            run["next_idx"] = db.next_problem_idx(store, run_id)
            writers[run_id] = RunWriter(store, run)
            known[run_id] = db.known_message_ids(store, run_id)
        writer = writers[run_id]
        if message["message_id"] in known[run_id]:
            report.duplicates += 1
            continue
        known[run_id].add(message["message_id"])
        first = pid not in writer.placed
        writer.add(problem, idx, [message], outcome if first else None)
        report.imported += 1
    return writers


# -- writing ------------------------------------------------------------------------------------------------
def _clean(value):
    """JSON-ready scalars: pandas NaN/NA become null, numpy numbers become Python numbers."""
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def transcript_records(store: Store, run_id: str) -> list[dict]:
    """A run's messages as transcript records (schema ``agentark.transcript/1``), one per message."""
    run = run_tables.get_run(store, run_id)
    rows = db.transcript_rows(store, run_id)
    run_block = {
        "kind": run["kind"], "method": run["method"], "dataset": run["dataset"], "model": run["model"],
        "config": run["config"], "status": run["status"], "created_at": run["created_at"].isoformat(),
        "git_commit": run["git_commit"], "versions": run["versions"],
    }
    records = []
    for row in rows.to_dict("records"):
        record = {"schema": SCHEMA, "run_id": run_id, "problem_id": row["problem_id"]}
        record.update({k: _clean(row[k]) for k in MESSAGE_FIELDS})
        record["problem"] = {
            "dataset": row["p_dataset"], "split": _clean(row["p_split"]), "question": row["p_question"],
            "reference_answer": row["p_reference_answer"], "meta": json.loads(row["p_meta_json"] or "{}"),
            "idx": _clean(row["p_idx"]),
        }
        record["outcome"] = ({k: _clean(row[f"o_{k}"]) for k in OUTCOME_FIELDS} if row["has_outcome"] else None)
        record["run"] = run_block
        records.append(record)
    return records


def write_records(records: list[dict], out: str | Path) -> None:
    """Write records as JSON lines (temp name, then rename)."""
    out = Path(out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(out)


def export_transcripts(store: Store, run_id: str, out: str | Path) -> int:
    """Write a run's messages as transcript JSONL (one record per message); return the number written."""
    records = transcript_records(store, run_id)
    write_records(records, out)
    return len(records)
