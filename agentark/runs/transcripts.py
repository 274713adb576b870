"""Transcripts in and out: importers for other tools' debate files, and our own lossless transcript JSONL.

Formats (``python -m agentark import --format NAME PATH``):

- ``du2023``: Du et al.'s llm_multiagent_debate JSON, ``{question: [agent_contexts, answer]}``; each agent's
  context is a chat (an optional system prompt, then user and assistant turns) and its assistant turns are
  that agent's answers, round by round. Roles are read, never assumed from positions.
- ``maslab``: MASLab / AgentArk-reference JSONL, one problem per line with ``query``, ``gt``, ``response``
  (several ``===== Solution i =====`` blocks, one per agent) and ``token_stats``
  (``{model: {num_llm_calls, prompt_tokens, completion_tokens}}``).
- ``transcripts``: our own JSONL, one record per message (schema ``agentark.transcript/1``, see
  ``TRANSCRIPT_FIELDS``), which ``export_transcripts`` writes; importing an export gives back equal rows.

Design decision: an import streams. Records are read one at a time (agentark.runs.import_io) and written in
batches of ``FLUSH_MESSAGES`` messages, so time is linear and memory bounded whatever the file's size.
Each record is either imported, skipped as a duplicate (its message, or for whole-problem formats its
problem, is already in the run, in the store or earlier in the file), or rejected with its line and
reason, whatever the file holds (binary data, wrong-typed fields); nothing is half imported, nothing
already stored changes, and an import that imports nothing raises.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from agentark.backends.base import FINISH_REASONS, Completion
from agentark.clock import now
from agentark.debate import Decision, Turn, message_record, outcome_record
from agentark.errors import ImportFormatError
from agentark.grading import majority_vote, normalize_answer, reference_solution
from agentark.ids import check_id, is_valid_id
from agentark.runs.import_io import (
    FieldError,
    Unreadable,
    bool_field,
    int_field,
    iter_json_lines,
    iter_json_object,
    number_field,
    object_field,
    text_field,
)
from agentark.store import Store, run_tables
from agentark.store import transcript_tables as db
from agentark.tasks import Problem, extract_reference, problem_id

FORMATS = ("du2023", "maslab", "transcripts")
SCHEMA = "agentark.transcript/1"
SOLUTION_HEADER = re.compile(r"^=+\s*Solution\s+(\d+)\s*=+\s*$", re.MULTILINE | re.IGNORECASE)
MESSAGE_FIELDS = ("message_id", "agent", "round", "role", "seq", "model", "content", "answer", "answer_norm",
                  "is_correct", "prompt_tokens", "completion_tokens", "latency_ms", "error", "finish_reason")
OUTCOME_FIELDS = ("final_answer", "is_correct", "consensus", "answer_changes", "prompt_tokens",
                  "completion_tokens", "engine_calls", "wall_ms")
# One record per message: where it belongs, the message, and (repeated on each of a problem's messages)
# its problem, its problem's outcome and its run, so any subset of lines still imports on its own.
TRANSCRIPT_FIELDS = {
    "schema": SCHEMA, "run_id": "str", "problem_id": "str", **{f: "message field" for f in MESSAGE_FIELDS},
    "problem": "{dataset, split, question, reference_answer, meta, idx}",
    "outcome": "{" + ", ".join(OUTCOME_FIELDS) + "} or null",
    "run": "{kind, method, dataset, model, config, status, created_at, git_commit, versions}",
}
DU2023_ROLES = ("system", "user", "assistant")
# Rows are written every this many messages: large enough that a write costs little per row, small
# enough that a batch's rows stay a few MB.
FLUSH_MESSAGES = 5000


@dataclass
class ImportReport:
    """What an import did, record by record (a record is a line, or a question for du2023)."""

    format: str
    run_id: str
    imported: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    messages: int = 0

    def summary(self) -> str:
        return (f"{self.format} -> run {self.run_id}: {self.imported} imported, {self.duplicates} skipped as "
                f"duplicate, {len(self.rejected)} rejected ({self.messages} messages stored)")


@dataclass
class _Writer:
    """One run's rows on their way to the store, written every FLUSH_MESSAGES messages."""

    store: Store
    run: dict
    problems: dict[str, dict] = field(default_factory=dict)
    run_problems: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)
    placed: set[str] = field(default_factory=set)  # problems given a place in the run by this import
    written: int = 0

    def add(self, problem: dict, idx: int | None, messages: list[dict], outcome: dict | None) -> None:
        pid = problem["problem_id"]
        self.problems.setdefault(pid, problem)
        if pid not in self.placed:
            self.placed.add(pid)
            self.run_problems.append({"run_id": self.run["run_id"], "problem_id": pid,
                                      "idx": idx if idx is not None else self.run["next_idx"] + len(self.placed) - 1})
        self.messages += messages
        if outcome is not None:
            self.outcomes.append(outcome)
        if len(self.messages) >= FLUSH_MESSAGES:
            self.flush()

    def flush(self) -> None:
        if self.messages or self.problems:
            db.save_transcripts(self.store, self.run, list(self.problems.values()), self.run_problems,
                                self.messages, self.outcomes)
            self.written += len(self.messages)
        self.problems, self.run_problems, self.messages, self.outcomes = {}, [], [], []


