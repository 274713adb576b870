"""Transcripts in and out: importers for other tools' debate files, and our own lossless transcript JSONL.

Formats (``python -m agentark import --format NAME PATH``):

- ``du2023``: Du et al.'s llm_multiagent_debate JSON, ``{question: [agent_contexts, answer]}``; each agent's
  context alternates user and assistant turns, so round r's answer is message ``2r + 1``.
- ``maslab``: MASLab / AgentArk-reference JSONL, one problem per line with ``query``, ``gt``, ``response``
  (several ``===== Solution i =====`` blocks, one per agent) and ``token_stats``
  (``{model: {num_llm_calls, prompt_tokens, completion_tokens}}``).
- ``transcripts``: our own JSONL, one record per message (schema ``agentark.transcript/1``, see
  ``TRANSCRIPT_FIELDS``), which ``export_transcripts`` writes; importing an export gives back equal rows.

Design decision: an import keeps every good record and reports the others. Each record is either
imported, skipped as a duplicate (its message, or for whole-problem formats its problem, is already in
the run, in the store or earlier in the file), or rejected with its line and reason; nothing is half
imported, and nothing already stored changes.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from agentark.backends.base import Completion
from agentark.debate import Decision, Turn, message_record, outcome_record
from agentark.errors import ImportFormatError
from agentark.grading import majority_vote, normalize_answer, reference_solution
from agentark.store import Store
from agentark.store import transcripts as db
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
class _Batch:
    run: dict
    problems: dict[str, dict] = field(default_factory=dict)
    run_problems: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)


def _now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat()


def _default_run_id(fmt: str, path: Path) -> str:
    # Keyed by the file's location, so importing the same file again finds its records as duplicates.
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem)[:40]
    return f"import-{fmt}-{stem}-{digest}"


def _reference(raw) -> str | None:
    """The final answer of a ground-truth cell: after ``####``, inside ``\\boxed{}``, or the bare value."""
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    answer, _, _ = extract_reference(str(raw), "auto", "answer")
    return answer or None


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


def _line_of(text: str, needle: str, default: int) -> int:
    pos = text.find(needle)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else default


