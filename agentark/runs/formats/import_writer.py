"""What every transcript format's reader fills: the import report, and the writer that batches a run's rows.

Also here, the pieces the whole-problem formats (du2023, maslab) share: the run a file becomes, reference
answers read from a ground-truth cell, and a problem's turns graded into message and outcome rows as a live
debate's would be. Design decision: rows reach the store every ``FLUSH_MESSAGES`` messages, in one
transaction per batch, so an import of any size holds a bounded number of rows in memory.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from agentark.backends.base import Completion
from agentark.clock import now
from agentark.debate import Turn, decide, message_record, outcome_record
from agentark.grading import choice_letter, choice_options, gradable
from agentark.errors import ImportFormatError
from agentark.ids import check_id
from agentark.runs.import_io import FieldError
from agentark.store import Store
from agentark.store import run_tables
from agentark.store import transcript_tables as db
from agentark.store.run_tables import importing_status
from agentark.store.import_tables import imports_of, record_import
from agentark.tasks import Problem, extract_reference
from agentark.tasks.answers import reference_solution

# Rows are written every this many messages: large enough that a write costs little per row, small
# enough that a batch's rows stay a few MB.
FLUSH_MESSAGES = 5000
# A turn of a whole-problem format: (agent, round, role, content, model).
Turns = list[tuple[str, int, str, str, str]]


@dataclass(frozen=True)
class ImportRequest:
    """What to import: the file, its format, and the run, problem set and model the caller named (or not)."""

    store: Store
    fmt: str
    path: Path
    run_id: str | None
    dataset: str | None
    model: str  # "" when the caller named none


@dataclass
class ImportReport:
    """What an import did, record by record (a record is a line, or a question for du2023)."""

    format: str
    run_id: str
    imported: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    messages: int = 0
    # Records imported whose reference answer the grader cannot judge (or judge only in part), with why.
    warnings: list[tuple[int, str]] = field(default_factory=list)
    # Runs whose file was graded by an older rule (no answer kinds): re-graded once imported.
    regrade: set[str] = field(default_factory=set)
    # Problems imported whose debate is cut short (agents with rounds missing), with why: the vote counts fewer.
    cut_short: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        warned = f", {len(self.warnings)} with a reference the grader cannot judge" if self.warnings else ""
        short = f", {len(self.cut_short)} cut short (rounds missing)" if self.cut_short else ""
        dup = " (already in the run)" if self.duplicates else ""
        regraded = (f"; re-graded {', '.join(sorted(self.regrade))} by the current rule (the file records no "
                    "answer kinds)") if self.regrade else ""
        return (f"{self.format} -> run {self.run_id}: {self.imported} imported, {self.duplicates} skipped as "
                f"duplicate{dup}, {len(self.rejected)} rejected{warned}{short} ({self.messages} messages stored)"
                f"{regraded}")

    def rejection_lines(self) -> list[str]:
        """Each rejection as one line: where (the problem, when the format names one, or the line) and why."""
        return [_located(line, reason) for line, reason in self.rejected]

    def warning_lines(self) -> list[str]:
        """Each warning (a reference the grader cannot judge, a debate cut short) as one line, located."""
        return [_located(line, reason) for line, reason in [*self.warnings, *self.cut_short]]


_PLACED = re.compile(r"problem \d+ .*?\(line \d+\): ")


def _located(line: int, reason: str) -> str:
    # du2023 reasons name their problem with its place and line already (a whole file is often one line).
    return reason if _PLACED.match(reason) else f"line {line}: {reason}"


@dataclass
class RunWriter:
    """One run's rows on their way to the store, written every FLUSH_MESSAGES messages."""

    store: Store
    run: dict
    seen: set[str] = field(default_factory=set)  # problems with messages in the run (stored, or from this file)
    problems: dict[str, dict] = field(default_factory=dict)
    run_problems: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)
    placed: set[str] = field(default_factory=set)  # problems given a place in the run by this import
    written: int = 0
    started: bool = False  # this import has written rows and marked the run as being imported

    def add(self, problem: dict, idx: int | None, messages: list[dict], outcome: dict | None) -> None:
        pid = problem["problem_id"]
        self.problems.setdefault(pid, problem)
        if pid not in self.placed:
            self.placed.add(pid)
            self.run_problems.append({"run_id": self.run["run_id"], "problem_id": pid,
                                      "idx": idx if idx is not None else self.run["next_idx"] + len(self.placed) - 1,
                                      "dataset": problem.get("dataset"), "split": problem.get("split")})
        self.messages += messages
        if outcome is not None:
            self.outcomes.append(outcome)
        if len(self.messages) >= FLUSH_MESSAGES:
            self.flush()

    def flush(self) -> None:
        if self.messages or self.problems:
            # Until ``finish``, the run says it is being imported (by this process), so an import killed half-way
            # shows as interrupted, with the problems it got, not as a finished import.
            marked = {**self.run, "status": importing_status()}
            db.save_transcripts(self.store, marked, list(self.problems.values()), self.run_problems,
                                self.messages, self.outcomes)
            if not self.started:
                run_tables.set_run_status(self.store, self.run["run_id"], marked["status"])
                self.started = True
            self.written += len(self.messages)
        self.problems, self.run_problems, self.messages, self.outcomes = {}, [], [], []

    def finish(self) -> None:
        """The import is complete: the run takes its own status (``imported``, or the one its file gave), also when
        this import only completed one that was interrupted."""
        if self.started or run_tables.run_status(self.store, self.run["run_id"]) == run_tables.INTERRUPTED:
            run_tables.set_run_status(self.store, self.run["run_id"], self.run.get("status") or "imported")