def _default_run_id(fmt: str, path: Path) -> str:
    # Keyed by the file's location, so importing the same file again finds its records as duplicates.
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem)[:40]
    return f"import-{fmt}-{stem}-{digest}"


def _reference(raw, where: str) -> str:
    """The final answer of a ground-truth cell: after ``####``, inside ``\\boxed{}``, or the bare value."""
    if raw is None:
        raise FieldError(f"'{where}' (the reference answer) is missing")
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise FieldError(f"'{where}' (the reference answer) is a {type(raw).__name__}, expected text or a number")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    answer, _, _ = extract_reference(str(raw), "auto", "answer")
    if not answer:
        raise FieldError(f"'{where}' (the reference answer) is empty")
    return answer


def _problem_row(p: Problem) -> dict:
    """The problem as a store row; a ground-truth cell that is a worked solution (GSM8K's ``<<a*b=c>>``
    annotations) is kept as ``meta["solution"]``, where the outcome labeler reads intermediate results."""
    meta = dict(p.meta)
    solution = reference_solution(meta)
    if solution and "solution" not in meta:
        meta["solution"] = solution
    return {"problem_id": p.problem_id, "dataset": p.dataset, "split": p.split, "question": p.question,
            "reference_answer": p.reference_answer, "meta_json": json.dumps(meta, sort_keys=True)}


def _debate_records(run_id: str, problem: Problem, turns: list[tuple[str, int, str, str, str]]) -> list[dict]:
    """Message rows for (agent, round, role, content, model) turns, graded like a live run's; these formats
    do not say why a message ended, so its finish reason is unknown (NULL)."""
    return [
        {**message_record(run_id, problem, Turn(agent, rnd, role, []), seq, Completion(text=content, model=model)),
         "finish_reason": None}
        for seq, (agent, rnd, role, content, model) in enumerate(turns)
    ]


def _vote_outcome(run_id: str, problem: Problem, records: list[dict]) -> dict:
    solvers = [r for r in records if r["role"] == "solver"]
    last = max((r["round"] for r in solvers), default=0)
    answer, _ = majority_vote([r["answer"] for r in solvers if r["round"] == last])
    return outcome_record(run_id, problem, Decision(answer), records, 0.0)


def _add_problem(writer: _Writer, report: ImportReport, seen: set[str], problem: Problem, turns: list,
                 outcome_extra: dict | None = None) -> None:
    if problem.problem_id in seen:
        report.duplicates += 1
        return
    seen.add(problem.problem_id)
    records = _debate_records(writer.run["run_id"], problem, turns)
    outcome = _vote_outcome(writer.run["run_id"], problem, records)
    outcome.update(outcome_extra or {})
    writer.add(_problem_row(problem), None, records, outcome)
    report.imported += 1


