"""Corrections people write: on a step marked wrong, the step that should have been there (and optionally the rest).

PRM800K's labelers could write the step that should have been there; critique/correction traces are what our
users curate. A correction is stored append-only with who, when and the step it replaces (its id, text and
offsets). The one design decision: the corrected trajectory is always *the original message up to the replaced
step, then the person's step, then the person's rest* — never the original text after the replaced step, which
builds on the error. Without a rest, the trajectory ends at the corrected step: a preference pair then compares
the two steps alone, and an SFT export keeps it only if it ends with the reference answer.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import pandas as pd

from agentark.errors import ConfigError
from agentark.grading import explicit_answer, is_correct
from agentark.store import Store
from agentark.store import correction_tables as q

MAX_CORRECTION_CHARS = 20_000  # a step and the rest of a solution; anything longer is a paste gone wrong


def new_correction_id() -> str:
    return f"c:{secrets.token_hex(10)}"


@dataclass(frozen=True)
class Correction:
    """One person's corrected step for a step they mark wrong, and optionally the rest of the solution."""

    step_id: str
    text: str
    annotator: str
    rest: str | None = None
    note: str | None = None
    correction_id: str = field(default_factory=new_correction_id)

    def __post_init__(self) -> None:
        if not (self.annotator or "").strip():
            raise ConfigError("Corrections need an annotator: enter your name in the sidebar ([[annotator]]).")
        if not (self.text or "").strip():
            raise ConfigError("A correction needs the corrected step's text.")
        if len(self.text) + len(self.rest or "") > MAX_CORRECTION_CHARS:
            raise ConfigError(f"A correction holds at most {MAX_CORRECTION_CHARS:,} characters.")


def correction_rows(store: Store, corrections: list[Correction], at) -> pd.DataFrame:
    """Rows for ``step_corrections``, each with a copy of the step it replaces; an unknown step is refused."""
    if not corrections:
        return pd.DataFrame(columns=q.CORRECTION_COLUMNS)
    steps = q.steps_by_id(store, sorted({c.step_id for c in corrections})).set_index("step_id")
    missing = [c.step_id for c in corrections if c.step_id not in steps.index]
    if missing:
        raise ConfigError(f"No stored step {missing[0]!r}: the message was segmented again; reload the queue.")
    same = [c.step_id for c in corrections if not (c.rest or "").strip()
            and c.text.strip() == str(steps.at[c.step_id, "text"]).strip()]
    if same:
        raise ConfigError(f"The correction of step {same[0]!r} repeats the step as it is; write the corrected step.")
    return pd.DataFrame([{
        "correction_id": c.correction_id, "step_id": c.step_id, "message_id": steps.at[c.step_id, "message_id"],
        "original_text": steps.at[c.step_id, "text"], "char_start": int(steps.at[c.step_id, "char_start"]),
        "char_end": int(steps.at[c.step_id, "char_end"]), "text": c.text.strip(),
        "rest": (c.rest or "").strip() or None, "note": c.note or None, "annotator": c.annotator.strip(),
        "created_at": at} for c in corrections], columns=q.CORRECTION_COLUMNS)


def step_corrections(store: Store, step_ids: list[str]) -> pd.DataFrame:
    return q.step_corrections(store, step_ids)


def problem_corrections(store: Store, run_id: str, problem_id: str) -> pd.DataFrame:
    return q.problem_corrections(store, run_id, problem_id)


def _rest(row) -> str | None:
    rest = getattr(row, "rest", None)
    return None if rest is None or pd.isna(rest) else str(rest)


def _joined(*parts: str | None) -> str:
    """Text pieces joined as a solution's paragraphs are: the prefix keeps its own whitespace."""
    out = ""
    for part in parts:
        if part:
            out = out + part if (not out or out[-1].isspace()) else out + "\n\n" + part
    return out


def corrected_text(content: str, char_start: int, text: str, rest: str | None) -> str:
    """The original message up to the replaced step, the corrected step, then the person's rest (if any)."""
    return _joined(content[:char_start], text, rest)


def original_continuation(content: str, char_start: int, char_end: int, with_rest: bool) -> str:
    """What the correction replaces, from the same point: the wrong step, and the original rest when the person
    wrote a rest too (so a pair compares like with like)."""
    return content[:char_start] + (content[char_start:] if with_rest else content[char_start:char_end])


DROP_CORRECTION_NO_ANSWER = "corrected trajectory without an explicit final answer (write the rest of the solution)"
DROP_CORRECTION_WRONG = "corrected trajectory whose final answer is not the reference answer"


def corrected_messages(corrections: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Corrections (``corrections_in_context`` rows) as messages an SFT export reads: the corrected text,
    graded against the reference answer; those without an explicit answer or with a wrong one are dropped and
    counted. A message corrected more than once yields one trajectory per correction (DA keeps distinct ones)."""
    columns = ["message_id", "run_id", "problem_id", "agent", "round", "role", "seq", "content", "answer",
               "is_correct", "finish_reason", "question", "reference_answer", "correction_id", "annotator"]
    rows, dropped = [], {DROP_CORRECTION_NO_ANSWER: 0, DROP_CORRECTION_WRONG: 0}
    for c in corrections.itertuples():
        text = corrected_text(c.content or "", int(c.char_start), c.text, _rest(c))
        answer = explicit_answer(text)
        if answer is None:
            dropped[DROP_CORRECTION_NO_ANSWER] += 1
            continue
        if not is_correct(answer, c.reference_answer):
            dropped[DROP_CORRECTION_WRONG] += 1
            continue
        rows.append({"message_id": c.message_id, "run_id": c.run_id, "problem_id": c.problem_id, "agent": c.agent,
                     "round": c.round, "role": "solver", "seq": c.seq, "content": text, "answer": answer,
                     "is_correct": True, "finish_reason": "stop", "question": c.question,
                     "reference_answer": c.reference_answer, "correction_id": c.correction_id,
                     "annotator": c.annotator})
    return pd.DataFrame(rows, columns=columns), {k: v for k, v in dropped.items() if v}


PAIR_COLUMNS = ["prompt", "chosen", "rejected", "run_id", "problem_id", "message_id", "step_id", "correction_id",
                "annotator"]


def preference_pairs(corrections: pd.DataFrame, prompt) -> pd.DataFrame:
    """TRL's conversational preference rows: ``prompt`` (the solve prompt's chat), ``chosen`` (the corrected
    continuation) and ``rejected`` (the original one), both from the same point of the same message, so the
    shared prefix cancels in a DPO loss; plus the ids that trace each pair back to its correction."""
    rows = []
    for c in corrections.itertuples():
        content = c.content or ""
        chosen = corrected_text(content, int(c.char_start), c.text, _rest(c))
        rejected = original_continuation(content, int(c.char_start), int(c.char_end), _rest(c) is not None)
        rows.append({"prompt": prompt(c.question), "chosen": [{"role": "assistant", "content": chosen}],
                     "rejected": [{"role": "assistant", "content": rejected}], "run_id": c.run_id,
                     "problem_id": c.problem_id, "message_id": c.message_id, "step_id": c.step_id,
                     "correction_id": c.correction_id, "annotator": c.annotator})
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)
