"""Loading a dataset spec: the built-in generator, local files and Hugging Face datasets.

``load_problems(spec)`` turns a dataset spec (``builtin:arithmetic``, ``gsm8k``, ``hf:NAME[:CONFIG]`` or a
path to a ``.jsonl``/``.json``/``.parquet``/``.csv`` file) into :class:`Problem` records, and reports the rows
it could not use instead of failing on them. Every failure a user can fix raises
:class:`~agentark.errors.DatasetError` with a message that says how.

Design decision: files and Hugging Face datasets go through one rows-to-problems path (``_build``), so
column detection, id rules and per-row rejections are the same whatever the source.
"""
from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from agentark.errors import DatasetError
from agentark.grading import gradable
from agentark.tasks.answers import extract_reference
from agentark.tasks.arithmetic import load_builtin
from agentark.tasks.problems import (
    ColumnMap,
    LoadReport,
    Problem,
    dataset_choices,
    problem_id,
    unknown_dataset_message,
)

__all__ = ["FILE_SUFFIXES", "load_problems"]

FILE_SUFFIXES = (".jsonl", ".json", ".parquet", ".csv")
# spec -> (Hugging Face path, config, forced split or None)
_HF_ALIASES: dict[str, tuple[str, str | None, str | None]] = {
    "gsm8k": ("openai/gsm8k", "main", None),
    "math": ("hendrycks/competition_math", None, None),
    "metamathqa": ("meta-math/MetaMathQA", None, "train"),  # MetaMathQA publishes only a train split
}
_MAX_REJECTIONS_SHOWN = 5