# -- du2023 -------------------------------------------------------------------------------------------------
def _du2023_turns(contexts: object, model: str) -> list[tuple[str, int, str, str, str]]:
    """Each agent's assistant turns as (agent, round, role, content, model), in round order, reading roles."""
    if not isinstance(contexts, list) or not contexts:
        raise FieldError("agent_contexts is not a non-empty list of chats (one per agent)")
    turns = []
    for a, context in enumerate(contexts):
        agent = f"agent_{a + 1}"
        if not isinstance(context, list):
            raise FieldError(f"{agent}'s context is a {type(context).__name__}, expected a list of messages")
        asked, answers = False, 0
        for i, message in enumerate(context):
            if not isinstance(message, dict):
                raise FieldError(f"{agent} message {i} is a {type(message).__name__}, expected {{role, content}}")
            role, content = message.get("role"), message.get("content")
            if role not in DU2023_ROLES:
                raise FieldError(f"{agent} message {i} has role {role!r}; expected one of {', '.join(DU2023_ROLES)}")
            if not isinstance(content, str):
                raise FieldError(f"{agent} message {i} ({role}) has no text content")
            if role == "user":
                asked = True
            elif role == "assistant":
                if not asked:
                    raise FieldError(f"{agent} message {i} is an assistant answer before any user message")
                answers += 1
                turns.append((agent, answers, "solver", content, model))
        if not answers:
            raise FieldError(f"{agent} has no assistant message (no answer)")
    return sorted(turns, key=lambda t: (t[1], int(t[0].split("_")[1])))


def _parse_du2023(path: Path, dataset: str, model: str, report: ImportReport, writer: _Writer, seen: set[str]) -> None:
    for item in iter_json_object(path):
        if isinstance(item[1], Unreadable):
            report.rejected.append((item[0], item[1].reason))
            continue
        line, question, value = item
        try:
            if not isinstance(value, list) or len(value) != 2:
                raise FieldError("value is not [agent_contexts, answer]")
            if not question.strip():
                raise FieldError("empty question")
            reference = _reference(value[1], "answer")
            turns = _du2023_turns(value[0], model)
        except FieldError as exc:
            report.rejected.append((line, str(exc)))
            continue
        problem = Problem(problem_id(dataset, question.strip()), dataset, "imported", question.strip(),
                          reference, {"reference": str(value[1])})
        _add_problem(writer, report, seen, problem, turns)


# -- maslab -------------------------------------------------------------------------------------------------
def _split_solutions(response: str) -> list[str]:
    heads = list(SOLUTION_HEADER.finditer(response))
    if not heads:
        return [response.strip()] if response.strip() else []
    bodies = [response[h.end(): nxt.start() if nxt else len(response)].strip()
              for h, nxt in zip(heads, heads[1:] + [None])]
    return [b for b in bodies if b]


def _token_stats(row: dict) -> dict[str, dict[str, int]]:
    stats = object_field(row, "token_stats")
    counts = {}
    for name, entry in stats.items():
        if not isinstance(entry, dict):
            raise FieldError(f"'token_stats.{name}' is not {{num_llm_calls, prompt_tokens, completion_tokens}}")
        counts[name] = {k: int_field(entry, k, required=False, where=f"token_stats.{name}.") or 0
                        for k in ("num_llm_calls", "prompt_tokens", "completion_tokens")}
    return counts


def _parse_maslab(path: Path, dataset: str, model: str, report: ImportReport, writer: _Writer, seen: set[str]) -> None:
    for line_no, row in iter_json_lines(path):
        if isinstance(row, Unreadable):
            report.rejected.append((line_no, row.reason))
            continue
        try:
            question = text_field(row, "query", nonempty=True).strip()
            response = text_field(row, "response", nonempty=True)
            reference = _reference(row.get("gt"), "gt")
            stats = _token_stats(row)
        except FieldError as exc:
            report.rejected.append((line_no, str(exc)))
            continue
        solutions = _split_solutions(response)
        speaker = model or ", ".join(stats)
        extra = {
            "prompt_tokens": sum(v["prompt_tokens"] for v in stats.values()),
            "completion_tokens": sum(v["completion_tokens"] for v in stats.values()),
            "engine_calls": sum(v["num_llm_calls"] for v in stats.values()) or len(solutions),
        }
        problem = Problem(problem_id(dataset, question), dataset, "imported", question, reference,
                          {"gt": str(row.get("gt"))})
        turns = [(f"agent_{i + 1}", 1, "solver", body, speaker) for i, body in enumerate(solutions)]
        _add_problem(writer, report, seen, problem, turns, extra)


