"""Problem records, what loading a dataset reports, and the id rule every loader shares.

Design decision: a problem's id is the hash of its normalised question text (``agentark.ids.question_id``),
never a row number, a source's own id or the dataset's name. Loading the same dataset again yields the same
ids, so the store's ``problems`` table upserts instead of growing duplicate rows; and the same question
lines up problem by problem whichever loader, file or tool brought it (the studio's ``gsm8k`` loader, a Du
et al. file, a MASLab file, a transcripts file), while each run records the dataset and split it came from
(``run_problems.dataset``/``split``). A train and a test stream that share a question share its id, which
is what the held-out check must see.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from agentark.ids import question_id

__all__ = ["BUILTIN_NOTE", "DATASETS", "ColumnMap", "LoadReport", "Problem", "dataset_choices", "problem_id",
           "unknown_dataset_message"]


@dataclass(frozen=True)
class Problem:
    """One question with its reference final answer."""

    problem_id: str  # question_id(question): sha1 of the normalised question (16 hex chars)
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
    "default, held out; train to distill on); --problem-seed picks other problems."
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


def problem_id(question: str) -> str:
    """The id of a question (16 hex characters), the same whichever dataset or tool it came from."""
    return question_id(question)
