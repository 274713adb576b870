"""Import labeled step data: PRM800K JSONL (ratings -1/0/1 per step) and Math-Shepherd (``ки`` tags, ``+``/``-``).

A format is a record in a registry (``register_step_format``: its name, its parser from one JSON line to a
``ParsedSolution``, a description and its labels' rank in the PRM export's default precedence), so the Label
page's import form and ``import-steps`` list whatever is registered; ``StepImportConfig`` is what an import
takes, its flags and widgets generated from its fields.

An imported file becomes a run of kind ``import`` whose messages (role ``solution``) are the solutions,
already split into their labeled steps, with labels of source ``import:prm800k`` or
``import:math-shepherd``; so they show up in the labeling queue, can be relabeled by people, and mix
with the studio's own labels in a PRM export. Design decision: the run id is a hash of the file's
bytes and every other id derives from it, so importing the same file twice adds nothing; the file is
streamed (hashed in one pass, then read line by line and written in batches), so its size costs time
linearly and memory not at all. Every line is either imported or rejected with its line and reason.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agentark.clock import now
from agentark.errors import ImportFormatError
from agentark.grading import answer_choices, is_correct, normalize_answer, read_answer
from agentark.ids import file_sha256, question_id
from agentark.runs.import_io import FieldError, Unreadable, iter_json_lines, list_field, object_field, text_field
from agentark.labels.segment import Step, step_ids
from agentark.options import ConfigBase
from agentark.store import Store
from agentark.store import label_tables as q

STEP_TAG = "ки"
FLUSH_MESSAGES = 2000


@dataclass
class ParsedSolution:
    question: str
    reference_answer: str
    steps: list[str]
    ratings: list[int | None]
    annotator: str
    flags: list[bool]
    solution: str = ""


def _reference(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FieldError("'question.ground_truth_answer' is not text or a number")
    return str(value)


def _pick(step: object, n: int) -> tuple[dict, bool]:
    """(the completion kept for step ``n``, whether a completion was chosen there so the solution goes on)."""
    if not isinstance(step, dict):
        raise FieldError(f"'label.steps[{n}]' is a {type(step).__name__}, expected an object")
    completions = step.get("completions") or []
    if not isinstance(completions, list) or not all(isinstance(c, dict) for c in completions):
        raise FieldError(f"'label.steps[{n}].completions' is not a list of objects")
    chosen = step.get("chosen_completion")
    if chosen is not None and (isinstance(chosen, bool) or not isinstance(chosen, int)):
        raise FieldError(f"'label.steps[{n}].chosen_completion' is not a whole number")
    goes_on = chosen is not None
    if goes_on and 0 <= chosen < len(completions):
        return completions[chosen], goes_on
    human = step.get("human_completion")
    if human:
        if isinstance(human, dict):
            return human, goes_on
        if isinstance(human, str):
            return {"text": human, "rating": None}, goes_on
        raise FieldError(f"'label.steps[{n}].human_completion' is not text or an object")
    if completions:
        # No completion chosen: the labeler stopped here; keep the one rated wrong if there is one.
        return next((c for c in completions if c.get("rating") == -1), completions[0]), goes_on
    return {}, goes_on


def parse_prm800k(record: dict) -> ParsedSolution:
    """One PRM800K line: the chosen completion of each step (or the one rated where the labeler stopped)."""
    question_block = object_field(record, "question", required=True)
    question = text_field(question_block, "problem", nonempty=True, where="question.")
    reference = _reference(question_block.get("ground_truth_answer"))
    raw_steps = list_field(object_field(record, "label", required=True), "steps", where="label.")
    texts, ratings, flags = [], [], []
    for n, step in enumerate(raw_steps):
        pick, goes_on = _pick(step, n)
        if not pick:
            continue
        text = pick.get("text")
        if text is not None and not isinstance(text, str):
            raise FieldError(f"'label.steps[{n}]' completion text is not text")
        rating = pick.get("rating")
        texts.append((text or "").strip())
        ratings.append(int(rating) if rating in (-1, 0, 1) and not isinstance(rating, bool) else None)
        flags.append(pick.get("flagged") is True)
        if not goes_on:
            break
    if not texts:
        raise FieldError("'label.steps' has no completion")
    labeler = record.get("labeler")
    solution = question_block.get("ground_truth_solution")
    return ParsedSolution(question, reference, texts, ratings, labeler if isinstance(labeler, str) and labeler else
                          "prm800k", flags, solution if isinstance(solution, str) else "")


def parse_math_shepherd(record: dict) -> ParsedSolution:
    """One Math-Shepherd line: ``input`` has a ``ки`` after each step, ``label`` the same text with + or -."""
    text = text_field(record, "input", nonempty=True)
    labeled = text_field(record, "label", nonempty=True)
    pieces = text.split(STEP_TAG)
    if len(pieces) < 2:
        raise FieldError(f"'input' has no {STEP_TAG} step tag")
    ratings, pos = [], 0
    for piece in pieces[:-1]:
        pos += len(piece)
        mark = labeled[pos : pos + 1]
        if mark not in ("+", "-"):
            raise FieldError(f"'label' has {mark!r} where a step tag is; expected + or -")
        ratings.append(1 if mark == "+" else -1)
        pos += 1
    first = pieces[0]
    cut = first.find("Step 1:")
    question = first[:cut].strip() if cut > 0 else ""
    steps = [first[cut:].strip() if cut > 0 else first.strip()] + [p.strip() for p in pieces[1:-1]]
    if not question:
        raise FieldError("cannot find where the question ends ('Step 1:' is missing)")
    return ParsedSolution(question, "", steps, ratings, "math-shepherd", [False] * len(steps))


@dataclass(frozen=True)
class StepFormat:
    """One labeled-step format: ``parse`` turns one JSON line into a ``ParsedSolution`` (raising ``FieldError``
    for a line it cannot use); its labels get source ``import:NAME`` and rank ``precedence`` in the PRM export's
    default precedence (None: not listed)."""

    name: str
    parse: Callable[[dict], ParsedSolution]
    description: str
    precedence: int | None = None

    @property
    def source(self) -> str:
        return f"import:{self.name}"


_FORMATS: dict[str, StepFormat] = {}


def register_step_format(fmt: StepFormat) -> StepFormat:
    """Make a format known to ``import-steps`` and the Label page's import form."""
    _FORMATS[fmt.name] = fmt
    return fmt


