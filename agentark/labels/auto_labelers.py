"""Automatic step labelers: outcome supervision and the debate signal, pure functions of messages and steps.

Labels are PRM800K-style values (+1 good, 0 neutral, -1 wrong) appended to ``step_labels`` with their
source (``auto:outcome``, ``auto:debate``) and a confidence. Neither labels a step that makes no claim
(``agentark.labels.segment.has_claim``: an opening, the question restated), so a persona paragraph is never
a first error. Design decision: a labeler is a pure function
from messages and steps to label rows, so it is tested on hand-built transcripts, and ``run_auto_labelers``
only appends rows whose value differs from the one already in force for that source, so running a labeler
twice adds nothing.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field

import pandas as pd

from agentark.clock import now
from agentark.errors import ConfigError
from agentark.grading import to_number
from agentark.labels.first_error import (arithmetic_reason, correct_paths, counted_pairs, off_path,
                                         question_values, values)
from agentark.labels.labelers import Labeler, get_labeler, inline_sources, register_labeler
from agentark.labels.segment import has_claim
from agentark.options import ConfigBase, run_ids_field
from agentark.store import Store
from agentark.store import label_tables as q
from agentark.tasks.answers import intermediate_results, reference_solution

OUTCOME_POSITIVE_CONFIDENCE = 0.6  # a right answer can sit on a wrong step (Math-Shepherd's false positives)
OUTCOME_NEGATIVE_CONFIDENCE = 0.7
ARITH_CONFIDENCE = 0.9
DEBATE_CRITIQUE_CONFIDENCE = 0.5
DEBATE_REVISION_CONFIDENCE = 0.6
_RESULT = re.compile(r"=\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_CRITIQUE = re.compile(
    r"\b(wrong|incorrect|mistake|error|miscalculat\w*|should be|should have been|not correct|isn't right|"
    r"is not right|flawed|off by)\b", re.IGNORECASE)
_STEP_REF = re.compile(r"\bstep\s*(\d+)", re.IGNORECASE)
_OWN_MARKER = re.compile(r"^\s*(?:#{1,6}\s*)?(?:\*\*)?step\s*(\d+)", re.IGNORECASE)


def with_claims(messages: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """``steps`` with a boolean ``claim`` column: the stored one, or worked out from each step's text and its
    problem's question when the steps come without it (hand-built frames)."""
    steps = steps.copy()
    if "claim" in steps.columns:
        steps["claim"] = steps["claim"].map(lambda v: True if v is None or pd.isna(v) else bool(v)).astype(bool)
        return steps
    questions = dict(zip(messages["message_id"], messages["question"])) if "question" in messages else {}
    steps["claim"] = [has_claim(str(t), str(questions.get(m) or ""))
                      for t, m in zip(steps["text"], steps["message_id"])]
    return steps