# -- du2023 -------------------------------------------------------------------------------------------------
def _parse_du2023(path: Path, run_id: str, dataset: str, report: ImportReport, batch: _Batch, seen: set[str]) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImportFormatError(f"{path} is not JSON ({exc}); du2023 files are one JSON object "
                                "{question: [agent_contexts, answer]}.") from exc
    if not isinstance(data, dict):
        raise ImportFormatError(f"{path} holds a JSON {type(data).__name__}; du2023 files are one JSON object "
                                "{question: [agent_contexts, answer]}.")
    for number, (question, value) in enumerate(data.items(), start=1):
        line = _line_of(text, json.dumps(question)[:60], number)
        reason = None
        if not isinstance(value, list) or len(value) != 2:
            reason = "value is not [agent_contexts, answer]"
        elif not isinstance(value[0], list) or not value[0] or not all(isinstance(c, list) for c in value[0]):
            reason = "agent_contexts is not a non-empty list of message lists"
        elif not question.strip():
            reason = "empty question"
        elif _reference(value[1]) is None:
            reason = "no reference answer"
        if reason is None:
            turns = []
            for agent_idx, context in enumerate(value[0]):
                for idx in range(1, len(context), 2):
                    msg = context[idx]
                    if not isinstance(msg, dict) or not isinstance(msg.get("content"), str):
                        reason = f"agent {agent_idx + 1} message {idx} has no text content"
                        break
                    turns.append((f"agent_{agent_idx + 1}", (idx - 1) // 2 + 1, "solver", msg["content"], ""))
                if reason:
                    break
                if len(context) < 2:
                    reason = f"agent {agent_idx + 1} has no answer (no message at index 1)"
                    break
        if reason:
            report.rejected.append((line, reason))
            continue
        problem = Problem(problem_id(dataset, question.strip()), dataset, "imported", question.strip(),
                          _reference(value[1]), {"reference": str(value[1])})
        _add_problem(batch, report, seen, problem, sorted(turns, key=lambda t: (t[1], int(t[0].split("_")[1]))))


def _add_problem(batch: _Batch, report: ImportReport, seen: set[str], problem: Problem, turns: list,
                 outcome_extra: dict | None = None) -> None:
    if problem.problem_id in seen:
        report.duplicates += 1
        return
    seen.add(problem.problem_id)
    records = _debate_records(batch.run["run_id"], problem, turns)
    outcome = _vote_outcome(batch.run["run_id"], problem, records)
    outcome.update(outcome_extra or {})
    batch.problems[problem.problem_id] = _problem_row(problem)
    batch.run_problems.append({"run_id": batch.run["run_id"], "problem_id": problem.problem_id,
                               "idx": batch.run["next_idx"] + len(batch.run_problems)})
    batch.messages += records
    batch.outcomes.append(outcome)
    report.imported += 1


# -- maslab -------------------------------------------------------------------------------------------------
def _split_solutions(response: str) -> list[str]:
    heads = list(SOLUTION_HEADER.finditer(response))
    if not heads:
        return [response.strip()] if response.strip() else []
    bodies = [response[h.end(): nxt.start() if nxt else len(response)].strip()
              for h, nxt in zip(heads, heads[1:] + [None])]
    return [b for b in bodies if b]


def _parse_maslab(path: Path, run_id: str, dataset: str, report: ImportReport, batch: _Batch, seen: set[str]) -> None:
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            report.rejected.append((line_no, f"not JSON ({exc.msg})"))
            continue
        if not isinstance(row, dict):
            report.rejected.append((line_no, "not a JSON object"))
            continue
        question, response = row.get("query"), row.get("response")
        reference = _reference(row.get("gt"))
        missing = [k for k, v in (("query", question), ("response", response)) if not isinstance(v, str) or not v.strip()]
        if missing:
            report.rejected.append((line_no, f"missing or empty '{missing[0]}'"))
            continue
        if reference is None:
            report.rejected.append((line_no, "missing 'gt' (the reference answer)"))
            continue
        solutions = _split_solutions(response)
        stats = row.get("token_stats") or {}
        if not isinstance(stats, dict) or not all(isinstance(v, dict) for v in stats.values()):
            report.rejected.append((line_no, "'token_stats' is not {model: {prompt_tokens, completion_tokens, ...}}"))
            continue
        model = ", ".join(stats) if stats else ""
        extra = {
            "prompt_tokens": sum(int(v.get("prompt_tokens") or 0) for v in stats.values()),
            "completion_tokens": sum(int(v.get("completion_tokens") or 0) for v in stats.values()),
            "engine_calls": sum(int(v.get("num_llm_calls") or 0) for v in stats.values()) or len(solutions),
        }
        problem = Problem(problem_id(dataset, question.strip()), dataset, "imported", question.strip(), reference,
                          {"gt": str(row.get("gt"))})
        turns = [(f"agent_{i + 1}", 1, "solver", body, model) for i, body in enumerate(solutions)]
        _add_problem(batch, report, seen, problem, turns, extra)


# -- our own transcripts --------------------------------------------------------------------------------------
def _require(record: dict, key: str, kind: type | tuple) -> object:
    value = record.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ValueError(f"'{key}' is missing or not {getattr(kind, '__name__', kind)}")
    return value


def _parse_transcripts(path: Path, report: ImportReport, store: Store, run_ids: set[str]) -> dict[str, _Batch]:
    batches: dict[str, _Batch] = {}
    known: dict[str, set[str]] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("not a JSON object")
            if rec.get("schema") != SCHEMA:
                raise ValueError(f"'schema' is {rec.get('schema')!r}, expected {SCHEMA!r}")
            run_id = str(_require(rec, "run_id", str))
            problem_id = str(_require(rec, "problem_id", str))
            _require(rec, "agent", str), _require(rec, "round", int), _require(rec, "role", str)
            _require(rec, "seq", int), _require(rec, "content", str)
            problem = _require(rec, "problem", dict)
            _require(problem, "question", str), _require(problem, "reference_answer", str)
            run = rec.get("run") or {}
            if not isinstance(run, dict):
                raise ValueError("'run' is not an object")
            message = {k: rec.get(k) for k in MESSAGE_FIELDS}
            message.update(run_id=run_id, problem_id=problem_id)
            message["message_id"] = message["message_id"] or f"{run_id}:{problem_id}:{rec['seq']:04d}"
            if message["answer_norm"] is None and message["answer"] is not None:
                message["answer_norm"] = normalize_answer(message["answer"])
            for k in ("prompt_tokens", "completion_tokens"):
                message[k] = int(message[k] or 0)
            message["latency_ms"] = float(message["latency_ms"] or 0.0)
        except (ValueError, TypeError) as exc:
            report.rejected.append((line_no, str(exc)))
            continue
        if run_id not in batches:
            created = run.get("created_at") or _now()
            batches[run_id] = _Batch(run={
                "run_id": run_id, "kind": run.get("kind") or "import", "method": run.get("method"),
                "dataset": run.get("dataset") or problem.get("dataset"), "model": run.get("model"),
                "config": run.get("config") or {}, "status": run.get("status") or "imported", "created_at": created,
                "git_commit": run.get("git_commit"), "versions": run.get("versions") or {},
                "next_idx": db.next_problem_idx(store, run_id),
            })
            known[run_id] = db.known_message_ids(store, run_id)
        batch = batches[run_id]
        if message["message_id"] in known[run_id]:
            report.duplicates += 1
            continue
        known[run_id].add(message["message_id"])
        if problem_id not in batch.problems:
            batch.problems[problem_id] = {
                "problem_id": problem_id, "dataset": problem.get("dataset") or batch.run["dataset"] or "import",
                "split": problem.get("split"), "question": problem["question"],
                "reference_answer": problem["reference_answer"],
                "meta_json": json.dumps(problem.get("meta") or {}, sort_keys=True),
            }
            idx = problem.get("idx")
            batch.run_problems.append({"run_id": run_id, "problem_id": problem_id,
                                       "idx": idx if isinstance(idx, int) else batch.run["next_idx"] + len(batch.run_problems)})
            outcome = rec.get("outcome")
            if isinstance(outcome, dict):
                batch.outcomes.append({"run_id": run_id, "problem_id": problem_id,
                                       **{k: outcome.get(k) for k in OUTCOME_FIELDS}})
        batch.messages.append(message)
        report.imported += 1
    run_ids.update(batches)
    return batches


def import_file(store: Store, fmt: str, path: str | Path, run_id: str | None = None,
                dataset: str | None = None) -> ImportReport:
    """Import a transcript file of format ``fmt`` into the store and report what happened to each record."""
    if fmt not in FORMATS:
        raise ImportFormatError(f"Unknown import format '{fmt}'. Choose one of: {', '.join(FORMATS)}.")
    path = Path(path).expanduser()
    if not path.is_file():
        raise ImportFormatError(f"No file at {path}; pass the path of a {fmt} file.")
    if fmt == "transcripts":
        run_ids: set[str] = set()
        report = ImportReport(fmt, "")
        batches = _parse_transcripts(path, report, store, run_ids)
        report.run_id = ", ".join(sorted(run_ids))
    else:
        run_id = run_id or _default_run_id(fmt, path)
        dataset = dataset or f"import:{path.stem}"
        report = ImportReport(fmt, run_id)
        batch = _Batch(run={
            "run_id": run_id, "kind": "import", "method": f"import:{fmt}", "dataset": dataset, "model": None,
            "config": {"format": fmt, "source": str(path.resolve())}, "status": "imported", "created_at": _now(),
            "git_commit": None, "versions": {}, "next_idx": db.next_problem_idx(store, run_id),
        })
        seen = db.problems_with_messages(store, run_id)
        parse = _parse_du2023 if fmt == "du2023" else _parse_maslab
        parse(path, run_id, dataset, report, batch, seen)
        models = sorted({m["model"] for m in batch.messages if m["model"]})
        batch.run["model"] = ", ".join(models) or None
        batches = {run_id: batch}
    for batch in batches.values():
        if batch.messages or batch.problems:
            db.save_transcripts(store, batch.run, list(batch.problems.values()), batch.run_problems,
                                batch.messages, batch.outcomes)
        report.messages += len(batch.messages)
    if report.imported == 0 and report.duplicates == 0 and report.rejected:
        first = "; ".join(f"line {n}: {why}" for n, why in report.rejected[:3])
        raise ImportFormatError(f"No record of {path} could be imported as {fmt} ({first}). Check --format.")
    return report


def import_upload(store: Store, fmt: str, filename: str, data: bytes, dataset: str | None = None) -> ImportReport:
    """Import bytes uploaded on the Run page: saved under ``$AGENTARK_HOME/imports/`` first, so the run's
    config points at a file that still exists and a second upload of the same name finds its duplicates."""
    from agentark.config import home

    folder = home() / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(filename).name
    target.write_bytes(data)
    return import_file(store, fmt, target, dataset=dataset)


def _clean(value):
    """JSON-ready scalars: pandas NaN/NA become null, numpy numbers become Python numbers."""
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def transcript_records(store: Store, run_id: str) -> list[dict]:
    """A run's messages as transcript records (schema ``agentark.transcript/1``), one per message."""
    run = store.get_run(run_id)
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

