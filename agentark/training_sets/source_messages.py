"""The messages a training set is made from: curated (an excluded problem or message is dropped), marked
degenerate over whole debates, filtered by ``corrections`` (only problems with a correction, or none), and
people's corrections of the messages kept (``agentark.labels.corrections``)."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from agentark.labels.corrections import corrected_messages
from agentark.runs.degenerate import degenerate_messages
from agentark.store import Store
from agentark.store import correction_tables as ct
from agentark.store import label_tables as q
from agentark.store.trace_tables import corrected_problems
from agentark.training_sets.export_config import ExportConfig
from agentark.training_sets.export_summary import ExportSummary


def source_messages(store: Store, cfg: ExportConfig, roles: tuple[str, ...] = ("solver",)) -> pd.DataFrame:
    """The curated messages of the config's runs in these roles, with their ``degenerate`` reason when
    ``drop_degenerate`` is on, minus the problems the ``corrections`` filter leaves out."""
    runs = cfg.run_ids or None
    messages = q.curated_messages(store, runs, roles)
    if cfg.drop_degenerate:
        messages = messages.assign(degenerate=degenerate_messages(messages) if len(messages) else None)
    if cfg.corrections in ("only", "none"):
        corrected = corrected_problems(store, runs)
        has = pd.Series([k in corrected for k in zip(messages["run_id"], messages["problem_id"])], dtype=bool)
        messages = messages[has.values if cfg.corrections == "only" else ~has.values]
    return messages


def corrections_of(store: Store, cfg: ExportConfig, messages: pd.DataFrame) -> pd.DataFrame:
    """People's corrections of messages curation keeps (an excluded message's corrections go with it)."""
    fixes = ct.corrections_in_context(store, cfg.run_ids or None)
    return fixes[fixes["message_id"].isin(set(messages["message_id"]))]


def sft_messages(store: Store, cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """The solver messages an SFT set picks from, or with ``corrections = "human"`` people's corrected
    trajectories instead (graded against the reference answer like any message); with the count of
    corrections each rule dropped."""
    messages = source_messages(store, cfg)
    if cfg.corrections != "human":
        return messages, {}
    return corrected_messages(corrections_of(store, cfg, messages))


def sft_prepare(rows: Callable[[pd.DataFrame, ExportConfig], tuple[pd.DataFrame, dict[str, int]]]
                ) -> Callable[[Store, ExportConfig], tuple[pd.DataFrame, ExportSummary]]:
    """An SFT kind's ``prepare``: its ``rows`` over the curated (and, if asked, corrected) messages, with what
    both steps dropped."""
    def prepare(store: Store, cfg: ExportConfig) -> tuple[pd.DataFrame, ExportSummary]:
        messages, dropped_fixes = sft_messages(store, cfg)
        kept, dropped = rows(messages, cfg)
        return kept, ExportSummary(cfg.kind, len(kept), {**dropped_fixes, **dropped})

    return prepare