def _results(text: str) -> list[str]:
    """The numbers a step states as results: what follows an '='."""
    return [m.group(1).replace(",", "") for m in _RESULT.finditer(text)]


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def outcome_labels(messages: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """Outcome supervision, one transcript (an agent's message) at a time, each label with its reason (``note``).

    A message whose final answer is correct gets +1 on every claim step. A wrong one gets -1 on the step where it
    leaves every correct path (``agentark.labels.first_error.off_path``): the first value that neither the
    question, the reference solution (GSM8K's ``<<a*b=X>>`` annotations and its text) nor any correct agent's
    message on the same problem (any round) holds; else a retraction of the reached right answer; else the wrong
    final answer alone, said so. A number the question gives is never an error. With no correct path to compare
    with (no reference solution and no correct agent) a wrong message gets nothing.
    """
    out = []
    steps = with_claims(messages, steps)
    by_message = {mid: g.sort_values("idx") for mid, g in steps[steps["claim"]].groupby("message_id")}
    correct_texts: dict[str, list[str]] = {}
    for m in messages.itertuples():
        if _is(m.is_correct, True) and getattr(m, "role", "solver") in ("solver", "solution"):
            correct_texts.setdefault(str(m.problem_id), []).append(str(m.content or ""))
    for m in messages.itertuples():
        mine = by_message.get(m.message_id)
        if mine is None or m.is_correct is None or pd.isna(m.is_correct):
            continue
        if bool(m.is_correct):
            out += [(sid, 1.0, OUTCOME_POSITIVE_CONFIDENCE, None) for sid in mine["step_id"]]
            continue
        solution = reference_solution(json.loads(m.meta_json or "{}"))
        others = correct_texts.get(str(m.problem_id), [])
        if not intermediate_results(solution) and not others:
            continue
        question = str(getattr(m, "question", "") or "")
        known = correct_paths(question, solution, str(m.reference_answer), others)
        answer = getattr(m, "answer", None)
        found = off_path(mine["text"].astype(str).tolist(), known, str(m.reference_answer),
                         None if answer is None or pd.isna(answer) else str(answer), question,
                         counted_pairs([solution, *others]))
        if found is not None:
            i, note, confidence = found
            out.append((mine["step_id"].iloc[i], -1.0, confidence, note))
    return pd.DataFrame(out, columns=["step_id", "value", "confidence", "note"])


def arithmetic_labels(messages: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """-1 on every claim step whose written calculation is wrong, with the calculation and its true value as the
    note (``agentark.labels.first_error.arithmetic_reason``); nothing else: a right calculation is no evidence
    that the step is right."""
    steps = with_claims(messages, steps)
    rows = []
    for s in steps[steps["claim"]].itertuples():
        reason = arithmetic_reason(str(s.text))
        if reason:
            rows.append((s.step_id, -1.0, ARITH_CONFIDENCE, reason))
    return pd.DataFrame(rows, columns=["step_id", "value", "confidence", "note"])


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def debate_labels(messages: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """The debate signal: which earlier step a later round shows to be the likely error (-1).

    In round r > 1, (a) a critique sentence of one agent (it says wrong, mistake, should be, ...) points at
    another agent's round r-1 step it names (``agent_2 ... step 3``: the step that carries the marker "Step 3",
    else the third step that makes a claim) or whose numbers it repeats (two or more in common, one of them the
    step's stated result); (b) an agent that turned a wrong answer into a right one revised the first step whose
    claim changed: a step whose stated results (``= X``), or failing those the numbers it adds to the question,
    no longer appear in its new message. A rule that finds no such step abstains. Steps that make no claim are
    never labelled.
    """
    out: dict[str, tuple[float, float, str]] = {}
    steps = with_claims(messages, steps)
    by_message = {mid: g.sort_values("idx") for mid, g in steps.groupby("message_id")}
    claims = {mid: g[g["claim"]] for mid, g in by_message.items()}
    solvers = messages[messages["role"] == "solver"]
    for (_, _), conv in solvers.groupby(["run_id", "problem_id"]):
        by_round = {r: g for r, g in conv.groupby("round")}
        for rnd, current in by_round.items():
            previous = by_round.get(rnd - 1)
            if rnd <= 1 or previous is None:
                continue
            prev_by_agent = {r.agent: r for r in previous.itertuples()}
            for msg in current.itertuples():
                for sentence in _sentences(msg.content or ""):
                    if not _CRITIQUE.search(sentence):
                        continue
                    for target_agent, target in prev_by_agent.items():
                        if target_agent == msg.agent or target.message_id not in by_message:
                            continue
                        step = _pointed_step(sentence, target_agent, by_message[target.message_id], len(prev_by_agent))
                        if step is not None:
                            step = _origin(step, claims[target.message_id], str(getattr(msg, "question", "") or ""))
                            out.setdefault(step, (-1.0, DEBATE_CRITIQUE_CONFIDENCE,
                                                  f"{msg.agent}'s critique in round {rnd} points at this step"))
                before = prev_by_agent.get(msg.agent)
                if (before is not None and _is(before.is_correct, False) and _is(msg.is_correct, True)
                        and before.message_id in claims):
                    question = str(getattr(msg, "question", "") or "")
                    changed = _changed_claim(claims[before.message_id], msg.content or "", question)
                    if changed is not None:
                        changed = _origin(changed, claims[before.message_id], question)
                        out[changed] = (-1.0, DEBATE_REVISION_CONFIDENCE,
                                        f"{msg.agent} dropped this claim when it turned to the right answer in round "
                                        f"{rnd}")
    return pd.DataFrame([(k, *v) for k, v in out.items()], columns=["step_id", "value", "confidence", "note"])


def _origin(step_id: str, claim_steps: pd.DataFrame, question: str) -> str:
    """The step where the pointed step's results (``= X``; without any, the values it adds to the question) first
    appear in its message: a critique or a revision names
    the conclusion ("Thus, the sum is 63"), but the error is in the step that first wrote 63 ("20 + 23 + 20 =
    63"). A step whose values all come from the question is its own origin."""
    rows = claim_steps.reset_index(drop=True)
    at = rows.index[rows["step_id"] == step_id]
    if len(at) == 0:
        return step_id
    text = str(rows.at[at[0], "text"])
    stated = {v for r in _results(text) if (v := to_number(r)) is not None}
    own = stated or {v for _, v, _ in values(text)} - question_values(question)
    for k in range(at[0]):
        if own & {v for _, v, _ in values(str(rows.at[k, "text"]))}:
            return str(rows.at[k, "step_id"])
    return step_id


def _changed_claim(before: pd.DataFrame, revised: str, question: str) -> str | None:
    """The first claim step of a wrong message whose claim the revised (right) message no longer makes: its stated
    results, or without any the numbers it adds to the question, all absent from the revision; None when every
    claim survives (the revision changed something this rule cannot see, so it abstains)."""
    now_numbers = set().union(*(_numbers(x) for x in _sentences(revised) if not _CRITIQUE.search(x)))
    given = _numbers(question)
    for s in before.itertuples():
        stated = {r.rstrip(".") for r in _results(s.text)}
        claimed = stated or (_numbers(s.text) - given)
        if claimed and not any(_same_number(c, now_numbers) for c in claimed):
            return s.step_id
    return None


def _same_number(value: str, numbers: set[str]) -> bool:
    v = to_number(value)
    return value in numbers or (v is not None and any(to_number(n) == v for n in numbers))


def _is(value, wanted: bool) -> bool:
    """Whether a nullable boolean from a frame is known and equal to ``wanted``."""
    return value is not None and not pd.isna(value) and bool(value) is wanted


def _pointed_step(sentence: str, agent: str, target_steps: pd.DataFrame, n_agents: int) -> str | None:
    named = bool(re.search(re.escape(agent).replace("_", "[ _]?"), sentence, re.IGNORECASE))
    others_named = bool(re.search(r"agent[ _]?\d+", sentence, re.IGNORECASE)) and not named
    if others_named:
        return None
    ref = _STEP_REF.search(sentence)
    if ref and (named or n_agents == 2):
        k = int(ref.group(1))
        marked = [s for s in target_steps.itertuples() if (m := _OWN_MARKER.match(s.text)) and int(m.group(1)) == k]
        if marked:
            # A critique of a step that claims nothing (a restated question) names no error: abstain.
            return str(marked[0].step_id) if marked[0].claim else None
        claims = target_steps[target_steps["claim"]]
        if 0 < k <= len(claims):
            return str(claims.iloc[k - 1]["step_id"])
    wanted = _numbers(sentence)
    best, best_score = None, 1
    for s in target_steps[target_steps["claim"]].itertuples():
        # The critique must repeat a result the step states, not just its operands ("3 * 4 = 14 is wrong").
        if not wanted & set(_results(s.text)):
            continue
        score = len(wanted & _numbers(s.text))
        if score > best_score:
            best, best_score = s.step_id, score
    return best


def _stamp_rows(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["label_id"] = [f"{source}:{secrets.token_hex(10)}" for _ in range(len(frame))]
    frame["source"] = source
    frame["created_at"] = now()
    frame["flag"] = False
    return frame


@dataclass
class AutoLabelConfig(ConfigBase):
    """Which automatic labelers to run on which runs (all runs when ``run_ids`` is empty)."""

    run_ids: list[str] = run_ids_field("Runs whose steps to label; every run when empty.")
    sources: list[str] = field(default_factory=lambda: list(inline_sources()), metadata={
        "help": "automatic labelers to run (default: all)", "flag": "--source", "repeat": True,
        "choices": inline_sources})

    def __post_init__(self) -> None:
        known = inline_sources()
        unknown = [s for s in self.sources if s not in known]
        if unknown or not self.sources:
            raise ConfigError(f"Unknown labeler(s) {unknown or '(none)'} in [[sources]]; choose from: "
                              f"{', '.join(known)} (Monte-Carlo labels run as a job: "
                              "`python -m agentark label-mc`).")


def run_auto_labelers(store: Store, cfg: AutoLabelConfig) -> dict[str, int]:
    """Run the chosen labelers on stored steps; append only labels that change what is in force, and withdraw
    the labels a source gave before that it no longer gives (an older rule's, or a step that lost its claim).

    Returns labels appended per source, and ``withdrawn:SOURCE`` counts where some were withdrawn.
    """
    steps = q.steps_in_context(store, cfg.run_ids or None)
    if steps.empty:
        raise ConfigError("No steps to label: segment the runs first (labeling page, or `python -m agentark segment`).")
    messages = q.transcript_messages(store, cfg.run_ids or None)
    written: dict[str, int] = {}
    for source in cfg.sources:
        fresh = get_labeler(source).run(messages, steps)
        current = q.labels_in_force(store, cfg.run_ids or None, [source])
        stale = current[~current["step_id"].isin(set(fresh["step_id"]))][["step_id"]] if not current.empty else current
        if not fresh.empty and not current.empty:
            merged = fresh.merge(current[["step_id", "value"]], on="step_id", how="left", suffixes=("", "_old"))
            fresh = merged[merged["value"] != merged["value_old"]].drop(columns="value_old")
        written[source] = q.append_labels(store, _stamp_rows(fresh, source)) if not fresh.empty else 0
        if not stale.empty:
            withdrawn = _stamp_rows(stale.assign(value=None, confidence=None), source)
            written[f"withdrawn:{source}"] = q.append_labels(store, withdrawn.assign(note=q.WITHDRAWN))
    return written


ARITH = register_labeler(Labeler(
    "auto:arith", "arithmetic check", "-1 on a step whose written calculation is wrong (a op b = c, chains, "
    "percentages, fractions, stated rounding), with the true value as its reason; no model.",
    config=AutoLabelConfig, run=arithmetic_labels, order=4, precedence=5,
    negatives="the arithmetic check (`python -m agentark autolabel --source auto:arith`)"))
OUTCOME = register_labeler(Labeler(
    "auto:outcome", "outcome", "Outcome supervision: +1 on every step of a right answer, -1 where a wrong answer "
    "leaves every correct path (a value neither the question, the reference nor a correct agent has), with why.",
    config=AutoLabelConfig, run=outcome_labels, order=5, precedence=6))
DEBATE = register_labeler(Labeler(
    "auto:debate", "debate signal", "The debate signal: -1 on the step a later round's critique points at, or the "
    "first claim an agent revised when it turned a wrong answer into a right one.", config=AutoLabelConfig,
    run=debate_labels, order=20, precedence=7,
    negatives="the debate signal (`python -m agentark autolabel --source auto:debate`)"))
