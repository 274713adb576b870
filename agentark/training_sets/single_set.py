"""Single-agent samples: the distinct correct, committed answers of runs in which one model answers alone (a
study's single-agent arm samples the base model with ``self_consistency``), as TRL conversational ``messages``
rows.

Design decision: the rows are DA's (``da_set.da_rows``: distinct correct trajectories per problem, up to
``max_per_problem``), but the kind is its own, so an export of a model's own samples is recorded as what it is
and never read as a debate's DA set.
"""
from __future__ import annotations

from agentark.training_sets.da_set import da_rows
from agentark.training_sets.kind_registry import ExportKind, register_export_kind
from agentark.training_sets.message_filters import ROW_COLUMNS
from agentark.training_sets.source_messages import sft_prepare

SINGLE = register_export_kind(ExportKind(
    name="single", title="Single-agent samples: distinct correct answers",
    description="Up to max_per_problem distinct correct answers per problem from runs of one model answering "
                "alone (a study's single-agent self-distillation arm), for supervised fine-tuning.",
    columns=tuple(ROW_COLUMNS), prepare=sft_prepare(da_rows)))
