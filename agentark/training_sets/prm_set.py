"""PRM: TRL stepwise supervision (``prompt`` / ``completions`` / ``labels``, plus each label's source) under the
label policy of ``agentark.labels.label_policy``; its figures include the labeler report of its runs."""
from __future__ import annotations

import pandas as pd

from agentark.labels.label_policy import (
    DROP_FIRST_ERROR_UNKNOWN,
    DROP_UNLABELLED,
    claim_free_resolved,
    consensus_labels,
    kept_steps,
    prm_figures,
    resolve_step_labels,
    step_source,
)
from agentark.labels.labeler_report import labeler_report
from agentark.runs.degenerate import first_degenerate_step
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.training_sets.export_config import ExportConfig
from agentark.training_sets.kind_registry import ExportKind, register_export_kind
from agentark.training_sets.export_summary import ExportSummary
from agentark.training_sets.message_filters import without_degenerate
from agentark.training_sets.source_messages import source_messages

PRM_COLUMNS = ["prompt", "completions", "labels", "label_sources", "run_id", "problem_id", "message_id"]
DROP_NOT_SEGMENTED = "not segmented into steps"
# Imported labeled sets are stored as 'solution' messages: step data for a PRM, not debate turns.
PRM_ROLES = ("solver", "solution")


def prm_rows(messages: pd.DataFrame, steps: pd.DataFrame, labels: pd.DataFrame,
             cfg: ExportConfig, cut: dict[str, int] | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Stepwise supervision rows under the config's policy, and how many messages each rule dropped.

    Unless degenerate text is kept (``drop_degenerate`` off), a message is never exported past its first
    degenerate step (``agentark.runs.degenerate.first_degenerate_step``): a row that would reach it is cut before
    it when the steps before it are known good (a right answer), else left out; ``cut`` counts the cut ones per
    reason."""
    resolved, claim_free = claim_free_resolved(resolve_step_labels(labels, cfg).set_index("step_id"), steps)
    cast = bool if cfg.label_type == "hard" else float
    correct = dict(zip(messages["message_id"], messages["is_correct"]))
    mine = steps[steps["message_id"].isin(correct)]
    dropped = {DROP_NOT_SEGMENTED: len(correct) - mine["message_id"].nunique()}
    dropped.update({DROP_FIRST_ERROR_UNKNOWN: 0} if cfg.first_error else {})
    dropped[DROP_UNLABELLED] = 0
    rows = []
    for message_id, g in mine.groupby("message_id", sort=False):
        ids = g.sort_values("idx")["step_id"].tolist()
        texts = g.sort_values("idx")["text"].tolist()
        kept, reason = kept_steps(ids, resolved, claim_free, correct[message_id], cfg.first_error)
        bad = first_degenerate_step(texts, str(g.iloc[0].question or "")) if cfg.drop_degenerate else None
        if reason is None and bad is not None and kept > bad[0]:
            first_bad = next((i for i, s in enumerate(ids[:kept]) if s in resolved.index
                              and not resolved.at[s, "good"]), None)
            if bad[0] > 0 and first_bad is None and correct[message_id] is True:
                kept = bad[0]
                if cut is not None:
                    cut[bad[1]] = cut.get(bad[1], 0) + 1
            else:
                reason = bad[1]
                dropped.setdefault(reason, 0)
        if reason is not None:
            dropped[reason] += 1
            continue
        ids, texts = ids[:kept], texts[:kept]
        first = g.iloc[0]
        rows.append({"prompt": first.question, "completions": texts,
                     "labels": [cast(resolved.at[s, "label"]) if s in resolved.index else cast(1) for s in ids],
                     "label_sources": [step_source(s, resolved, claim_free) for s in ids],
                     "run_id": first.run_id, "problem_id": first.problem_id, "message_id": message_id})
    return pd.DataFrame(rows, columns=PRM_COLUMNS), {k: v for k, v in dropped.items() if v}


def prepare_prm(store: Store, cfg: ExportConfig) -> tuple[pd.DataFrame, ExportSummary]:
    runs = cfg.run_ids or None
    messages, degenerate = without_degenerate(source_messages(store, cfg, PRM_ROLES), cfg)
    labels, consensus = q.labels_in_force(store, runs), None
    if cfg.policy == "consensus":
        labels, consensus = consensus_labels(labels)
    cut: dict[str, int] = {}
    rows, dropped = prm_rows(messages, q.steps_in_context(store, runs), labels, cfg, cut)
    report = labeler_report(store, runs)
    figures = prm_figures(rows, cfg.balance_threshold)
    return rows, ExportSummary(cfg.kind, len(rows), {**degenerate, **dropped}, figures, consensus,
                               report.to_dict(), report.lines(), cut)


PRM = register_export_kind(ExportKind(
    name="prm", title="PRM: step supervision",
    description="Each trajectory's steps with one label per step (TRL stepwise supervision) under the label "
                "policy below, for a process reward model.",
    columns=tuple(PRM_COLUMNS), prepare=prepare_prm))
