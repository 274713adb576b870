"""Human step labels and the labeling queue: the append-only label API, the queue's orders and the step table.

Labels are PRM800K-style values: +1 good, 0 neutral, -1 wrong. Every label is a new row in the append-only
``step_labels`` table with its source (``human`` here; ``auto:...`` and ``import:...`` from the labelers and
importers), a confidence and, for people, who gave it; nothing is overwritten, and the label in force for a
step and a source is the latest one. Design decision: a person's queue fixes its order when it is opened and
loads it a page at a time (keyset paging, the next page prefetched), so labeling stays fast on a million
steps and labels given meanwhile do not reshuffle it.
"""
from __future__ import annotations

import secrets
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from agentark.clock import now
from agentark.errors import ConfigError
from agentark.labels.labelers import Labeler, register_labeler
from agentark.store import Store
from agentark.labels.corrections import Correction, correction_rows
from agentark.store import assignment_tables
from agentark.store import correction_tables as ct
from agentark.store import label_tables as q

SOURCE = "human"
VALUES = {1: "good", 0: "neutral", -1: "wrong"}
QUEUE_STRATEGIES = {
    "unlabeled": "unlabeled by people first",
    "disagreement": "automatic labels that disagree first",
    "confidence": "lowest automatic confidence first",
    "first-error": "wrong answers whose first error is unknown first",
}
QUEUE_PAGE = 500  # steps fetched per queue query; the next page loads in the background before it is needed
_CARDS_KEPT = 2000  # cards (message text included) a queue keeps before starting afresh


@dataclass(frozen=True)
class HumanLabel:
    """One person's judgement of one step: a value, and/or the 'unsure' flag, with an optional note."""

    step_id: str
    value: int | None
    annotator: str
    flag: bool = False
    note: str | None = None
    label_id: str | None = None  # given by the browser, so a label sent twice is stored once

    def __post_init__(self) -> None:
        if not (self.annotator or "").strip():
            raise ConfigError("Labels need an annotator: enter your name in the sidebar ([[annotator]]).")
        if self.value is not None and self.value not in VALUES:
            raise ConfigError(f"A label is +1 (good), 0 (neutral) or -1 (wrong); got {self.value!r}.")
        if self.value is None and not self.flag and not self.note:
            raise ConfigError("Give a value (+1, 0, -1), the 'unsure' flag or a note.")


def _label_rows(labels: list[HumanLabel], stamp: datetime) -> pd.DataFrame:
    """Rows for ``step_labels``; each a microsecond after the one before, so the order given decides which label
    of a step is in force even where one insert does not keep its rows' order."""
    return pd.DataFrame({
        "label_id": [lab.label_id or f"h:{secrets.token_hex(10)}" for lab in labels],
        "step_id": [lab.step_id for lab in labels],
        "value": [None if lab.value is None else float(lab.value) for lab in labels],
        "source": SOURCE,
        "annotator": [lab.annotator.strip() for lab in labels],
        "confidence": 1.0,
        "flag": [bool(lab.flag) for lab in labels],
        "note": [lab.note or None for lab in labels],
        "created_at": [stamp + timedelta(microseconds=i) for i in range(len(labels))],
    }, columns=q.LABEL_COLUMNS[:-1])


def add_human_labels(store: Store, labels: list[HumanLabel]) -> int:
    """Append people's labels with who and when; return how many were written. A step id that is no stored step
    is refused (nothing is written): a label on it would be an orphan no view or export ever shows."""
    if not labels:
        return 0
    return q.append_labels(store, _label_rows(labels, now()), known_steps_only=True)


def store_batch(store: Store, labels: list[HumanLabel], corrections: list[Correction] = ()) -> dict[str, int]:
    """Store a batch of labels and corrections (from the browser) in one store operation and one transaction,
    in the order given; ids already stored are skipped, so a resent batch stores nothing twice. A correction
    also gives its author's -1 label to its step when their label in force there is not -1 already."""
    stamp = now()
    with store.connection():
        fixes = correction_rows(store, list(corrections), stamp)
        return ct.write_batch(store, _label_rows(list(labels), stamp) if labels else pd.DataFrame(), fixes)


def bulk_label(store: Store, step_ids: list[str], value: int, annotator: str, note: str | None = None) -> int:
    """Give many steps the same human label (each one a new row in their history)."""
    return add_human_labels(store, [HumanLabel(s, value, annotator, note=note) for s in step_ids])


def label_history(store: Store, step_id: str) -> pd.DataFrame:
    return q.label_history(store, step_id)


