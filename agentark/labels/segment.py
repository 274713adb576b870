"""Store the reasoning steps of runs' messages (cut by :func:`agentark.runs.steps.segment`, which says how a
message is cut and which steps make a claim) under content ids.

Design decision: a step's id is a hash of its message id, its text and which occurrence of that text it
is in the message (never its position). Re-segmenting a message, with the same or another segmenter,
therefore gives an unchanged step the same id, and every label already attached to it stays attached;
only steps whose text changed are new (their old rows leave ``steps``, their labels stay in history).

A human label is never hidden by re-segmenting: a label on a step that leaves moves to the new step of the same
message that holds its text (copied there; the row it copies stays in history). Where no new step holds it,
segmenting refuses and names the labels, unless ``force`` (then they stay in history, and the report counts them).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from agentark.errors import ConfigError
from agentark.options import ConfigBase
from agentark.runs.steps import DEFAULT_SEGMENTER, SEGMENTERS, Step, has_claim, segment


@dataclass
class SegmentConfig(ConfigBase):
    """How to segment a run's messages; shared by the CLI, the labeling page and stored with the steps."""

    method: str = field(default=DEFAULT_SEGMENTER, metadata={
        "help": "how a message is cut into steps (auto: Step k markers or numbered lines, else paragraphs, else lines)",
        "choices": SEGMENTERS})
    roles: list[str] = field(default_factory=lambda: ["solver"], metadata={
        "help": "the roles whose messages are segmented (solver, critic, judge, aggregator)"})
    force: bool = field(default=False, metadata={
        "help": "segment even where a human label in force would be hidden (no new step holds its step's text); "
                "those labels stay in history"})

    def __post_init__(self) -> None:
        if self.method not in SEGMENTERS:
            raise ConfigError(f"Unknown segmenter '{self.method}'; set [[method]] to one of: {', '.join(SEGMENTERS)}.")
        if not self.roles:
            raise ConfigError("[[roles]] is empty; segment at least one role, e.g. solver.")


def step_id(message_id: str, text: str, occurrence: int) -> str:
    return hashlib.sha1(f"{message_id}\x00{text}\x00{occurrence}".encode()).hexdigest()[:20]


def step_ids(message_id: str, steps: list[Step]) -> list[str]:
    """Content ids of a message's steps (see the module docstring)."""
    seen: dict[str, int] = {}
    ids = []
    for s in steps:
        n = seen.get(s.text, 0)
        seen[s.text] = n + 1
        ids.append(step_id(message_id, s.text, n))
    return ids


@dataclass
class SegmentReport:
    """What a segmentation did: steps stored, human labels moved to a new step holding their text, and human
    labels in force left on steps that are gone (only when forced; they stay in history)."""

    steps: int
    moved: int = 0
    hidden: int = 0

    def summary(self, method: str) -> str:
        text = f"{self.steps} steps stored ({method})"
        if self.moved:
            text += f"; {self.moved} human labels moved to the new steps holding their text"
        if self.hidden:
            text += f"; {self.hidden} human labels hidden (forced: they stay in history)"
        return text


def segment_runs(store, run_ids: list[str] | None, cfg: SegmentConfig) -> int:
    """Segment every message of the given runs (all runs when None) with roles in ``cfg.roles``, marking which
    steps make a claim; return steps stored (``resegment`` reports the labels moved too)."""
    return resegment(store, run_ids, cfg).steps


def resegment(store, run_ids: list[str] | None, cfg: SegmentConfig) -> SegmentReport:
    """``segment_runs``, reporting the human labels moved (or, forced, hidden); refuses, naming them, when a
    human label in force would be hidden."""
    from agentark.store import label_tables as q

    messages = q.messages_to_segment(store, run_ids, cfg.roles)
    rows = []
    for m in messages.itertuples():
        steps = segment(m.content or "", cfg.method)
        for sid, s in zip(step_ids(m.message_id, steps), steps):
            rows.append({"step_id": sid, "message_id": m.message_id, "idx": s.idx, "text": s.text,
                         "char_start": s.char_start, "char_end": s.char_end, "segmenter": cfg.method,
                         "claim": has_claim(s.text, m.question or "")})
    message_ids = list(messages["message_id"])
    new_ids = {r["step_id"] for r in rows}
    old = q.steps_of_messages(store, message_ids)
    leaving = old[~old["step_id"].isin(new_ids)]
    labels = q.human_rows(store, list(leaving["step_id"])) if not leaving.empty else None
    moved, hidden = [], []
    if labels is not None and not labels.empty:
        by_message: dict[str, list[dict]] = {}
        for r in rows:
            by_message.setdefault(r["message_id"], []).append(r)
        target = {}
        for step in leaving.itertuples():
            holding = [r for r in by_message.get(step.message_id, []) if step.text.strip() in r["text"]]
            if holding:
                target[step.step_id] = min(holding, key=lambda r: r["idx"])["step_id"]
        texts = dict(zip(leaving["step_id"], leaving["text"]))
        for label in labels.itertuples():
            if label.step_id in target:
                moved.append((label.label_id, target[label.step_id]))
            elif label.in_force:
                hidden.append(label)
    if hidden and not cfg.force:
        named = "; ".join(f"{h.step_id} ({h.annotator or 'someone'}: {h.value:+g}, '{texts[h.step_id][:50]}')"
                          for h in hidden[:10])
        more = f" and {len(hidden) - 10} more" if len(hidden) > 10 else ""
        raise ConfigError(
            f"Segmenting with {cfg.method} would hide {len(hidden)} human label(s) in force: no new step holds the "
            f"text of their steps: {named}{more}. Nothing was changed. Keep the current steps, segment with another "
            "[[method]], or set [[force]] to segment anyway (those labels stay in history).")
    q.replace_steps(store, message_ids, rows, moved)
    return SegmentReport(len(rows), len(moved), len(hidden))


def steps_to_label(store, run_ids: list[str] | None, source: str, skip_labeled: bool):
    """The stored steps of ``run_ids`` (every run: None or empty) in context, for a labeler writing ``source``,
    and the labels ``source`` already has in force on them (empty when ``skip_labeled`` is off); refused with
    the fix when nothing is segmented yet."""
    from agentark.store import label_tables

    steps = label_tables.steps_in_context(store, run_ids or None)
    if steps.empty:
        raise ConfigError("No steps to label: segment the runs first (labeling page, or `python -m agentark segment`).")
    done = label_tables.labels_in_force(store, run_ids or None, [source]) if skip_labeled else steps.iloc[:0]
    return steps, done
