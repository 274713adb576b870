"""Split a message into reasoning steps, with character offsets so a step can be shown in place.

Design decision: a step's id is a hash of its message id, its text and which occurrence of that text it
is in the message (never its position). Re-segmenting a message, with the same or another segmenter,
therefore gives an unchanged step the same id, and every label already attached to it stays attached;
only steps whose text changed are new (their old rows leave ``steps``, their labels stay in history).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from agentark.errors import ConfigError
from agentark.options import ConfigBase

SEGMENTERS = ("paragraphs", "lines", "markers", "sentences")
_MARKER = re.compile(r"(?im)^[ \t]*(?:\*\*)?step\s*\d+\s*[:.)]")
# A sentence ends at . ! or ? followed by white space; "3.5" and "e.g.x" never split.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Step:
    """One step: ``text == content[char_start:char_end]`` of its message."""

    idx: int
    text: str
    char_start: int
    char_end: int


@dataclass
class SegmentConfig(ConfigBase):
    """How to segment a run's messages; shared by the CLI, the labeling page and stored with the steps."""

    method: str = field(default="paragraphs", metadata={"help": "how a message is cut into steps",
                                                        "choices": SEGMENTERS})
    roles: list[str] = field(default_factory=lambda: ["solver"], metadata={
        "help": "the roles whose messages are segmented (solver, critic, judge, aggregator)"})

    def __post_init__(self) -> None:
        if self.method not in SEGMENTERS:
            raise ConfigError(f"Unknown segmenter '{self.method}'; set [[method]] to one of: {', '.join(SEGMENTERS)}.")
        if not self.roles:
            raise ConfigError("[[roles]] is empty; segment at least one role, e.g. solver.")


def _spans_between(content: str, cuts: list[int]) -> list[tuple[int, int]]:
    """Pieces between cut points, trimmed of surrounding white space, empty pieces dropped."""
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(content))), len(content)]
    spans = []
    for start, end in zip(bounds, bounds[1:]):
        piece = content[start:end]
        stripped = piece.strip()
        if not stripped:
            continue
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + lead + len(stripped)))
    return spans


def segment(content: str, method: str = "paragraphs") -> list[Step]:
    """Steps of ``content``: ``paragraphs`` (blank lines), ``lines``, ``markers`` (``Step k:``) or ``sentences``."""
    if method not in SEGMENTERS:
        raise ConfigError(f"Unknown segmenter '{method}'; choose one of: {', '.join(SEGMENTERS)}.")
    content = content or ""
    if method == "paragraphs":
        cuts = [m.end() for m in re.finditer(r"\n[ \t]*\n", content)]
    elif method == "lines":
        cuts = [m.end() for m in re.finditer(r"\n", content)]
    elif method == "markers":
        cuts = [m.start() for m in _MARKER.finditer(content)]
    else:
        cuts = [m.end() for m in _SENTENCE_END.finditer(content)]
    return [Step(i, content[s:e], s, e) for i, (s, e) in enumerate(_spans_between(content, cuts))]


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
    """Segment every message of the given runs (all runs when None) with roles in ``cfg.roles``; return steps stored."""
    from agentark.store import label_tables as q

    messages = q.messages_to_segment(store, run_ids, cfg.roles)
    rows = []
    for m in messages.itertuples():
        steps = segment(m.content or "", cfg.method)
        for sid, s in zip(step_ids(m.message_id, steps), steps):
            rows.append({"step_id": sid, "message_id": m.message_id, "idx": s.idx, "text": s.text,
                         "char_start": s.char_start, "char_end": s.char_end, "segmenter": cfg.method})
    q.replace_steps(store, list(messages["message_id"]), rows)
    return len(rows)
