"""Store the reasoning steps of runs' messages (cut by :func:`agentark.runs.steps.segment`, which says how a
message is cut and which steps make a claim) under content ids.

Design decision: a step's id is a hash of its message id, its text and which occurrence of that text it
is in the message (never its position). Re-segmenting a message, with the same or another segmenter,
therefore gives an unchanged step the same id, and every label already attached to it stays attached;
only steps whose text changed are new (their old rows leave ``steps``, their labels stay in history).
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


def segment_runs(store, run_ids: list[str] | None, cfg: SegmentConfig) -> int:
    """Segment every message of the given runs (all runs when None) with roles in ``cfg.roles``, marking which
    steps make a claim; return steps stored."""
    from agentark.store import label_tables as q

    messages = q.messages_to_segment(store, run_ids, cfg.roles)
    rows = []
    for m in messages.itertuples():
        steps = segment(m.content or "", cfg.method)
        for sid, s in zip(step_ids(m.message_id, steps), steps):
            rows.append({"step_id": sid, "message_id": m.message_id, "idx": s.idx, "text": s.text,
                         "char_start": s.char_start, "char_end": s.char_end, "segmenter": cfg.method,
                         "claim": has_claim(s.text, m.question or "")})
    q.replace_steps(store, list(messages["message_id"]), rows)
    return len(rows)


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
