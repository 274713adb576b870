"""Step labels: automatic labelers (outcome, debate signal), the human label API, the queue and agreement.

Labels are PRM800K-style values: +1 good, 0 neutral, -1 wrong. Every label is a new row in the
append-only ``step_labels`` table with its source (``human``, ``auto:outcome``, ``auto:debate``,
``auto:mc``, ``import:...``), a confidence and, for people, who gave it; nothing is overwritten, and the
label in force for a step and a source is the latest one. Design decision: the automatic labelers are
pure functions from messages and steps to label rows, so they are tested on hand-built transcripts, and
``run_auto_labelers`` only appends rows whose value differs from the one already in force for that
source, so running a labeler twice adds nothing.
"""
from __future__ import annotations

import json
import re
import secrets
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from agentark.clock import now
from agentark.errors import ConfigError
from agentark.grading import intermediate_results, reference_solution, to_number
from agentark.store import Store
from agentark.store import label_tables as q

VALUES = {1: "good", 0: "neutral", -1: "wrong"}
AUTO_SOURCES = ("auto:outcome", "auto:debate")
QUEUE_STRATEGIES = {
    "unlabeled": "unlabeled by people first",
    "disagreement": "automatic labels that disagree first",
    "confidence": "lowest automatic confidence first",
    "first-error": "wrong answers whose first error is unknown first",
}
QUEUE_PAGE = 500  # steps fetched per queue query; the next page loads in the background before it is needed
_CONTEXTS_KEPT = 2000  # step contexts (message text included) a queue keeps before starting afresh
OUTCOME_POSITIVE_CONFIDENCE = 0.6  # a right answer can sit on a wrong step (Math-Shepherd's false positives)
OUTCOME_NEGATIVE_CONFIDENCE = 0.7
DEBATE_CRITIQUE_CONFIDENCE = 0.5
DEBATE_REVISION_CONFIDENCE = 0.6
_RESULT = re.compile(r"=\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_CRITIQUE = re.compile(
    r"\b(wrong|incorrect|mistake|error|miscalculat\w*|should be|should have been|not correct|isn't right|"
    r"is not right|flawed|off by)\b", re.IGNORECASE)
_STEP_REF = re.compile(r"\bstep\s*(\d+)", re.IGNORECASE)


# -- human labels -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HumanLabel:
    """One person's judgement of one step: a value, and/or the 'unsure' flag, with an optional note."""

    step_id: str
    value: int | None
    annotator: str
    flag: bool = False
    note: str | None = None

    def __post_init__(self) -> None:
        if not (self.annotator or "").strip():
            raise ConfigError("Labels need an annotator: enter your name in the sidebar (or pass --annotator).")
        if self.value is not None and self.value not in VALUES:
            raise ConfigError(f"A label is +1 (good), 0 (neutral) or -1 (wrong); got {self.value!r}.")
        if self.value is None and not self.flag and not self.note:
            raise ConfigError("Give a value (+1, 0, -1), the 'unsure' flag or a note.")


def add_human_labels(store: Store, labels: list[HumanLabel]) -> int:
    """Append people's labels with who and when; return how many were written."""
    if not labels:
        return 0
    stamp = now()
    rows = pd.DataFrame({
        "label_id": [f"h:{secrets.token_hex(10)}" for _ in labels],
        "step_id": [lab.step_id for lab in labels],
        "value": [None if lab.value is None else float(lab.value) for lab in labels],
        "source": "human",
        "annotator": [lab.annotator.strip() for lab in labels],
        "confidence": 1.0,
        "flag": [bool(lab.flag) for lab in labels],
        "note": [lab.note or None for lab in labels],
        "created_at": stamp,
    })
    return q.append_labels(store, rows)


def bulk_label(store: Store, step_ids: list[str], value: int, annotator: str, note: str | None = None) -> int:
    """Give many steps the same human label (each one a new row in their history)."""
    return add_human_labels(store, [HumanLabel(s, value, annotator, note=note) for s in step_ids])


def label_history(store: Store, step_id: str) -> pd.DataFrame:
    return q.label_history(store, step_id)


def label_counts(store: Store) -> pd.DataFrame:
    """Labels and labelled steps per source and annotator."""
    return q.label_counts(store)