def load_problems(
    spec: str,
    limit: int | None = None,
    split: str = "test",
    seed: int = 0,
    columns: ColumnMap | None = None,
) -> LoadReport:
    """Load the problems named by ``spec``; with ``limit``, the first ``limit`` usable ones in source order.

    ``seed`` only affects the built-in generator. ``columns`` overrides column detection for files and
    Hugging Face datasets.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise DatasetError(
            f"limit must be a whole number of problems, 1 or more (got {limit!r}); leave it empty for all."
        )
    text = (spec or "").strip()
    if not text:
        raise DatasetError(unknown_dataset_message(spec))
    key = text.lower()
    if not isinstance(split, str) or not split.strip():
        raise DatasetError("split must name a split such as 'test' or 'train'.")
    split = split.strip()

    if key.startswith("builtin:"):
        return load_builtin(key, limit, split, seed)
    if key.startswith("file:") or key.endswith(FILE_SUFFIXES) or Path(text).expanduser().is_file():
        path = Path(text[5:] if key.startswith("file:") else text).expanduser().resolve()
        return _load_file(path, f"file:{path}", split, limit, columns)
    if key in _HF_ALIASES or key.startswith("hf:"):
        if key == "gsm8k":
            local = _local_gsm8k(split)
            if local is not None:
                report = _load_file(local, "gsm8k", split, limit, columns)
                report.source = f"{local} (local GSM8K copy)"
                return report
        return _load_hf(text, key, split, limit, columns)
    if Path(text).expanduser().is_dir():
        raise DatasetError(
            f"'{text}' is a folder. Pass one data file inside it (.jsonl, .json, .parquet or .csv) instead."
        )
    raise DatasetError(unknown_dataset_message(text))


# --------------------------------------------------------------------------------------------------------
# Rows -> problems (shared by files and Hugging Face datasets)
# --------------------------------------------------------------------------------------------------------

# (question column, answer column, how to read the answer), tried in order when no ColumnMap is given.
# query/gt comes before query/response: a "gt" column is the ground truth, a response may be a model's.
_LAYOUTS: tuple[tuple[str, str, str], ...] = (
    ("question", "answer", "auto"),  # GSM8K: "... #### 72" or a bare answer
    ("problem", "solution", "boxed"),  # MATH
    ("query", "gt", "auto"),
    ("query", "response", "answer_is"),  # MetaMathQA
)


def _pick_layout(found: list[str], columns: ColumnMap | None, where: str) -> tuple[str, str, str, str | None]:
    listed = ", ".join(repr(c) for c in found) or "none"
    if columns is not None and columns != ColumnMap():
        missing = [c for c in (columns.question, columns.answer, columns.id) if c is not None and c not in found]
        if missing:
            raise DatasetError(
                f"{where} has no column {', '.join(repr(c) for c in missing)}. Columns found: {listed}. "
                "Pass column names that exist (--question-col/--answer-col/--id-col on the CLI)."
            )
        id_col = columns.id if columns.id is not None else ("id" if "id" in found else None)
        return columns.question, columns.answer, "auto", id_col
    for question, answer, mode in _LAYOUTS:
        if question in found and answer in found:
            return question, answer, mode, "id" if "id" in found else None
    raise DatasetError(
        f"{where} has none of the known column layouts (question/answer, problem/solution, query/response, "
        f"query/gt). Columns found: {listed}. Pass a column mapping naming the question and answer columns "
        "(--question-col/--answer-col on the CLI)."
    )


def _cell(value: Any) -> str | None:
    """A cell as text; None when missing. Whole floats print as integers because numeric CSV/Parquet
    answer columns come back as 72.0 for an answer of 72."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _build(
    rows: Iterable[tuple[int, Any]],
    found: list[str],
    dataset: str,
    split: str,
    limit: int | None,
    columns: ColumnMap | None,
    where: str,
    rejected: list[tuple[int, str]],
    unit: str,
    warnings: list[tuple[int, str]],
) -> list[Problem]:
    """Turn numbered rows into problems, appending unusable rows to ``rejected`` and rows whose reference
    answer cannot be graded to ``warnings``; stops at ``limit``."""
    q_col, a_col, mode, id_col = _pick_layout(found, columns, where)
    problems: list[Problem] = []
    first_seen: dict[object, int] = {}  # problem id, or ("id", source id), -> where first seen
    last_examined = 0
    for number, row in rows:
        last_examined = number
        if not isinstance(row, dict):
            rejected.append((number, "not an object with named fields"))
            continue
        question = _cell(row.get(q_col))
        if question is None:
            rejected.append((number, f"missing '{q_col}'"))
            continue
        question = question.strip()
        if not question:
            rejected.append((number, f"empty '{q_col}'"))
            continue
        raw_answer = _cell(row.get(a_col))
        if raw_answer is None:
            rejected.append((number, f"missing '{a_col}'"))
            continue
        answer, is_solution, why = extract_reference(raw_answer, mode, a_col)
        if not answer:
            rejected.append((number, why))
            continue
        source_id = None
        if id_col is not None:
            source_id = (_cell(row.get(id_col)) or "").strip()
            if not source_id:
                rejected.append((number, f"missing '{id_col}'"))
                continue
            if ("id", source_id) in first_seen:
                rejected.append((number, f"duplicate id '{source_id}' (first on {unit} {first_seen[('id', source_id)]})"))
                continue
        pid = problem_id(question)
        if pid in first_seen:
            # Same question means the same problem (the same row in the store); keeping both would overwrite one.
            rejected.append((number, f"duplicate question (first on {unit} {first_seen[pid]})"))
            continue
        if source_id is not None:
            first_seen[("id", source_id)] = number
        first_seen[pid] = number
        if not gradable(answer):
            warnings.append((number, f"reference answer {answer[:40]!r} cannot be graded: it is not a number, a "
                                     "math expression or a choice letter, so only that exact text counts as right"))
        meta: dict[str, Any] = {id_col: source_id} if source_id is not None else {}
        if is_solution:
            meta["solution"] = raw_answer
        for key, value in row.items():
            # Keep small extra fields (MATH's level/type, say) for filtering later; skip anything not JSON.
            if key in (q_col, a_col, id_col) or not isinstance(key, str):
                continue
            if isinstance(value, (str, int, float, bool)) and not (isinstance(value, float) and math.isnan(value)):
                meta.setdefault(key, value)
        problems.append(Problem(pid, dataset, split, question, answer, meta))
        if limit is not None and len(problems) >= limit:
            break
    if limit is not None and len(problems) >= limit:
        # Rows past the last one taken were never looked at; reporting their parse errors would mislead.
        rejected[:] = [r for r in rejected if r[0] <= last_examined]
    rejected.sort(key=lambda r: r[0])
    return problems


