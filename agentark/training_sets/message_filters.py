"""Which messages a student may learn from, and the chat rows R-SFT and DA make of them.

R-SFT and DA keep by default only messages that ended on their own (not cut off at the token limit) and commit
to an explicit final answer; R-SFT, DA and PRM leave out degenerate text (``agentark.runs.degenerate``: loops,
token salad, copies of another agent). Each rule's count of dropped messages goes into the export's summary.
"""
from __future__ import annotations

import pandas as pd

from agentark.debate import solve_messages
from agentark.grading import explicit_answer
from agentark.training_sets.export_config import ExportConfig

ROW_COLUMNS = ["messages", "run_id", "problem_id", "message_id"]
DROP_TRUNCATED = "cut off at the token limit"
DROP_NO_ANSWER = "no explicit final answer (boxed, 'The answer is ...' or '#### ...')"


def chat(question: str, answer: str) -> list[dict]:
    """TRL's conversational ``messages``: the studio's solve prompt (the one the student is evaluated with) and
    the answer as the assistant turn."""
    return solve_messages(question) + [{"role": "assistant", "content": answer}]


def provenance_columns(messages: pd.DataFrame) -> list[str]:
    """Columns a row keeps to trace it back: the correction and who wrote it, for corrected trajectories."""
    return [c for c in ("correction_id", "annotator") if c in messages]


def sft_row(message, extra: list[str]) -> dict:
    """One TRL conversational row from a message (a row of ``messages``), with its ids and provenance columns."""
    return {"messages": chat(message.question, message.content), "run_id": message.run_id,
            "problem_id": message.problem_id, "message_id": message.message_id,
            **{c: getattr(message, c) for c in extra}}


def committed(messages: pd.DataFrame, cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """Correct messages an SFT student may learn from under the config, and how many each rule dropped.

    A message whose finish reason is unknown (imported from a tool that does not record it) is not taken
    for a truncated one; the explicit-answer rule still applies to it.
    """
    right = messages[messages["is_correct"].fillna(False).astype(bool)]
    dropped: dict[str, int] = {}
    if cfg.require_finished:
        cut = right["finish_reason"].eq("length") if "finish_reason" in right else pd.Series(False, index=right.index)
        dropped[DROP_TRUNCATED] = int(cut.sum())
        right = right[~cut]
    if cfg.require_explicit_answer:
        bare = right["content"].map(lambda text: explicit_answer(text or "") is None).astype(bool)
        dropped[DROP_NO_ANSWER] = int(bare.sum())
        right = right[~bare]
    right, degenerate = without_degenerate(right, cfg)
    dropped.update(degenerate)
    return right, {rule: n for rule, n in dropped.items() if n}


def without_degenerate(messages: pd.DataFrame, cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """Messages without the degenerate ones (their ``degenerate`` column, set by ``source_messages`` over whole
    debates, since a copy is judged against the other agents), and how many each reason left out."""
    if not cfg.drop_degenerate or "degenerate" not in messages or messages.empty:
        return messages, {}
    bad = messages["degenerate"].notna()
    return messages[~bad], {str(k): int(v) for k, v in messages.loc[bad, "degenerate"].value_counts().items()}
