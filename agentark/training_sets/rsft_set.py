"""R-SFT: per problem, the team's final reasoning (a correct, committed solver message of the last round) as a
TRL conversational ``messages`` row."""
from __future__ import annotations

import pandas as pd

from agentark.training_sets.export_config import ExportConfig
from agentark.training_sets.kind_registry import ExportKind, register_export_kind
from agentark.training_sets.message_filters import ROW_COLUMNS, committed, provenance_columns, sft_row
from agentark.training_sets.source_messages import sft_prepare


def rsft_rows(messages: pd.DataFrame, cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per problem: a correct, committed solver message of its last round (the team's final
    reasoning); with the count of last-round correct messages each rule dropped."""
    if messages.empty:
        return pd.DataFrame(columns=ROW_COLUMNS), {}
    last = messages[messages["round"] == messages.groupby(["run_id", "problem_id"])["round"].transform("max")]
    keep, dropped = committed(last, cfg)
    rows = []
    extra = provenance_columns(messages)
    for (run_id, problem_id), g in keep.groupby(["run_id", "problem_id"], sort=True):
        m = g.sort_values("seq").iloc[0]
        rows.append(sft_row(m, extra))
    return pd.DataFrame(rows, columns=ROW_COLUMNS + extra), dropped


RSFT = register_export_kind(ExportKind(
    name="rsft", title="R-SFT: correct final reasoning per problem",
    description="One conversation per problem: the team's final correct reasoning, for supervised fine-tuning.",
    columns=tuple(ROW_COLUMNS), prepare=sft_prepare(rsft_rows), human_corrections=True))