def _plain(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def step_histories(store: Store, step_ids: list[str]) -> dict[str, list[dict]]:
    """Per step, every label and correction it was given, oldest first, as plain rows: ``id``, ``when``,
    ``source``, ``annotator``, ``value``, ``flag``, ``note`` and, for a correction, ``correction`` (the step
    written, then the rest after a line "…")."""
    with store.connection():
        labels = q.label_histories(store, step_ids)
        fixes = ct.step_corrections(store, step_ids)
    rows: dict[str, list[tuple]] = {}
    for r in labels.itertuples():
        value = _plain(r.value)
        rows.setdefault(r.step_id, []).append((r.created_at, {
            "id": r.label_id, "when": f"{r.created_at:%Y-%m-%d %H:%M:%S}", "source": r.source,
            "annotator": _plain(r.annotator), "value": None if value is None else int(value) if value in (-1, 0, 1)
            else float(value), "flag": bool(_plain(r.flag)), "note": _plain(r.note), "correction": None}))
    for r in fixes.itertuples():
        rest = _plain(r.rest)
        rows.setdefault(r.step_id, []).append((r.created_at, {
            "id": r.correction_id, "when": f"{r.created_at:%Y-%m-%d %H:%M:%S}", "source": SOURCE,
            "annotator": r.annotator, "value": None, "flag": False, "note": _plain(r.note),
            "correction": r.text + (f"\n…{rest}" if rest else "")}))
    return {step: [row for _, row in sorted(found, key=lambda x: x[0])] for step, found in rows.items()}


def label_counts(store: Store) -> pd.DataFrame:
    """Labels and labelled steps per source and annotator."""
    return q.label_counts(store)


def message_of(store: Store, message_id: str) -> dict:
    """A message with its problem, to show a step in place."""
    return q.message_with_problem(store, message_id)


# -- the queue --------------------------------------------------------------------------------------------
def step_table(store: Store, run_ids: list[str] | None = None) -> pd.DataFrame:
    """One row per step: context, the human label in force, and each other source's label and confidence."""
    steps = q.steps_in_context(store, run_ids)
    if steps.empty:
        return steps
    labels = q.labels_in_force(store, run_ids)
    human = labels[labels["source"] == SOURCE][["step_id", "value", "annotator"]].rename(
        columns={"value": "human", "annotator": "human_by"})
    auto = labels[labels["source"] != SOURCE]
    table = steps.merge(human, on="step_id", how="left")
    if not auto.empty:
        wide = auto.pivot_table(index="step_id", columns="source", values="value", aggfunc="first")
        table = table.merge(wide, left_on="step_id", right_index=True, how="left")
        stats = auto.assign(sign=auto["value"].apply(lambda v: (v > 0) - (v < 0))).groupby("step_id").agg(
            auto_signs=("sign", "nunique"), auto_n=("sign", "size"), min_confidence=("confidence", "min"))
        table = table.merge(stats, left_on="step_id", right_index=True, how="left")
    for col, default in (("auto_signs", 0), ("auto_n", 0), ("min_confidence", None)):
        if col not in table:
            table[col] = default
    table["auto_signs"] = table["auto_signs"].fillna(0).astype(int)
    table["auto_n"] = table["auto_n"].fillna(0).astype(int)
    return table


def _check_strategy(strategy: str) -> None:
    if strategy not in QUEUE_STRATEGIES:
        raise ConfigError(f"Unknown queue order '{strategy}'; choose one of: {', '.join(QUEUE_STRATEGIES)}.")


def label_queue(store: Store, strategy: str = "unlabeled", run_ids: list[str] | None = None) -> pd.DataFrame:
    """Every step in the order a person should label them; transcript order breaks ties.

    ``first-error`` puts first the steps of wrong answers (``is_correct`` false) that no source in force
    labels bad yet, whole trajectories in step order, so a person's minutes go to the first errors the
    PRM data lacks.
    """
    _check_strategy(strategy)
    return q.queue_page(store, strategy, run_ids)


# One background thread per process loads the next queue page while the person labels the current one.
_PREFETCH = ThreadPoolExecutor(max_workers=1, thread_name_prefix="label-queue")


@dataclass
class LabelQueue:
    """A person's queue: its order fixed when opened (labels given later do not reshuffle it), loaded a page
    at a time with keyset paging, so opening and moving through a queue of a million steps stays fast.

    ``who``: the annotator it is assigned to; it then takes only steps no one else holds (or an overlap step
    fewer than two others hold) and records each page it loads as theirs (``agentark.labels.assignments``)."""

    store: Store
    strategy: str
    run_ids: list[str] | None = None
    page_size: int = QUEUE_PAGE
    as_of: datetime = field(default_factory=now)
    step_ids: list[str] = field(default_factory=list)
    total: int = 0
    _after: tuple | None = None
    _exhausted: bool = False
    _next: Future | None = None
    token: str = field(default_factory=lambda: secrets.token_hex(6))
    _cards: dict[int, dict] = field(default_factory=dict)
    who: str | None = None

    def __post_init__(self) -> None:
        _check_strategy(self.strategy)
        if self.page_size < 1:
            raise ConfigError(f"A queue page holds at least one step; got page_size={self.page_size}.")

    @classmethod
    def open(cls, store: Store, strategy: str = "unlabeled", run_ids: list[str] | None = None,
             page_size: int = QUEUE_PAGE, who: str | None = None) -> "LabelQueue":
        queue = cls(store, strategy, list(run_ids) if run_ids else None, page_size, who=(who or "").strip() or None)
        queue.total = q.count_steps(store, queue.run_ids, queue.who)
        queue.ensure(0)
        return queue

    def _fetch(self) -> pd.DataFrame:
        page = q.queue_page(self.store, self.strategy, self.run_ids, self.as_of, self._after, self.page_size,
                            self.who)
        if self.who is not None:
            assignment_tables.claim(self.store, page["step_id"].tolist(), self.who, now())
        return page

    def _take(self, page: pd.DataFrame) -> None:
        self.step_ids.extend(page["step_id"].tolist())
        if len(page) < self.page_size:
            self._exhausted = True
        else:
            self._after = tuple(page.iloc[-1][q.QUEUE_CURSOR])

    def ensure(self, pos: int) -> None:
        """Load pages until position ``pos`` is loaded; near the end of what is loaded, start the next page."""
        while pos >= len(self.step_ids) and not self._exhausted:
            page = self._next.result() if self._next is not None else self._fetch()
            self._next = None
            self._take(page)
        if not self._exhausted and self._next is None and pos >= len(self.step_ids) - self.page_size // 2:
            self._next = _PREFETCH.submit(self._fetch)

    def __len__(self) -> int:
        return self.total if not self._exhausted else len(self.step_ids)

    def cards(self, start: int, end: int) -> list[dict]:
        """The cards of queue positions ``start`` to ``end`` (excluded) for a card that holds them in the browser:
        each step with its message, problem, and ``history`` (labels and corrections, oldest first).

        A position's card is read once (its history as of then; what this person gives is added where it is
        shown) and kept, so sliding the window reads only the new positions, in one store operation."""
        start = max(start, 0)
        self.ensure(max(end - 1, 0))
        end = min(end, len(self.step_ids))
        missing = [pos for pos in range(start, end) if pos not in self._cards]
        if missing:
            if len(self._cards) > _CARDS_KEPT:
                self._cards.clear()
            ids = [self.step_ids[pos] for pos in missing]
            with self.store.connection():
                steps = q.steps_with_context(self.store, ids).set_index("step_id")
                histories = step_histories(self.store, ids)
            for pos, step_id in zip(missing, ids):
                if step_id in steps.index:
                    row = steps.loc[step_id].to_dict()
                    self._cards[pos] = {**row, "step_id": step_id, "pos": pos,
                                        "history": histories.get(step_id, [])}
        return [self._cards[pos] for pos in range(start, end) if pos in self._cards]


AUTO_FILTERS = q.AUTO_FILTERS


@dataclass(frozen=True)
class StepFilter:
    """What the labeling table shows: steps without a human label only, by automatic labels, by text."""

    only_unlabeled: bool = False
    auto: str = "any"
    contains: str = ""

    def __post_init__(self) -> None:
        if self.auto not in q.AUTO_FILTERS:
            raise ConfigError(f"Unknown automatic-label filter '{self.auto}'; "
                              f"choose one of: {', '.join(q.AUTO_FILTERS)}.")


def filtered_steps(store: Store, run_ids: list[str] | None, flt: StepFilter,
                   limit: int | None = None) -> tuple[pd.DataFrame, int]:
    """The first ``limit`` steps matching ``flt`` (transcript order) with their labels, and how many match."""
    rows = q.filtered_steps(store, run_ids, flt.only_unlabeled, flt.auto, flt.contains, limit)
    total = int(rows["matching"].iloc[0]) if not rows.empty else 0
    return rows.drop(columns="matching"), total


HUMAN = register_labeler(Labeler(
    SOURCE, "people", "labels people give on the Label steps page (or `python -m agentark label`)", automatic=False,
    reference=True, order=90, precedence=0,
    negatives="people on the Label steps page (wrong trajectories whose first error is unknown)"))