def message_of(store: Store, message_id: str) -> dict:
    """A message with its problem, to show a step in place."""
    return q.message_with_problem(store, message_id)


# -- automatic labelers -----------------------------------------------------------------------------------
def _results(text: str) -> list[str]:
    """The numbers a step states as results: what follows an '='."""
    return [m.group(1).replace(",", "") for m in _RESULT.finditer(text)]


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def _in_reference(value: str, reference: list[str]) -> bool:
    v = to_number(value)
    return v is not None and any(to_number(r) == v for r in reference)


def outcome_labels(messages: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """Outcome supervision, one transcript (an agent's message) at a time.

    A message whose final answer is correct gets +1 on every step. A wrong one gets -1 on its first step
    that states a result (``... = X``) absent from the reference solution's intermediate results (GSM8K's
    ``<<a*b=X>>`` annotations, kept by the built-in dataset, the GSM8K and file loaders and the importers);
    without such a reference it gets nothing.
    """
    out = []
    by_message = {mid: g.sort_values("idx") for mid, g in steps.groupby("message_id")}
    for m in messages.itertuples():
        mine = by_message.get(m.message_id)
        if mine is None or m.is_correct is None or pd.isna(m.is_correct):
            continue
        if bool(m.is_correct):
            out += [(sid, 1.0, OUTCOME_POSITIVE_CONFIDENCE) for sid in mine["step_id"]]
            continue
        solution = reference_solution(json.loads(m.meta_json or "{}"))
        reference = intermediate_results(solution) + [str(m.reference_answer)]
        if len(reference) < 2:
            continue
        for s in mine.itertuples():
            if any(not _in_reference(r, reference) for r in _results(s.text)):
                out.append((s.step_id, -1.0, OUTCOME_NEGATIVE_CONFIDENCE))
                break
    return pd.DataFrame(out, columns=["step_id", "value", "confidence"])


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9=+\-*/.]", "", text.lower())


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def debate_labels(messages: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """The debate signal: which earlier step a later round shows to be the likely error (-1).

    In round r > 1, (a) a critique sentence of one agent (it says wrong, mistake, should be, ...) points at
    another agent's round r-1 step it names (``agent_2 ... step 3``) or whose numbers it repeats (two or
    more in common, one of them the step's stated result); (b) an agent that turned a wrong answer into a right one revised its first step that
    no longer appears in its new message.
    """
    out: dict[str, tuple[float, float]] = {}
    by_message = {mid: g.sort_values("idx") for mid, g in steps.groupby("message_id")}
    solvers = messages[messages["role"] == "solver"]
    for (_, _), conv in solvers.groupby(["run_id", "problem_id"]):
        by_round = {r: g for r, g in conv.groupby("round")}
        for rnd, current in by_round.items():
            previous = by_round.get(rnd - 1)
            if rnd <= 1 or previous is None:
                continue
            prev_by_agent = {r.agent: r for r in previous.itertuples()}
            for msg in current.itertuples():
                for sentence in _sentences(msg.content or ""):
                    if not _CRITIQUE.search(sentence):
                        continue
                    for target_agent, target in prev_by_agent.items():
                        if target_agent == msg.agent or target.message_id not in by_message:
                            continue
                        step = _pointed_step(sentence, target_agent, by_message[target.message_id], len(prev_by_agent))
                        if step is not None:
                            out.setdefault(step, (-1.0, DEBATE_CRITIQUE_CONFIDENCE))
                before = prev_by_agent.get(msg.agent)
                if (before is not None and _is(before.is_correct, False) and _is(msg.is_correct, True)
                        and before.message_id in by_message):
                    new_steps = {_norm(t) for t in by_message.get(msg.message_id, pd.DataFrame({"text": []}))["text"]}
                    if not new_steps:
                        new_steps = {_norm(s) for s in _sentences(msg.content or "")}
                    for s in by_message[before.message_id].itertuples():
                        if _norm(s.text) not in new_steps:
                            out[s.step_id] = (-1.0, DEBATE_REVISION_CONFIDENCE)
                            break
    return pd.DataFrame([(k, v, c) for k, (v, c) in out.items()], columns=["step_id", "value", "confidence"])


def _is(value, wanted: bool) -> bool:
    """Whether a nullable boolean from a frame is known and equal to ``wanted``."""
    return value is not None and not pd.isna(value) and bool(value) is wanted


def _pointed_step(sentence: str, agent: str, target_steps: pd.DataFrame, n_agents: int) -> str | None:
    named = bool(re.search(re.escape(agent).replace("_", "[ _]?"), sentence, re.IGNORECASE))
    others_named = bool(re.search(r"agent[ _]?\d+", sentence, re.IGNORECASE)) and not named
    if others_named:
        return None
    ref = _STEP_REF.search(sentence)
    if ref and (named or n_agents == 2):
        k = int(ref.group(1)) - 1
        hit = target_steps[target_steps["idx"] == k]
        if not hit.empty:
            return str(hit.iloc[0]["step_id"])
    wanted = _numbers(sentence)
    best, best_score = None, 1
    for s in target_steps.itertuples():
        # The critique must repeat a result the step states, not just its operands ("3 * 4 = 14 is wrong").
        if not wanted & set(_results(s.text)):
            continue
        score = len(wanted & _numbers(s.text))
        if score > best_score:
            best, best_score = s.step_id, score
    return best


def _stamp_rows(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["label_id"] = [f"{source}:{secrets.token_hex(10)}" for _ in range(len(frame))]
    frame["source"] = source
    frame["created_at"] = now()
    frame["flag"] = False
    return frame


@dataclass
class AutoLabelConfig:
    """Which automatic labelers to run on which runs (all runs when ``run_ids`` is empty)."""

    run_ids: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=lambda: list(AUTO_SOURCES))

    def __post_init__(self) -> None:
        unknown = [s for s in self.sources if s not in AUTO_SOURCES]
        if unknown or not self.sources:
            raise ConfigError(f"Unknown labeler(s) {unknown or '(none)'}; choose from: {', '.join(AUTO_SOURCES)} "
                              "(Monte-Carlo labels run as a job: `python -m agentark label-mc`).")


def run_auto_labelers(store: Store, cfg: AutoLabelConfig) -> dict[str, int]:
    """Run the chosen labelers on stored steps; append only labels that change what is in force."""
    steps = q.steps_in_context(store, cfg.run_ids or None)
    if steps.empty:
        raise ConfigError("No steps to label: segment the runs first (labeling page, or `python -m agentark segment`).")
    messages = q.transcript_messages(store, cfg.run_ids or None)
    written = {}
    for source in cfg.sources:
        labeler = outcome_labels if source == "auto:outcome" else debate_labels
        fresh = labeler(messages, steps)
        current = q.labels_in_force(store, cfg.run_ids or None, [source])
        if not fresh.empty and not current.empty:
            merged = fresh.merge(current[["step_id", "value"]], on="step_id", how="left", suffixes=("", "_old"))
            fresh = merged[merged["value"] != merged["value_old"]].drop(columns="value_old")
        written[source] = q.append_labels(store, _stamp_rows(fresh, source)) if not fresh.empty else 0
    return written


# -- the queue --------------------------------------------------------------------------------------------
def step_table(store: Store, run_ids: list[str] | None = None) -> pd.DataFrame:
    """One row per step: context, the human label in force, and each other source's label and confidence."""
    steps = q.steps_in_context(store, run_ids)
    if steps.empty:
        return steps
    labels = q.labels_in_force(store, run_ids)
    human = labels[labels["source"] == "human"][["step_id", "value", "annotator"]].rename(
        columns={"value": "human", "annotator": "human_by"})
    auto = labels[labels["source"] != "human"]
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
    at a time with keyset paging, so opening and moving through a queue of a million steps stays fast."""

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
    _contexts: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_strategy(self.strategy)
        if self.page_size < 1:
            raise ConfigError(f"A queue page holds at least one step; got page_size={self.page_size}.")

    @classmethod
    def open(cls, store: Store, strategy: str = "unlabeled", run_ids: list[str] | None = None,
             page_size: int = QUEUE_PAGE) -> "LabelQueue":
        queue = cls(store, strategy, list(run_ids) if run_ids else None, page_size)
        queue.total = q.count_steps(store, queue.run_ids)
        queue.ensure(0)
        return queue

    def _fetch(self) -> pd.DataFrame:
        return q.queue_page(self.store, self.strategy, self.run_ids, self.as_of, self._after, self.page_size)

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

    def card(self, step_id: str) -> dict:
        """What the labeling card shows for a step: the step with its message and problem, and under ``history``
        every label it was given (read fresh). Contexts are read a message at a time and kept, so the next
        step of the same message reads only its history."""
        with self.store.connection():
            if step_id not in self._contexts:
                if len(self._contexts) > _CONTEXTS_KEPT:
                    self._contexts.clear()
                self._contexts.update({row["step_id"]: row for row in q.message_steps_in_context(self.store, step_id)})
            return {**self._contexts.get(step_id, {}), "history": q.label_history(self.store, step_id)}

    def label(self, label: HumanLabel, show_step_id: str) -> dict:
        """Store a person's label and read the card to show next, in one store operation (one open of the file)."""
        with self.store.connection():
            add_human_labels(self.store, [label])
            return self.card(show_step_id)


AUTO_FILTERS = q.AUTO_FILTERS


@dataclass(frozen=True)
class StepFilter:
    """What the labeling table shows: steps without a human label only, by automatic labels, by text."""

    only_unlabeled: bool = False
    auto: str = "any"
    contains: str = ""

    def __post_init__(self) -> None:
        if self.auto not in q.AUTO_FILTERS:
            raise ConfigError(f"Unknown automatic-label filter '{self.auto}'; choose one of: {', '.join(q.AUTO_FILTERS)}.")


def filtered_steps(store: Store, run_ids: list[str] | None, flt: StepFilter,
                   limit: int | None = None) -> tuple[pd.DataFrame, int]:
    """The first ``limit`` steps matching ``flt`` (transcript order) with their labels, and how many match."""
    rows = q.filtered_steps(store, run_ids, flt.only_unlabeled, flt.auto, flt.contains, limit)
    total = int(rows["matching"].iloc[0]) if not rows.empty else 0
    return rows.drop(columns="matching"), total


# -- agreement --------------------------------------------------------------------------------------------
def _sign(v: float) -> int:
    return int((v > 0) - (v < 0))


def cohen_kappa(a: list[int], b: list[int]) -> float | None:
    """Cohen's kappa of two raters over the same items; None without items, 1.0 when both are constant and equal."""
    if len(a) != len(b):
        raise ValueError("both raters must rate the same items")
    n = len(a)
    if n == 0:
        return None
    cats = sorted(set(a) | set(b))
    observed = sum(x == y for x, y in zip(a, b)) / n
    expected = sum((a.count(c) / n) * (b.count(c) / n) for c in cats)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1 - expected)