def _rejection_list(rejected: list[tuple[int, str]], unit: str) -> str:
    shown = "; ".join(f"{unit} {n}: {reason}" for n, reason in rejected[:_MAX_REJECTIONS_SHOWN])
    more = f" (and {len(rejected) - _MAX_REJECTIONS_SHOWN} more)" if len(rejected) > _MAX_REJECTIONS_SHOWN else ""
    return shown + more


def _no_good_rows(where: str, rejected: list[tuple[int, str]], unit: str) -> DatasetError:
    return DatasetError(
        f"{where} has no usable problems: {_rejection_list(rejected, unit)}. Fix those rows, or pass a column "
        "mapping if the question and answer are in other columns."
    )


# --------------------------------------------------------------------------------------------------------
# Local files
# --------------------------------------------------------------------------------------------------------


def _load_file(path: Path, dataset: str, split: str, limit: int | None, columns: ColumnMap | None) -> LoadReport:
    if not path.exists():
        raise DatasetError(
            f"Dataset file not found: {path}. Check the path, or use one of: {', '.join(dataset_choices())}."
        )
    if path.is_dir():
        raise DatasetError(f"{path} is a folder. Pass one data file inside it (.jsonl, .json, .parquet or .csv).")
    suffix = path.suffix.lower()
    readers: dict[str, Callable[[Path], tuple[list[tuple[int, Any]], list[tuple[int, str]], str]]] = {
        ".jsonl": _read_jsonl,
        ".json": _read_json,
        ".parquet": _read_parquet,
        ".csv": _read_csv,
    }
    if suffix not in readers:
        raise DatasetError(f"Cannot read '{path.name}': use a .jsonl, .json, .parquet or .csv file.")
    try:
        rows, rejected, unit = readers[suffix](path)
    except OSError as exc:
        raise DatasetError(f"Cannot read {path}: {exc.strerror or exc}. Check that the file is readable.") from exc
    where = str(path)
    if not rows:
        if rejected:
            raise _no_good_rows(where, rejected, unit)
        raise DatasetError(f"{where} has no rows. Add problems to it or pick another dataset.")
    found: list[str] = []
    for _, row in rows:
        if isinstance(row, dict):
            found.extend(k for k in row if isinstance(k, str) and k not in found)
    warnings: list[tuple[int, str]] = []
    try:
        problems = _build(rows, found, dataset, split, limit, columns, where, rejected, unit, warnings)
    except DatasetError as exc:
        if not rejected:
            raise
        # When lines failed to parse, the columns seen may be misleading; show why those lines failed too.
        raise DatasetError(f"{exc} Lines that could not be read: {_rejection_list(rejected, unit)}.") from None
    if not problems:
        raise _no_good_rows(where, rejected, unit)
    return LoadReport(problems, rejected, where, warnings)


def _read_jsonl(path: Path) -> tuple[list[tuple[int, Any]], list[tuple[int, str]], str]:
    rows: list[tuple[int, Any]] = []
    rejected: list[tuple[int, str]] = []
    # Lines are decoded one by one so a single bad byte costs one row, not the file.
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                rejected.append((number, "not UTF-8 text"))
                continue
            if not line:
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                rejected.append((number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
    return rows, rejected, "line"


def _read_json(path: Path) -> tuple[list[tuple[int, Any]], list[tuple[int, str]], str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text. Save it as UTF-8 and try again.") from exc
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # one object per line: JSON Lines under a .json name
            return _read_jsonl(path)
        raise DatasetError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}). Fix the file, or "
            "save it as .jsonl with one object per line so bad lines can be skipped."
        ) from exc
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:  # {"data": [...]}-style wrappers
            data = lists[0]
    if not isinstance(data, list):
        raise DatasetError(f"{path} must hold a JSON list of objects, one per problem (found a {type(data).__name__}).")
    return [(i, row) for i, row in enumerate(data, start=1)], [], "row"