def step_formats() -> list[StepFormat]:
    """Every registered format, in registration order."""
    return list(_FORMATS.values())


def format_names() -> tuple[str, ...]:
    return tuple(_FORMATS)


register_step_format(StepFormat("prm800k", parse_prm800k, "PRM800K JSONL: people's ratings -1/0/1 per step",
                                precedence=1))
register_step_format(StepFormat("math-shepherd", parse_math_shepherd, "Math-Shepherd: a ки tag after each step, "
                                "the label text with + or - in its place", precedence=2))


@dataclass
class StepImportConfig(ConfigBase):
    """A labeled step file to import as a run: its format, where it is, and the model that wrote the solutions."""

    format: str = field(default="prm800k", metadata={
        "help": "the file's format", "choices": format_names, "positional": True})
    path: str = field(default="", metadata={"help": "the JSONL file on this machine", "positional": True,
                                            "widget": "server_path"})
    model: str | None = field(default=None, metadata={
        "help": "the model that wrote the solutions, recorded on the run and its messages"})

    def __post_init__(self) -> None:
        if self.format not in _FORMATS:
            raise ImportFormatError(f"Unknown step format '{self.format}' in [[format]]; choose one of: "
                                    f"{', '.join(_FORMATS)}.")
        self.path = str(self.path).strip()
        if not self.path:
            raise ImportFormatError(f"[[path]] is empty; give the path of a {self.format} .jsonl file.")
        self.model = (self.model or "").strip() or None


@dataclass
class _Rows:
    """One batch of an import's rows, on its way to ``labels.insert_imported``."""

    problems: dict[str, dict] = field(default_factory=dict)
    run_problems: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)


