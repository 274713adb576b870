"""Problem records, what loading a dataset reports, and the id rule every loader shares.

Design decision: a problem's id is a stable content hash (``sha1("{dataset}\\n{question}")``, or
``"{dataset}:{id}"`` when the source has its own id column), never a row number or a random id. Loading the
same dataset again therefore yields the same ids, so the store's ``problems`` table upserts instead of
growing duplicate rows, and runs on the same dataset line up problem by problem.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

__all__ = ["BUILTIN_NOTE", "DATASETS", "ColumnMap", "LoadReport", "Problem", "dataset_choices", "problem_id",
           "unknown_dataset_message"]


@dataclass(frozen=True)
class Problem:
    """One question with its reference final answer."""

    problem_id: str  # sha1 of f"{dataset}\n{question}" (16 hex chars), or f"{dataset}:{id}" from an id column
    dataset: str  # normalized spec: "builtin:arithmetic", "gsm8k", "file:/abs/path.jsonl", ...
    split: str
    question: str
    reference_answer: str  # final answer only, e.g. "72"
    meta: dict = field(default_factory=dict)  # JSON-serializable: {"solution": ...}, {"template": ...}, ...


@dataclass
class LoadReport:
    """What ``load_problems`` found.

    ``rejected`` holds ``(number, reason)`` for rows that could not be used: the 1-based line number for
    JSONL and CSV files (where a CSV record starts), the 1-based row number for JSON lists, Parquet files
    and Hugging Face datasets. Good rows load regardless. ``warnings`` holds rows that loaded but whose
    reference answer cannot be graded (a word such as "four" or "Paris": only that exact word would count
    as right), numbered the same way.
    """

    problems: list[Problem]
    rejected: list[tuple[int, str]]
    source: str
    warnings: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ColumnMap:
    """Which columns hold the question, the answer and (optionally) a stable id."""

    question: str = "question"
    answer: str = "answer"
    id: str | None = None


# The dataset specs the UI and ``agentark datasets`` offer, with what each holds; any file path is accepted
# besides, and math, metamathqa and hf:NAME[:CONFIG] load from Hugging Face.
DATASETS = {
    "builtin:arithmetic": "built-in word problems, easy, medium and hard mixed",
    "builtin:arithmetic-onestep": "built-in, one addition of two one-digit numbers (the embedded model solves "
                                  "part of them)",
    "builtin:arithmetic-easy": "built-in, one or two operations",
    "builtin:arithmetic-medium": "built-in, three operations",
    "builtin:arithmetic-hard": "built-in, four or more operations with bigger numbers",
    "gsm8k": "GSM8K grade-school math (a local copy in AGENTARK_GSM8K_DIR, else Hugging Face)",
}
BUILTIN_NOTE = (
    "Built-in datasets: 100 problems unless --limit; each --split name is its own stream of problems (test, the "
    "default, held out; train to distill on) with ids of its own; --problem-seed picks other problems."
)


def dataset_choices() -> list[str]:
    """The dataset specs the UI and ``agentark datasets`` offer; any file path is accepted besides."""
    return list(DATASETS)


def unknown_dataset_message(spec: str) -> str:
    """The error text for a spec no loader understands: it lists what is understood."""
    return (
        f"Unknown dataset '{spec}'. Use one of: {', '.join(dataset_choices())}, math, metamathqa, "
        "hf:NAME[:CONFIG], or a path to a .jsonl/.json/.parquet/.csv file."
    )


def problem_id(dataset: str, question: str) -> str:
    """The content-hash id of a question of ``dataset`` (16 hex characters)."""
    return hashlib.sha1(f"{dataset}\n{question}".encode("utf-8")).hexdigest()[:16]
