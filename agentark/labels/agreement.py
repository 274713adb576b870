"""Agreement on step labels: Cohen's kappa and confusion tables between annotators, and of each source with people.

Design decision: values are compared by their sign (+1, 0, -1), over the steps both raters labelled, using
the label in force for each source (a person's pairs use every label each of them gave).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from agentark.labels.human_labels import SOURCE as HUMAN
from agentark.store import Store
from agentark.store import label_tables as q


def _sign(v: float) -> int:
    return int((v > 0) - (v < 0))


def cohen_kappa(a: list[int], b: list[int]) -> float | None:
    """Cohen's kappa of two raters over the same items; None without items, 1.0 when both are constant and equal."""
    if len(a) != len(b):
        raise ValueError("both raters must rate the same items")
    n = len(a)
    if n == 0:
        return None
    cats = sorted(set(a) | set(b))
    observed = sum(x == y for x, y in zip(a, b)) / n
    expected = sum((a.count(c) / n) * (b.count(c) / n) for c in cats)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1 - expected)


def confusion(a: list[int], b: list[int], name_a: str, name_b: str) -> pd.DataFrame:
    cats = [-1, 0, 1]
    table = pd.crosstab(pd.Series(a, name=name_a), pd.Series(b, name=name_b))
    return table.reindex(index=cats, columns=cats, fill_value=0)


@dataclass
class Agreement:
    rater_a: str
    rater_b: str
    n: int
    kappa: float | None
    table: pd.DataFrame


def agreement(store: Store, run_ids: list[str] | None = None) -> list[Agreement]:
    """Kappa and confusion table for every pair of annotators, then for each other source against people."""
    result: list[Agreement] = []
    people = q.human_labels_by_annotator(store, run_ids)
    names = sorted(people["annotator"].dropna().unique()) if not people.empty else []
    for i, x in enumerate(names):
        for y in names[i + 1:]:
            both = people[people.annotator == x].merge(people[people.annotator == y], on="step_id")
            a = [_sign(v) for v in both["value_x"]]
            b = [_sign(v) for v in both["value_y"]]
            result.append(Agreement(x, y, len(a), cohen_kappa(a, b), confusion(a, b, x, y)))
    labels = q.labels_in_force(store, run_ids)
    human = labels[labels["source"] == HUMAN][["step_id", "value"]]
    for source in sorted(s for s in labels["source"].unique() if s != HUMAN):
        mine = labels[labels["source"] == source][["step_id", "value"]]
        both = mine.merge(human, on="step_id", suffixes=("_a", "_h"))
        a = [_sign(v) for v in both["value_a"]]
        h = [_sign(v) for v in both["value_h"]]
        result.append(Agreement(source, HUMAN, len(a), cohen_kappa(a, h), confusion(a, h, source, HUMAN)))
    return result
