"""A gold set of debate messages with their first errors marked by hand, and what each labeler makes of it.

The file (``agentark/labels/data/first_errors.jsonl``, one problem a line) holds GSM8K problems with their reference
solution and the messages of a Du et al. debate on each, written in the style of real logs (a persona opening,
``Step k:`` lines or a paragraph, round-2 revisions that quote the other agents):

```
{"id": "kylar", "question": "...", "solution": "... <<60/100*5=3>>3 ... #### 64",
 "messages": [{"agent": "agent_2", "round": 1, "text": "...", "answer": "56", "correct": false,
               "first_error": "5 - 0.6 * 5 = $2", "kind": "setup"}, ...]}
```

``first_error`` quotes the first false statement (its step, once the message is cut by the default segmenter,
is the first error); ``kind`` is one of ``KINDS``. A right message has neither. ``gold_set_figures`` runs every
inline labeler on the set (pure functions: no store, no model) and measures, per labeler and per error kind,
how many wrong messages get a negative (coverage), how many of those have their first negative on the marked
step (precision), the marked first errors found (recall) and the right messages given a negative; and the same
three figures for the PRM export under its defaults (every inline labeler, the default precedence, the
first-error convention), which is what the issue's goal is about.

Design decision: the set is kept apart from the labelers' tests and read as plain data, so a labeler is tuned
on its own unit tests and measured here.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from agentark.errors import ConfigError
from agentark.labels.label_policy import claim_free_resolved, kept_steps, resolve_step_labels
from agentark.labels.labelers import default_precedence, inline_labelers
from agentark.runs.steps import DEFAULT_SEGMENTER, has_claim, segment

GOLD_SET = Path(__file__).resolve().parent / "data" / "first_errors.jsonl"
KINDS = {"setup": "wrong setup", "misread": "misread quantity", "arithmetic": "arithmetic slip",
         "final": "final answer alone"}
EXPORT = "export (CPU defaults)"


@dataclass
class GoldSet:
    """The set as the labelers see it: messages and steps frames, and each wrong message's marked step and kind."""

    messages: pd.DataFrame
    steps: pd.DataFrame
    first_error: dict[str, str]
    kind: dict[str, str]


def load_gold_set(path: Path | str = GOLD_SET) -> GoldSet:
    """Read a gold-set file and cut its messages with the default segmenter; a ``first_error`` that no step holds
    or a ``kind`` outside ``KINDS`` is refused, naming the problem and the agent."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"No gold set at {path}; pass the path of a file in the format of {GOLD_SET.name}.")
    messages, steps, first_error, kinds = [], [], {}, {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        problem = json.loads(line)
        for seq, m in enumerate(problem["messages"]):
            mid = f"{problem['id']}/{m['agent']}/r{m['round']}"
            messages.append({"message_id": mid, "run_id": "gold-set", "problem_id": problem["id"], "agent": m["agent"],
                             "round": int(m["round"]), "role": "solver", "seq": seq, "content": m["text"],
                             "answer": m.get("answer"), "is_correct": bool(m["correct"]),
                             "question": problem["question"], "reference_answer": _answer(problem["solution"]),
                             "meta_json": json.dumps({"answer": problem["solution"]})})
            cut = segment(m["text"], DEFAULT_SEGMENTER)
            for s in cut:
                steps.append({"step_id": f"{mid}#{s.idx}", "message_id": mid, "idx": s.idx, "text": s.text,
                              "claim": has_claim(s.text, problem["question"])})
            if m["correct"]:
                continue
            if m.get("kind") not in KINDS:
                raise ConfigError(f"Gold set {path.name}, problem {problem['id']}, {m['agent']} round {m['round']}: "
                                  f"kind {m.get('kind')!r} is none of {', '.join(KINDS)}.")
            holding = [s for s in cut if m["first_error"] in s.text]
            if not holding:
                raise ConfigError(f"Gold set {path.name}, problem {problem['id']}, {m['agent']} round {m['round']}: "
                                  f"no step holds the first error {m['first_error']!r}.")
            first_error[mid] = f"{mid}#{holding[0].idx}"
            kinds[mid] = m["kind"]
    return GoldSet(pd.DataFrame(messages), pd.DataFrame(steps), first_error, kinds)


def _answer(solution: str) -> str:
    return solution.rsplit("####", 1)[-1].strip().replace(",", "")


@dataclass
class LabelerFigures:
    """One labeler's (or the export's) figures on a gold set."""

    source: str
    wrong: int
    right: int
    with_negative: int
    on_first_error: int
    right_with_negative: int
    recall_by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        return self.with_negative / self.wrong if self.wrong else 0.0

    @property
    def precision(self) -> float | None:
        return self.on_first_error / self.with_negative if self.with_negative else None

    @property
    def false_alarms(self) -> float:
        return self.right_with_negative / self.right if self.right else 0.0

    def line(self) -> str:
        def pct(v: float | None) -> str:
            return "-" if v is None else f"{v:.0%}"

        kinds = ", ".join(f"{KINDS[k]} {n}/{of}" for k, (n, of) in self.recall_by_kind.items())
        return (f"{self.source}: {self.with_negative} of {self.wrong} wrong messages with a negative (coverage "
                f"{pct(self.coverage)}); first negative on the first error in {self.on_first_error} of them "
                f"(precision {pct(self.precision)}); right messages with a negative {self.right_with_negative} of "
                f"{self.right} ({pct(self.false_alarms)}); first errors found by kind: {kinds}")


def _score(source: str, gold: GoldSet, first_negative: dict[str, str], any_negative: set[str]) -> LabelerFigures:
    """Figures from each message's first negative step (wrong messages) and the messages with any negative."""
    correct = dict(zip(gold.messages["message_id"], gold.messages["is_correct"]))
    wrong = [m for m, c in correct.items() if not c]
    hit = {m for m in wrong if first_negative.get(m) == gold.first_error[m]}
    by_kind = {k: (sum(1 for m in wrong if gold.kind[m] == k and m in hit),
                   sum(1 for m in wrong if gold.kind[m] == k)) for k in KINDS}
    return LabelerFigures(source, len(wrong), len(correct) - len(wrong), sum(1 for m in wrong if m in first_negative),
                          len(hit), sum(1 for m, c in correct.items() if c and m in any_negative), by_kind)


