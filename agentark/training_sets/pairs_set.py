"""Pairs: people's corrected steps (``agentark.labels.corrections``) as TRL conversational preference pairs,
``prompt`` / ``chosen`` / ``rejected``, both continuations from the same point of the same message."""
from __future__ import annotations

import pandas as pd

from agentark.debate import solve_messages
from agentark.labels.corrections import PAIR_COLUMNS, preference_pairs
from agentark.store import Store
from agentark.training_sets.export_config import ExportConfig
from agentark.training_sets.kind_registry import ExportKind, register_export_kind
from agentark.training_sets.export_summary import ExportSummary
from agentark.training_sets.source_messages import corrections_of, source_messages


def prepare_pairs(store: Store, cfg: ExportConfig) -> tuple[pd.DataFrame, ExportSummary]:
    rows = preference_pairs(corrections_of(store, cfg, source_messages(store, cfg)), solve_messages)
    return rows, ExportSummary(cfg.kind, len(rows))


PAIRS = register_export_kind(ExportKind(
    name="pairs", title="Pairs: people's corrected steps as preference pairs (TRL prompt/chosen/rejected)",
    description="One preference pair per correction people wrote on the Label steps page: the corrected "
                "continuation chosen, the original rejected (DPO and other preference trainers).",
    columns=tuple(PAIR_COLUMNS), prepare=prepare_pairs, human_corrections=True))