def confusion(a: list[int], b: list[int], name_a: str, name_b: str) -> pd.DataFrame:
    cats = [-1, 0, 1]
    table = pd.crosstab(pd.Series(a, name=name_a), pd.Series(b, name=name_b)).reindex(index=cats, columns=cats, fill_value=0)
    return table


@dataclass
class Agreement:
    rater_a: str
    rater_b: str
    n: int
    kappa: float | None
    table: pd.DataFrame


def agreement(store: Store, run_ids: list[str] | None = None) -> list[Agreement]:
    """Kappa and confusion table for every pair of annotators, then for each other source against people."""
    result: list[Agreement] = []
    people = q.human_labels_by_annotator(store, run_ids)
    names = sorted(people["annotator"].dropna().unique()) if not people.empty else []
    for i, x in enumerate(names):
        for y in names[i + 1:]:
            both = people[people.annotator == x].merge(people[people.annotator == y], on="step_id")
            a = [_sign(v) for v in both["value_x"]]
            b = [_sign(v) for v in both["value_y"]]
            result.append(Agreement(x, y, len(a), cohen_kappa(a, b), confusion(a, b, x, y)))
    labels = q.labels_in_force(store, run_ids)
    human = labels[labels["source"] == "human"][["step_id", "value"]]
    for source in sorted(s for s in labels["source"].unique() if s != "human"):
        both = labels[labels["source"] == source][["step_id", "value"]].merge(human, on="step_id", suffixes=("_a", "_h"))
        a = [_sign(v) for v in both["value_a"]]
        h = [_sign(v) for v in both["value_h"]]
        result.append(Agreement(source, "human", len(a), cohen_kappa(a, h), confusion(a, h, source, "human")))
    return result