def _read_parquet(path: Path) -> tuple[list[tuple[int, Any]], list[tuple[int, str]], str]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise DatasetError(
            "Reading Parquet needs pyarrow: pip install pyarrow, or convert the file to .jsonl."
        ) from exc
    try:
        records = pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises ArrowInvalid & co. for files that are not Parquet
        raise DatasetError(
            f"{path} is not a readable Parquet file ({exc}). Re-export it, or convert it to .jsonl."
        ) from exc
    return [(i, row) for i, row in enumerate(records, start=1)], [], "row"


def _read_csv(path: Path) -> tuple[list[tuple[int, Any]], list[tuple[int, str]], str]:
    rows: list[tuple[int, Any]] = []
    rejected: list[tuple[int, str]] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            start = (reader.line_num or 0) + 1
            for record in reader:
                if None in record:  # more fields than the header names
                    rejected.append((start, "more fields than the header has columns (check the quoting)"))
                else:
                    rows.append((start, record))
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text. Save it as UTF-8 CSV and try again.") from exc
    except csv.Error as exc:
        raise DatasetError(
            f"{path} is not a readable CSV file ({exc}). Re-export it, or convert it to .jsonl."
        ) from exc
    return rows, rejected, "line"


def _local_gsm8k(split: str) -> Path | None:
    """A local GSM8K copy: ``$AGENTARK_GSM8K_DIR/{split}.jsonl``, else ``../shared/data/gsm8k/{split}.jsonl``."""
    folders = []
    if os.environ.get("AGENTARK_GSM8K_DIR"):
        folders.append(Path(os.environ["AGENTARK_GSM8K_DIR"]).expanduser())
    folders.append(Path.cwd().parent / "shared" / "data" / "gsm8k")
    for folder in folders:
        candidate = (folder / f"{split}.jsonl").resolve()
        if candidate.is_file():
            return candidate
    return None


# --------------------------------------------------------------------------------------------------------
# Hugging Face datasets
# --------------------------------------------------------------------------------------------------------


def _load_hf(spec: str, key: str, split: str, limit: int | None, columns: ColumnMap | None) -> LoadReport:
    if key in _HF_ALIASES:
        name, config, forced_split = _HF_ALIASES[key]
        dataset = key
        split = forced_split or split
    else:
        name, _, config_text = spec.strip()[3:].strip().partition(":")
        name, config = name.strip(), config_text.strip() or None
        if not name:
            raise DatasetError("Write a Hugging Face dataset as hf:NAME or hf:NAME:CONFIG, e.g. hf:openai/gsm8k:main.")
        dataset = f"hf:{name}" + (f":{config}" if config else "")
    label = f"Hugging Face {name}" + (f" ({config})" if config else "") + f", split {split}"
    local_hint = ""
    if key == "gsm8k":
        local_hint = (
            f" For GSM8K you can also put {split}.jsonl in a folder and set AGENTARK_GSM8K_DIR to it."
        )
    fixes = (
        "Install the library (pip install datasets) and connect to the internet once, or download the data "
        "files and pass the file path instead, or set HF_DATASETS_OFFLINE=1 with the dataset already in the "
        f"Hugging Face cache.{local_hint}"
    )
    try:
        import datasets  # imported here: it is slow to import and only these specs need it
    except ImportError as exc:
        raise DatasetError(
            f"Loading '{spec}' needs the Hugging Face 'datasets' library, which is not installed. {fixes}"
        ) from exc
    try:
        data = datasets.load_dataset(name, config, split=split)
    except Exception as exc:  # network, cache, auth and "no such split" errors all land here
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetError(f"Could not load {label}: {detail}. {fixes}") from exc
    found = list(getattr(data, "column_names", None) or [])
    rejected: list[tuple[int, str]] = []
    rows: Iterator[tuple[int, Any]] = ((i, dict(row)) for i, row in enumerate(data, start=1))
    warnings: list[tuple[int, str]] = []
    problems = _build(rows, found, dataset, split, limit, columns, label, rejected, "row", warnings)
    if not problems:
        raise _no_good_rows(label, rejected, "row")
    return LoadReport(problems, rejected, label, warnings)
