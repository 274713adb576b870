"""DA (trajectory augmentation): up to ``max_per_problem`` distinct correct, committed trajectories per problem,
from any agent and round, as TRL conversational ``messages`` rows."""
from __future__ import annotations

import re

import pandas as pd

from agentark.training_sets.export_config import ExportConfig
from agentark.training_sets.kind_registry import ExportKind, register_export_kind
from agentark.training_sets.message_filters import ROW_COLUMNS, committed, provenance_columns, sft_row
from agentark.training_sets.source_messages import sft_prepare


def normalized_text(text: str) -> str:
    """Text compared for duplicates: lower case, letters, digits and operators only."""
    return re.sub(r"[^a-z0-9=+\-*/.]", "", (text or "").lower())


def da_rows(messages: pd.DataFrame, cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """Distinct correct, committed trajectories per problem (any agent, any round), up to
    ``cfg.max_per_problem`` each; with the count of correct messages each rule dropped."""
    rows = []
    extra = provenance_columns(messages)
    right, dropped = committed(messages, cfg)
    for problem_id, g in right.groupby("problem_id", sort=True):
        seen: set[str] = set()
        for m in g.sort_values(["round", "run_id", "seq"], ascending=[False, True, True]).itertuples():
            key = normalized_text(m.content)
            if key in seen:
                continue
            seen.add(key)
            rows.append(sft_row(m, extra))
            if len(seen) >= cfg.max_per_problem:
                break
    return pd.DataFrame(rows, columns=ROW_COLUMNS + extra), dropped


DA = register_export_kind(ExportKind(
    name="da", title="DA: distinct correct trajectories",
    description="Up to max_per_problem distinct correct trajectories per problem (any agent, any round), for "
                "supervised fine-tuning on more than the final answer.",
    columns=tuple(ROW_COLUMNS), prepare=sft_prepare(da_rows), human_corrections=True))
