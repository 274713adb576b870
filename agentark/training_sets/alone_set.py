"""Round 1 alone: a debate's correct, committed round-1 answers (every agent answering alone, before it has read
anyone) as TRL conversational ``messages`` rows, each naming the agent that wrote it.

A debate holds its own control: its first round is the teacher answering without debating. A study's
teacher-alone arm trains on these rows (matched to a debate arm's volume, from one speaker: ``agent`` says
which), beside the debate arms trained on the final round.
"""
from __future__ import annotations

import pandas as pd

from agentark.training_sets.da_set import normalized_text
from agentark.training_sets.export_config import ExportConfig
from agentark.training_sets.kind_registry import ExportKind, register_export_kind
from agentark.training_sets.message_filters import ROW_COLUMNS, committed, provenance_columns, sft_row
from agentark.training_sets.source_messages import sft_prepare

COLUMNS = ROW_COLUMNS + ["agent"]


def alone_rows(messages: pd.DataFrame, cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """Per problem and agent, its round-1 answer when correct and committed (an agent's copy of another agent's
    text on the same problem is kept once); with the count of correct round-1 messages each rule dropped."""
    if messages.empty:
        return pd.DataFrame(columns=COLUMNS), {}
    keep, dropped = committed(messages[messages["round"] == 1], cfg)
    extra = provenance_columns(messages)
    rows = []
    for problem_id, g in keep.groupby("problem_id", sort=True):
        seen: set[str] = set()
        for m in g.sort_values(["run_id", "seq"]).itertuples():
            key = normalized_text(m.content)
            if key in seen:
                continue
            seen.add(key)
            rows.append({**sft_row(m, extra), "agent": m.agent})
    return pd.DataFrame(rows, columns=COLUMNS + extra), dropped


ALONE = register_export_kind(ExportKind(
    name="alone", title="Round 1 alone: each agent's correct first answer",
    description="Every agent's correct, committed round-1 answer (given before it read anyone), naming the agent: "
                "the teacher alone, for a study's teacher-alone arm or any SFT.",
    columns=tuple(COLUMNS), prepare=sft_prepare(alone_rows)))