def _solution_rows(rows: _Rows, run_id: str, n: int, sol: ParsedSolution, fmt: str, model: str | None,
                   placed: dict[str, int]) -> None:
    dataset, source = f"import:{fmt}", f"import:{fmt}"
    pid = question_id(sol.question)  # the same question from any source is the same problem
    if pid not in placed:
        placed[pid] = len(placed)
        rows.problems[pid] = {"problem_id": pid, "dataset": dataset, "split": "import", "question": sol.question,
                              "reference_answer": sol.reference_answer,
                              "meta_json": json.dumps({"solution": sol.solution} if sol.solution else {})}
        rows.run_problems.append({"run_id": run_id, "problem_id": pid, "idx": placed[pid], "dataset": dataset,
                                  "split": "import"})
    content, spans = "", []
    for text in sol.steps:
        if content:
            content += "\n"
        spans.append(Step(len(spans), text, len(content), len(content) + len(text)))
        content += text
    message_id = f"{run_id}:{n:06d}"
    # These files do not say whether a solution was cut off: the implicit rule, marked as such.
    reading = read_answer(content, None, answer_choices(sol.reference_answer, sol.question))
    answer = reading.answer
    rows.messages.append({"message_id": message_id, "run_id": run_id, "problem_id": pid, "agent": sol.annotator,
                          "round": 1, "role": "solution", "seq": 0, "model": model, "content": content,
                          "answer": answer, "answer_norm": normalize_answer(answer), "answer_kind": reading.kind,
                          "is_correct": is_correct(answer, sol.reference_answer) if sol.reference_answer else None})
    created = now()
    for sid, s, rating, flag in zip(step_ids(message_id, spans), spans, sol.ratings, sol.flags):
        rows.steps.append({"step_id": sid, "message_id": message_id, "idx": s.idx, "text": s.text,
                           "char_start": s.char_start, "char_end": s.char_end, "segmenter": fmt, "created_at": created})
        if rating is not None:
            rows.labels.append({"label_id": f"{run_id}:{sid}", "step_id": sid, "value": float(rating),
                                "source": source, "annotator": sol.annotator, "confidence": 1.0, "flag": flag,
                                "created_at": created})


def import_steps(store: Store, path: Path | str, fmt: str, model: str | None = None) -> dict:
    """:func:`import_step_file` with the config's fields as arguments."""
    return import_step_file(store, StepImportConfig(fmt, str(path), model))


def import_step_file(store: Store, cfg: StepImportConfig) -> dict:
    """Import a labeled step file into the store as a run; return the run id, counts and rejected lines.

    ``cfg.model`` names the model that wrote the solutions (PRM800K: a GPT-4 generator; Math-Shepherd: the
    one its authors sampled), recorded on every message and on the run. Raises
    :class:`ImportFormatError` when no line could be imported.
    """
    fmt, model = cfg.format, cfg.model
    path = Path(cfg.path).expanduser().resolve()
    if not path.is_file():
        raise ImportFormatError(f"{path} does not exist; give [[path]] the path of a {fmt} .jsonl file.")
    run_id = f"import-{fmt}-{file_sha256(path)[:12]}"
    meta = {"run_id": run_id, "kind": "import", "method": fmt, "dataset": f"file:{path}", "model": model,
            "config": {"format": fmt, "path": str(path), "model": model}, "status": "done",
            "created_at": now().isoformat()}
    parse = _FORMATS[fmt].parse
    rejected: list[tuple[int, str]] = []
    placed: dict[str, int] = {}
    counts = {"solutions": 0, "steps": 0, "labels": 0}
    rows = _Rows()

    def flush() -> None:
        nonlocal rows
        if rows.messages:
            q.insert_imported(store, meta, pd.DataFrame(list(rows.problems.values())), pd.DataFrame(rows.run_problems),
                              pd.DataFrame(rows.messages), pd.DataFrame(rows.steps), pd.DataFrame(rows.labels))
            counts["steps"] += len(rows.steps)
            counts["labels"] += len(rows.labels)
        rows = _Rows()

    for line_no, record in iter_json_lines(path):
        if isinstance(record, Unreadable):
            rejected.append((line_no, record.reason))
            continue
        try:
            solution = parse(record)
        except FieldError as exc:
            rejected.append((line_no, str(exc)))
            continue
        _solution_rows(rows, run_id, counts["solutions"], solution, fmt, model, placed)
        counts["solutions"] += 1
        if len(rows.messages) >= FLUSH_MESSAGES:
            flush()
    flush()
    if not counts["solutions"]:
        first = "; ".join(f"line {n}: {why}" for n, why in rejected[:3]) or "the file holds no record"
        raise ImportFormatError(f"{path} has no usable {fmt} line ({first}); check the format you chose.")
    return {"run_id": run_id, **counts, "rejected": rejected}