def _firsts(gold: GoldSet, negative_steps: set[str]) -> tuple[dict[str, str], set[str]]:
    firsts: dict[str, str] = {}
    for s in gold.steps.sort_values(["message_id", "idx"]).itertuples():
        if s.step_id in negative_steps and s.message_id not in firsts:
            firsts[s.message_id] = s.step_id
    return firsts, set(firsts)


def gold_set_figures(gold: GoldSet) -> list[LabelerFigures]:
    """Every inline labeler's figures on the set, and the PRM export's under its defaults (last)."""
    out, labels = [], []
    for labeler in inline_labelers():
        rows = labeler.run(gold.messages, gold.steps)
        claim = dict(zip(gold.steps["step_id"], gold.steps["claim"]))
        negatives = {s for s, v in zip(rows["step_id"], rows["value"]) if v < 0 and claim.get(s, True)}
        out.append(_score(labeler.source, gold, *_firsts(gold, negatives)))
        labels.append(rows.assign(source=labeler.source))
    out.append(_export_figures(gold, pd.concat(labels, ignore_index=True) if labels else pd.DataFrame()))
    return out


def _export_figures(gold: GoldSet, labels: pd.DataFrame) -> LabelerFigures:
    """What the PRM export keeps under its defaults: each message cut at its first negative (the first-error
    convention), a wrong message with none left out."""
    settings = SimpleNamespace(precedence=default_precedence(), neutral="negative", label_type="hard")
    resolved, claim_free = claim_free_resolved(resolve_step_labels(labels, settings).set_index("step_id"), gold.steps)
    correct = dict(zip(gold.messages["message_id"], gold.messages["is_correct"]))
    firsts, any_negative = {}, set()
    for mid, g in gold.steps.groupby("message_id"):
        ids = g.sort_values("idx")["step_id"].tolist()
        kept, reason = kept_steps(ids, resolved, claim_free, correct[mid], True)
        if reason is not None:
            continue
        bad = [s for s in ids[:kept] if s in resolved.index and not resolved.at[s, "good"]]
        if bad:
            firsts[mid] = bad[0]
            any_negative.add(mid)
    return _score(EXPORT, gold, firsts, any_negative)


def gold_set_table(figures: list[LabelerFigures]) -> pd.DataFrame:
    """One row per labeler (and the export): coverage, precision, right messages with a negative, and the first
    errors found per kind (the Label page's Summary shows it)."""
    rows = []
    for f in figures:
        row = {"source": f.source, "coverage": f.coverage, "precision": f.precision,
               "right with a negative": f.false_alarms}
        row.update({f"recall: {KINDS[k]}": (n / of if of else None) for k, (n, of) in f.recall_by_kind.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def gold_set_dict(figures: list[LabelerFigures]) -> list[dict]:
    return [{**asdict(f), "coverage": f.coverage, "precision": f.precision, "false_alarms": f.false_alarms}
            for f in figures]