# -- our own transcripts --------------------------------------------------------------------------------------
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
    }
    if message["finish_reason"] not in (None, *FINISH_REASONS):
        raise FieldError(f"'finish_reason' is {message['finish_reason'][:20]!r}, expected one of {', '.join(FINISH_REASONS)}")
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
            "wall_ms": number_field(o, "wall_ms", where=w)}


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


def _parse_transcripts(path: Path, model: str, report: ImportReport, store: Store) -> dict[str, _Writer]:
    writers: dict[str, _Writer] = {}
    known: dict[str, set[str]] = {}
    for line_no, rec in iter_json_lines(path):
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
            pid = text_field(rec, "problem_id", nonempty=True)
            message = _transcript_message(rec, run_id, pid, model)
            run = _transcript_run(rec, run_id, model)
            problem, idx = _transcript_problem(rec, run_id, pid, run["dataset"])
            outcome = _transcript_outcome(rec, run_id, pid)
        except FieldError as exc:
            report.rejected.append((line_no, str(exc)))
            continue
        if run_id not in writers:
            run["dataset"] = run["dataset"] or problem["dataset"]
            run["next_idx"] = db.next_problem_idx(store, run_id)
            writers[run_id] = _Writer(store, run)
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


def import_file(store: Store, fmt: str, path: str | Path, run_id: str | None = None,
                dataset: str | None = None, model: str | None = None) -> ImportReport:
    """Import a transcript file of format ``fmt`` into the store and report what happened to each record.

    ``model`` names who spoke: du2023 files never say, maslab files name models in their token stats
    (``model`` wins over those), transcript records keep their own and get ``model`` where they have none.
    Raises :class:`ImportFormatError` when nothing was imported and nothing was a duplicate.
    """
    if fmt not in FORMATS:
        raise ImportFormatError(f"Unknown import format '{fmt}'. Choose one of: {', '.join(FORMATS)}.")
    path = Path(path).expanduser()
    if not path.is_file():
        raise ImportFormatError(f"No file at {path}; pass the path of a {fmt} file.")
    model = (model or "").strip()
    if fmt == "transcripts":
        report = ImportReport(fmt, "")
        writers = _parse_transcripts(path, model, report, store)
        report.run_id = ", ".join(sorted(writers))
    else:
        run_id = check_id(run_id, "run id") if run_id is not None else _default_run_id(fmt, path)
        dataset = dataset or f"import:{path.stem}"
        report = ImportReport(fmt, run_id)
        writer = _Writer(store, {
            "run_id": run_id, "kind": "import", "method": f"import:{fmt}", "dataset": dataset, "model": model or None,
            "config": {"format": fmt, "source": str(path.resolve()), "model": model or None}, "status": "imported",
            "created_at": now().isoformat(), "git_commit": None, "versions": {}, "next_idx": db.next_problem_idx(store, run_id),
        })
        seen = db.problems_with_messages(store, run_id)
        if fmt == "du2023":
            _parse_du2023(path, dataset, model, report, writer, seen)
        else:
            _parse_maslab(path, dataset, model, report, writer, seen)
        writers = {run_id: writer}
    for writer in writers.values():
        writer.flush()
        report.messages += writer.written
    if report.imported == 0 and report.duplicates == 0:
        first = "; ".join(f"line {n}: {why}" for n, why in report.rejected[:3])
        raise ImportFormatError(
            f"Nothing in {path} could be imported as {fmt} ({first or 'the file holds no record'}). "
            "Check --format and the file."
        )
    return report


def import_upload(store: Store, fmt: str, filename: str, data: bytes, dataset: str | None = None,
                  model: str | None = None) -> ImportReport:
    """Import bytes uploaded on the Run page.

    The bytes are saved under ``$AGENTARK_HOME/imports/`` first, named by their content hash as well as the
    file name, so the run's config points at a file that still exists, uploading the same bytes again finds
    its duplicates, and two different files that share a name become two runs.
    """
    from agentark.config import home

    name = Path(filename).name or "upload"
    digest = hashlib.sha256(data).hexdigest()[:12]
    folder = home() / "imports" / digest
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(data)
    return import_file(store, fmt, target, dataset=dataset or f"import:{Path(name).stem}", model=model)


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