def free_name(store: Store, name: str | None) -> str | None:
    """The cleaned name an imported run is to get; one another run has already is refused before any import."""
    from agentark.runs.names import clean_name
    from agentark.store import name_tables

    cleaned = clean_name(name)
    taken = name_tables.resolve(store, cleaned) if cleaned is not None else None
    if taken is not None:
        raise ImportFormatError(f"The name '{cleaned}' is already used by run {taken}: choose another [[name]].")
    return cleaned


def refuse_seen(store: Store, path: Path, sha256: str, model: str) -> None:
    """Refuse bytes imported before, saying when, as which runs, with which model, and how to import them again."""
    seen = imports_of(store, sha256)
    if seen.empty:
        return
    first = seen.iloc[0]
    runs = ", ".join(first["run_ids"]) if first["run_ids"] is not None else "?"
    other_model = (f" You named model {model}; its messages keep {first['model'] or 'no model'}."
                   if model and model != (first["model"] or "") else "")
    when = f"imported {str(first['imported_at'])[:19]} as run {runs}"
    what = (f"{path} was {when}" if str(first["path"]) == str(path.resolve())
            else f"{path} has the same bytes (sha256 {sha256[:12]}) as {first['path']}, {when}")
    raise ImportFormatError(
        f"{what} (model {first['model'] or 'none named'}, {first['imported']} problems or records).{other_model} "
        "Nothing was imported: the same debates in two runs count twice in exports over all runs. To import them "
        "again anyway, set [[again]] (with [[run_id]] NEW_RUN_ID and [[model]] for another model's run).")


def record_file(store: Store, sha256: str, path: Path, report: ImportReport, run_ids: list[str],
                model: str | None) -> None:
    """Enter an import in the ledger of imported files, so the same bytes are recognised next time."""
    record_import(store, sha256, str(path.resolve()), report.format, run_ids, model, report.imported,
                  report.duplicates)


def _default_run_id(fmt: str, path: Path) -> str:
    # Keyed by the file's location, so importing the same file again finds its records as duplicates.
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem)[:40]
    return f"import-{fmt}-{stem}-{digest}"


def single_run(request: ImportRequest) -> RunWriter:
    """The run a whole-problem file becomes: ``run_id`` or one derived from the file's location, with the
    problems it already holds known, so they are skipped as duplicates."""
    store, fmt, path, model = request.store, request.fmt, request.path, request.model
    run_id = check_id(request.run_id, "run id") if request.run_id is not None else _default_run_id(fmt, path)
    check_same_model(store, run_id, model)
    writer = RunWriter(store, {
        "run_id": run_id, "kind": "import", "method": f"import:{fmt}",
        "dataset": request.dataset or f"import:{path.stem}", "model": model or None,
        "config": {"format": fmt, "source": str(path.resolve()), "model": model or None},
        "status": "imported", "created_at": now().isoformat(), "git_commit": None, "versions": {},
        "next_idx": db.next_problem_idx(store, run_id),
    })
    writer.seen = db.problems_with_messages(store, run_id)
    return writer


def check_same_model(store: Store, run_id: str, model: str) -> None:
    """Refuse to add a named model's messages to a stored run of another model: its problems would be skipped as
    duplicates or mixed in, and the run would still say the old model."""
    stored = db.run_model(store, run_id)
    if stored is None or not model or stored[0] == model:
        return
    raise ImportFormatError(
        f"Run {run_id} was imported with model {stored[0] or '(none named)'}; this import names {model}. Nothing was "
        "imported: the run's problems would be skipped as duplicates and it would still say "
        f"{stored[0] or 'no model'}. Import into another run with [[run_id]] NEW_RUN_ID (and [[again]] when the "
        "file's bytes were imported before).")


def reference_answer(raw: object, where: str) -> str:
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


def _debate_records(run_id: str, problem: Problem, turns: Turns) -> list[dict]:
    """Message rows for (agent, round, role, content, model) turns, graded like a live run's; these formats
    do not say why a message ended, so its finish reason is unknown (NULL) and an answer found only as the
    last number is marked ``implicit``."""
    records = [
        message_record(run_id, problem, Turn(agent, rnd, role, []), seq, Completion(text=content, model=model),
                       finish_reason=None)
        for seq, (agent, rnd, role, content, model) in enumerate(turns)
    ]
    # Nor do they record tokens or time: unknown (NULL, shown "—"), never 0.
    for record in records:
        record.update(prompt_tokens=None, completion_tokens=None, latency_ms=None)
    return records


def reference_warning(problem: Problem) -> str | None:
    """Why the grader cannot (fully) judge answers to this problem's reference, or None when it can."""
    reference = problem.reference_answer
    if choice_letter(reference):
        if not choice_options(problem.question):
            return (f"reference {reference!r} is a choice but the question lists no options (A) ..., B) ...): "
                    "only answers that name a letter are graded, not the option's text")
        return None
    if not gradable(reference):
        return (f"reference {reference[:40]!r} cannot be graded: it is not a number, a math expression or a "
                "choice letter, so only that exact text counts as right")
    return None


def add_problem(writer: RunWriter, report: ImportReport, problem: Problem, turns: Turns,
                outcome_extra: dict | None = None, line: int = 0) -> None:
    """Add a problem with its turns (graded, and decided by the last round's vote), or count it as a duplicate;
    a reference the grader cannot judge is warned with the record's ``line``."""
    if problem.problem_id in writer.seen:
        report.duplicates += 1
        return
    writer.seen.add(problem.problem_id)
    records = _debate_records(writer.run["run_id"], problem, turns)
    outcome = outcome_record(writer.run["run_id"], problem, decide(records), records, None)
    outcome.update(outcome_extra or {})
    writer.add(_problem_row(problem), None, records, outcome)
    report.imported += 1
    warning = reference_warning(problem)
    if warning:
        short = problem.question if len(problem.question) <= 60 else problem.question[:57] + "..."
        report.warnings.append((line, f"problem {problem.problem_id} ({short!r}): {warning}"))
