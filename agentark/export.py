"""Training sets from the store: R-SFT, trajectory augmentation (DA), PRM step supervision, transcripts, and
preference pairs from people's corrections.

Every export honours curation (an excluded problem or message is dropped) and is an immutable file: it
is written under a temporary name, hashed (sha256), renamed, made read-only, never overwritten, and
recorded in the ``exports`` table with the config that produced it. Formats are the ones trainers read:
TRL conversational ``messages`` for SFT (the user turn is the studio's solve prompt, the one the student
will be evaluated with) and TRL stepwise supervision ``prompt`` / ``completions`` / ``labels`` for a
PRM, as Parquet or JSONL that ``datasets.load_dataset`` opens.

Design decision: every rule that decides what a row holds is a field of :class:`ExportConfig`, stored with
the export together with the figures it produced (``exports.filters_json``: the config plus ``summary``).
For PRM labels, each step's label comes from the first source in ``precedence`` that has one in force
(people before automatic sources by default); a neutral (0) counts as positive or negative as ``neutral``
says; ``labels`` holds booleans (hard) or the Monte-Carlo fraction (soft; 1.0/0.0 for sources without one).
With ``first_error`` (the default; PRM800K's and ProcessBench's convention) a trajectory whose first wrong
step is known keeps the steps before it as good, that step as bad, and drops the rest; a trajectory with a
right final answer and no bad step counts every step good; steps whose label comes from this convention
rather than from a labeler have the source ``policy:first-error``. Without it, a message is kept only when
every step has a label. A step that makes no claim (an opening, the question restated) is never a first error:
an automatic label on it is ignored and it counts good (source ``policy:claim-free``) unless a person or an
imported set labelled it. The ``consensus`` policy keeps a Monte-Carlo or judge label only where the other
agrees (Qwen's "Lessons of developing PRMs"). R-SFT and DA keep by default only messages that ended on their
own (not cut off at the token limit) and commit to an explicit final answer; R-SFT, DA and PRM leave out
degenerate text (``agentark.runs.degenerate``: loops, token salad, copies of another agent). A PRM export's
figures include the labeler report of its runs (``agentark.labels.labeler_report``).
People's corrections (``agentark.labels.corrections``) become corrected trajectories for R-SFT/DA with
``corrections="human"`` (graded against the reference answer like any message) and TRL conversational
preference pairs (``prompt``/``chosen``/``rejected``) with ``pairs``.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agentark import config
from agentark.clock import new_id
from agentark.debate import solve_messages
from agentark.errors import ConfigError
from agentark.ids import file_sha256
from agentark.grading import explicit_answer
from agentark.labels.labeler_report import labeler_report
from agentark.options import ConfigBase, check_bounds, run_ids_field
from agentark.runs.degenerate import degenerate_messages
from agentark.store import Store
from agentark.labels.corrections import corrected_messages, preference_pairs
from agentark.store import correction_tables as ct
from agentark.store import label_tables as q
from agentark.store import run_tables
from agentark.store.eval_tables import export_row
from agentark.store.trace_tables import corrected_problems

CORRECTION_FILTERS = ("any", "only", "none", "human")
KINDS = ("rsft", "da", "prm", "transcripts", "pairs")
FORMATS = ("parquet", "jsonl")
DEFAULT_PRECEDENCE = ["human", "import:prm800k", "import:math-shepherd", "auto:judge", "auto:mc", "auto:outcome",
                      "auto:debate"]
FIRST_ERROR_SOURCE = "policy:first-error"
CLAIM_FREE_SOURCE = "policy:claim-free"
POLICIES = ("precedence", "consensus")
POLICY_NAMES = {"precedence": "precedence: the first listed source with a label wins",
                "consensus": "consensus: keep a Monte-Carlo or judge label only where the other agrees"}
CONSENSUS_SOURCES = ("auto:mc", "auto:judge")
DEFAULT_BALANCE_THRESHOLD = 0.10
# The labelers that add negative step labels, in the order a person would reach for them.
NEGATIVE_LABELERS = (
    "Monte-Carlo rollouts (`python -m agentark label-mc --run RUN_ID`, or Start on the Label steps page)",
    "the debate signal (`python -m agentark autolabel --source auto:debate`)",
    "an LLM judge (`python -m agentark label-judge --engine openai --base-url URL --model MODEL`)",
    "people on the Label steps page (wrong trajectories whose first error is unknown)",
)


KIND_NAMES = {"rsft": "R-SFT: correct final reasoning per problem", "da": "DA: distinct correct trajectories",
              "prm": "PRM: step supervision", "transcripts": "Transcripts: every message",
              "pairs": "Pairs: people's corrected steps as preference pairs (TRL prompt/chosen/rejected)"}
CORRECTION_NAMES = {"any": "all problems", "only": "only problems with a correction",
                    "none": "only problems without a correction",
                    "human": "people's corrected trajectories instead of the messages (R-SFT/DA)"}


@dataclass
class ExportConfig(ConfigBase):
    """What to export and how; stored as the export's ``filters_json``."""

    kind: str = field(default="prm", metadata={"help": "the training set to write", "choices": KINDS,
                                               "labels": KIND_NAMES, "positional": True})
    run_ids: list[str] = run_ids_field("Runs to export; every run when empty.")
    format: str | None = field(default=None, metadata={
        "help": "file format (default: parquet, or jsonl for transcripts, whose records nest)", "choices": FORMATS})
    max_per_problem: int = field(default=4, metadata={"help": "DA: distinct trajectories per problem", "min": 1})
    precedence: list[str] = field(default_factory=lambda: list(DEFAULT_PRECEDENCE), metadata={
        "help": "PRM: label sources, winner first", "suggest": lambda: DEFAULT_PRECEDENCE})
    policy: str = field(default="precedence", metadata={
        "help": "PRM: precedence alone, or consensus (a Monte-Carlo or judge label counts only where the other agrees)",
        "choices": POLICIES, "labels": POLICY_NAMES})
    neutral: str = field(default="positive", metadata={"help": "PRM: how a neutral (0) label counts",
                                                       "choices": ("positive", "negative")})
    label_type: str = field(default="hard", metadata={
        "help": "PRM: hard labels, or soft ones (the Monte-Carlo fraction)", "choices": ("hard", "soft"),
        "flag": "--soft", "flag_value": "soft"})
    first_error: bool = field(default=True, metadata={
        "help": "PRM: PRM800K's first-error convention (steps before a known first error good, it bad, the rest "
                "dropped; right answers all good); off: only messages with every step labelled"})
    balance_threshold: float = field(default=DEFAULT_BALANCE_THRESHOLD, metadata={
        "help": "PRM: warn when negatives are under this share of steps"})
    require_finished: bool = field(default=True, metadata={
        "help": "R-SFT/DA: leave out messages cut off at the token limit", "flag": "--keep-truncated",
        "flag_value": False})
    require_explicit_answer: bool = field(default=True, metadata={
        "help": "R-SFT/DA: leave out messages without an explicit final answer (boxed, 'The answer is', ####)",
        "flag": "--keep-implicit", "flag_value": False})
    drop_degenerate: bool = field(default=True, metadata={
        "help": "R-SFT/DA/PRM: leave out degenerate messages (repetition loops, token salad, copies of another "
                "agent's message)", "flag": "--keep-degenerate", "flag_value": False})
    corrections: str = field(default="any", metadata={
        "help": "ablations: only problems whose debate has a correction (an agent went wrong -> right), or none "
                "of them; human: R-SFT/DA from the trajectories people corrected on the Label steps page (the "
                "message up to the wrong step, the person's step and rest), kept when they reach the reference "
                "answer", "choices": CORRECTION_FILTERS, "labels": CORRECTION_NAMES})

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"Unknown export '{self.kind}'; set [[kind]] to one of: {', '.join(KINDS)}.")
        if self.format is None:
            self.format = "jsonl" if self.kind == "transcripts" else "parquet"
        if self.format not in FORMATS:
            raise ConfigError(f"Unknown format '{self.format}'; set [[format]] to parquet or jsonl.")
        check_bounds(ExportConfig, self)
        if self.neutral not in ("positive", "negative"):
            raise ConfigError(f"[[neutral]] must be 'positive' or 'negative' (got '{self.neutral}').")
        if self.label_type not in ("hard", "soft"):
            raise ConfigError(f"[[label_type]] must be 'hard' or 'soft' (got '{self.label_type}').")
        if not self.precedence:
            raise ConfigError("[[precedence]] is empty; list label sources, e.g. human auto:mc auto:outcome.")
        if self.policy not in POLICIES:
            raise ConfigError(f"[[policy]] must be one of {', '.join(POLICIES)} (got '{self.policy}').")
        if self.corrections not in CORRECTION_FILTERS:
            raise ConfigError(f"[[corrections]] must be one of {', '.join(CORRECTION_FILTERS)} "
                              f"(got '{self.corrections}').")
        if self.corrections == "human" and self.kind not in ("rsft", "da", "pairs"):
            raise ConfigError(f"[[corrections]] human makes corrected trajectories for rsft and da exports (and "
                              f"pairs); not for {self.kind}.")
        if not 0 <= self.balance_threshold < 1:
            raise ConfigError(f"[[balance_threshold]] is a share of steps in [0, 1), e.g. 0.1 "
                              f"(got {self.balance_threshold}).")


@dataclass
class PRMFigures(ConfigBase):
    """What a PRM training set holds: rows, steps, positives and negatives, overall and per label source."""

    rows: int
    steps: int
    positives: int
    negatives: int
    by_source: dict[str, dict[str, int]]
    rows_with_negative: int = 0
    threshold: float = DEFAULT_BALANCE_THRESHOLD

    @property
    def negative_share(self) -> float:
        return self.negatives / self.steps if self.steps else 0.0

    def warning(self) -> str | None:
        """The balance check: None when negatives reach the threshold, else what is wrong and who adds more."""
        if not self.steps or self.negative_share >= self.threshold:
            return None
        return (f"Only {self.negatives} of {self.steps} steps ({self.negative_share:.1%}) are negative, under the "
                f"{self.threshold:.0%} threshold: a PRM trained on this set learns little about wrong steps. Add "
                f"negatives with {'; '.join(NEGATIVE_LABELERS)}; or weight classes in the PRM trainer.")

    def lines(self) -> list[str]:
        lines = [f"{self.rows} rows ({self.rows_with_negative} with a negative step), {self.steps} steps: "
                 f"{self.positives} positive, {self.negatives} negative ({self.negative_share:.1%})"]
        for source, n in sorted(self.by_source.items()):
            lines.append(f"  {source}: {n['steps']} steps, {n['positives']} positive, {n['negatives']} negative")
        return lines



def prm_figures(rows: pd.DataFrame, threshold: float = DEFAULT_BALANCE_THRESHOLD) -> PRMFigures:
    """Figures of PRM rows (``labels`` and ``label_sources`` columns, as exported or read back from an export
    file); a soft label counts as positive from 0.5 up. The PRM trainer shows these before training."""
    by_source: dict[str, dict[str, int]] = {}
    steps = positives = with_negative = 0
    for labels, sources in zip(rows["labels"], rows["label_sources"]):
        good = [float(v) >= 0.5 for v in labels]
        steps += len(good)
        positives += sum(good)
        with_negative += not all(good)
        for ok, source in zip(good, sources):
            n = by_source.setdefault(str(source), {"steps": 0, "positives": 0, "negatives": 0})
            n["steps"] += 1
            n["positives" if ok else "negatives"] += 1
    return PRMFigures(len(rows), steps, positives, steps - positives, by_source, with_negative, threshold)


def file_figures(path: Path | str, threshold: float = DEFAULT_BALANCE_THRESHOLD) -> PRMFigures:
    """The figures of a stepwise file (a studio PRM export, or any prompt/completions/labels file, whose steps
    then count under the source ``unknown``)."""
    path = Path(path)
    frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_json(path, lines=True)
    if "labels" not in frame:
        raise ValueError(f"{path} is no stepwise file (it has no labels column)")
    if "label_sources" not in frame:
        frame["label_sources"] = [["unknown"] * len(labels) for labels in frame["labels"]]
    return prm_figures(frame, threshold)


@dataclass
class ExportSummary:
    """What an export produced: rows, what each rule dropped (messages), and for PRM the label figures."""

    kind: str
    rows: int
    dropped: dict[str, int] = field(default_factory=dict)
    prm: PRMFigures | None = None
    consensus: dict[str, int] | None = None  # steps whose Monte-Carlo/judge labels agreed, disagreed, stood alone
    labelers: dict | None = None  # the labeler report of the export's runs (LabelerReport.to_dict)
    labeler_lines: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = self.prm.lines() if self.prm is not None else [f"{self.rows} rows"]
        lines += [f"dropped {n} message(s): {rule}" for rule, n in self.dropped.items()]
        if self.consensus is not None:
            lines.append(f"consensus: {self.consensus['agreed']} steps where Monte-Carlo and judge agree kept; "
                         f"{self.consensus['disagreed']} where they disagree and {self.consensus['alone']} labelled by "
                         "only one of them lost those labels")
        if self.labeler_lines:
            lines += ["labelers of these runs:"] + [f"  {line}" for line in self.labeler_lines]
        return lines

    def warning(self) -> str | None:
        return self.prm.warning() if self.prm is not None else None

    def to_dict(self) -> dict:
        return {"rows": self.rows, "dropped": dict(self.dropped), "prm": self.prm.to_dict() if self.prm else None,
                "consensus": self.consensus, "labelers": self.labelers}


@dataclass
class ExportResult:
    export_id: str
    path: Path
    sha256: str
    n_rows: int
    summary: ExportSummary | None = None


def _chat(question: str, answer: str) -> list[dict]:
    return solve_messages(question) + [{"role": "assistant", "content": answer}]


ROW_COLUMNS = ["messages", "run_id", "problem_id", "message_id"]
DROP_TRUNCATED = "cut off at the token limit"
DROP_NO_ANSWER = "no explicit final answer (boxed, 'The answer is ...' or '#### ...')"


def _provenance(messages: pd.DataFrame) -> list[str]:
    """Columns a row keeps to trace it back: the correction and who wrote it, for corrected trajectories."""
    return [c for c in ("correction_id", "annotator") if c in messages]


def committed(messages: pd.DataFrame, cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """Correct messages an SFT student may learn from under the config, and how many each rule dropped.

    A message whose finish reason is unknown (imported from a tool that does not record it) is not taken
    for a truncated one; the explicit-answer rule still applies to it.
    """
    right = messages[messages["is_correct"].fillna(False).astype(bool)]
    dropped: dict[str, int] = {}
    if cfg.require_finished:
        cut = right["finish_reason"].eq("length") if "finish_reason" in right else pd.Series(False, index=right.index)
        dropped[DROP_TRUNCATED] = int(cut.sum())
        right = right[~cut]
    if cfg.require_explicit_answer:
        bare = right["content"].map(lambda text: explicit_answer(text or "") is None).astype(bool)
        dropped[DROP_NO_ANSWER] = int(bare.sum())
        right = right[~bare]
    right, degenerate = without_degenerate(right, cfg)
    dropped.update(degenerate)
    return right, {rule: n for rule, n in dropped.items() if n}


def without_degenerate(messages: pd.DataFrame, cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """Messages without the degenerate ones (their ``degenerate`` column, set by ``prepare`` over whole debates,
    since a copy is judged against the other agents), and how many each reason left out."""
    if not cfg.drop_degenerate or "degenerate" not in messages or messages.empty:
        return messages, {}
    bad = messages["degenerate"].notna()
    return messages[~bad], {str(k): int(v) for k, v in messages.loc[bad, "degenerate"].value_counts().items()}


def rsft_rows(messages: pd.DataFrame, cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per problem: a correct, committed solver message of its last round (the team's final
    reasoning); with the count of last-round correct messages each rule dropped."""
    if messages.empty:
        return pd.DataFrame(columns=ROW_COLUMNS), {}
    last = messages[messages["round"] == messages.groupby(["run_id", "problem_id"])["round"].transform("max")]
    keep, dropped = committed(last, cfg)
    rows = []
    extra = _provenance(messages)
    for (run_id, problem_id), g in keep.groupby(["run_id", "problem_id"], sort=True):
        m = g.sort_values("seq").iloc[0]
        rows.append({"messages": _chat(m.question, m.content), "run_id": run_id, "problem_id": problem_id,
                     "message_id": m.message_id, **{c: m[c] for c in extra}})
    return pd.DataFrame(rows, columns=ROW_COLUMNS + extra), dropped


def normalized_text(text: str) -> str:
    """Text compared for duplicates: lower case, letters, digits and operators only."""
    return re.sub(r"[^a-z0-9=+\-*/.]", "", (text or "").lower())


def da_rows(messages: pd.DataFrame, cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """Distinct correct, committed trajectories per problem (any agent, any round), up to
    ``cfg.max_per_problem`` each; with the count of correct messages each rule dropped."""
    rows = []
    extra = _provenance(messages)
    right, dropped = committed(messages, cfg)
    for problem_id, g in right.groupby("problem_id", sort=True):
        seen: set[str] = set()
        for m in g.sort_values(["round", "run_id", "seq"], ascending=[False, True, True]).itertuples():
            key = normalized_text(m.content)
            if key in seen:
                continue
            seen.add(key)
            rows.append({"messages": _chat(m.question, m.content), "run_id": m.run_id, "problem_id": problem_id,
                         "message_id": m.message_id, **{c: getattr(m, c) for c in extra}})
            if len(seen) >= cfg.max_per_problem:
                break
    return pd.DataFrame(rows, columns=ROW_COLUMNS + extra), dropped


def resolve_step_labels(labels: pd.DataFrame, cfg: ExportConfig) -> pd.DataFrame:
    """One label per step under the config's policy: columns step_id, source, label, and good (the hard
    label, which decides where a first error is even when soft labels are exported)."""
    rank = {s: i for i, s in enumerate(cfg.precedence)}
    usable = labels[labels["source"].isin(rank)].copy()
    if usable.empty:
        return pd.DataFrame(columns=["step_id", "source", "label", "good"])
    usable["_rank"] = usable["source"].map(rank)
    winners = usable.sort_values(["step_id", "_rank"]).drop_duplicates("step_id")
    neutral_positive = cfg.neutral == "positive"
    hard = [bool(v > 0 or (v == 0 and neutral_positive)) for v in winners["value"]]
    if cfg.label_type == "hard":
        values: list = hard
    else:
        soft = winners["soft_value"] if "soft_value" in winners else pd.Series([None] * len(winners))
        values = [float(s) if s is not None and not pd.isna(s) else float(h) for s, h in zip(soft, hard)]
    return pd.DataFrame({"step_id": winners["step_id"].values, "source": winners["source"].values, "label": values,
                         "good": hard})


def consensus_labels(labels: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The labels in force minus every Monte-Carlo and judge label of a step where the two do not agree in sign
    (or only one of them labelled it); with the count of steps that agreed, disagreed or had one alone."""
    pair = labels[labels["source"].isin(CONSENSUS_SOURCES)]
    signs = pair.assign(sign=pair["value"].map(lambda v: (v > 0) - (v < 0))).groupby("step_id")["sign"]
    kinds, distinct = signs.size(), signs.nunique()
    agreed = set(kinds[(kinds == 2) & (distinct == 1)].index)
    counts = {"agreed": len(agreed), "disagreed": int(((kinds == 2) & (distinct > 1)).sum()),
              "alone": int((kinds == 1).sum())}
    keep = ~labels["source"].isin(CONSENSUS_SOURCES) | labels["step_id"].isin(agreed)
    return labels[keep], counts


def _automatic(source: str) -> bool:
    return str(source).startswith("auto:")


PRM_COLUMNS = ["prompt", "completions", "labels", "label_sources", "run_id", "problem_id", "message_id"]
DROP_NOT_SEGMENTED = "not segmented into steps"
DROP_FIRST_ERROR_UNKNOWN = "wrong final answer whose first error no source has labelled"
DROP_UNLABELLED = "a step no listed source has labelled"


def _known(value) -> bool:
    return value is not None and not pd.isna(value)


def prm_rows(messages: pd.DataFrame, steps: pd.DataFrame, labels: pd.DataFrame,
             cfg: ExportConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """Stepwise supervision rows under the config's policy, and how many messages each rule dropped."""
    resolved = resolve_step_labels(labels, cfg).set_index("step_id")
    # An automatic label on a claim-free step is ignored: such a step is never a first error (a person's stands).
    claim_free = set(steps.loc[steps["claim"].eq(False), "step_id"]) if "claim" in steps else set()
    ignored = {s for s in claim_free if s in resolved.index and _automatic(resolved.at[s, "source"])}
    resolved = resolved.drop(index=list(ignored))
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
        known = [s in resolved.index or s in claim_free for s in ids]
        right = correct[message_id]
        if cfg.first_error:
            first_bad = next((i for i, s in enumerate(ids) if s in resolved.index and not resolved.at[s, "good"]), None)
            if first_bad is not None:
                ids, texts, known = ids[:first_bad + 1], texts[:first_bad + 1], known[:first_bad + 1]
            elif not (_known(right) and bool(right)) and not all(known):
                dropped[DROP_FIRST_ERROR_UNKNOWN if _known(right) else DROP_UNLABELLED] += 1
                continue
        elif not all(known):
            dropped[DROP_UNLABELLED] += 1
            continue
        first = g.iloc[0]
        rows.append({"prompt": first.question, "completions": texts,
                     "labels": [cast(resolved.at[s, "label"]) if s in resolved.index else cast(1) for s in ids],
                     "label_sources": [resolved.at[s, "source"] if s in resolved.index
                                       else CLAIM_FREE_SOURCE if s in claim_free else FIRST_ERROR_SOURCE for s in ids],
                     "run_id": first.run_id, "problem_id": first.problem_id, "message_id": message_id})
    return pd.DataFrame(rows, columns=PRM_COLUMNS), {k: v for k, v in dropped.items() if v}


TRANSCRIPT_PREVIEW = ["run_id", "problem_id", "message_id", "agent", "round", "role", "content", "answer",
                      "is_correct", "finish_reason"]


def _transcript_records(store: Store, cfg: ExportConfig) -> list[dict]:
    """Whole runs in the lossless transcript schema, minus what curation excluded (the preview and the file
    hold the same records)."""
    from agentark.runs.formats.transcript_jsonl import transcript_records

    run_ids = cfg.run_ids or list(run_tables.list_runs(store)["run_id"])
    kept = q.curated_message_ids(store, run_ids)
    return [r for run_id in run_ids for r in transcript_records(store, run_id) if r["message_id"] in kept]


def prepare(store: Store, cfg: ExportConfig) -> tuple[pd.DataFrame, ExportSummary]:
    """The rows an export would hold and its summary, without writing anything."""
    runs = cfg.run_ids or None
    if cfg.kind == "transcripts":
        records = _transcript_records(store, cfg)
        frame = pd.DataFrame([{k: r.get(k) for k in TRANSCRIPT_PREVIEW} for r in records], columns=TRANSCRIPT_PREVIEW)
        return frame, ExportSummary(cfg.kind, len(frame))
    # Imported labeled sets are stored as 'solution' messages: step data for a PRM, not debate turns.
    roles = ("solver", "solution") if cfg.kind == "prm" else ("solver",)
    messages = q.curated_messages(store, runs, roles)
    if cfg.drop_degenerate:
        messages = messages.assign(degenerate=degenerate_messages(messages) if len(messages) else None)
    if cfg.corrections in ("only", "none"):
        corrected = corrected_problems(store, runs)
        has = pd.Series([k in corrected for k in zip(messages["run_id"], messages["problem_id"])], dtype=bool)
        messages = messages[has.values if cfg.corrections == "only" else ~has.values]
    if cfg.kind == "pairs" or cfg.corrections == "human":
        # People's corrections of messages curation keeps (an excluded message's corrections go with it).
        fixes = ct.corrections_in_context(store, runs)
        fixes = fixes[fixes["message_id"].isin(set(messages["message_id"]))]
        if cfg.kind == "pairs":
            rows = preference_pairs(fixes, solve_messages)
            return rows, ExportSummary(cfg.kind, len(rows))
        messages, dropped_fixes = corrected_messages(fixes)
        rows, dropped = rsft_rows(messages, cfg) if cfg.kind == "rsft" else da_rows(messages, cfg)
        return rows, ExportSummary(cfg.kind, len(rows), {**dropped_fixes, **dropped})
    if cfg.kind == "prm":
        messages, degenerate = without_degenerate(messages, cfg)
        labels, consensus = q.labels_in_force(store, runs), None
        if cfg.policy == "consensus":
            labels, consensus = consensus_labels(labels)
        rows, dropped = prm_rows(messages, q.steps_in_context(store, runs), labels, cfg)
        report = labeler_report(store, runs)
        figures = prm_figures(rows, cfg.balance_threshold)
        return rows, ExportSummary(cfg.kind, len(rows), {**degenerate, **dropped}, figures, consensus,
                                   report.to_dict(), report.lines())
    rows, dropped = rsft_rows(messages, cfg) if cfg.kind == "rsft" else da_rows(messages, cfg)
    return rows, ExportSummary(cfg.kind, len(rows), dropped)


def build_rows(store: Store, cfg: ExportConfig) -> pd.DataFrame:
    """The rows an export would hold, without writing anything."""
    return prepare(store, cfg)[0]


def _write(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)


def export(store: Store, cfg: ExportConfig, out: Path | str | None = None) -> ExportResult:
    """Write an export file (never overwriting one), record it, and return where it is and its hash."""
    if out is not None:
        out = Path(out).expanduser().resolve()
        suffix = out.suffix.lstrip(".")
        if suffix in FORMATS and suffix != cfg.format:
            cfg = ExportConfig(**{**cfg.to_dict(), "format": suffix})
        if out.exists():
            raise ConfigError(f"{out} exists and exports are immutable; choose another output file.")
    if cfg.kind == "transcripts":
        from agentark.runs.formats.transcript_jsonl import write_records

        if cfg.format != "jsonl":
            raise ConfigError("Transcript exports are JSON lines; set [[format]] to jsonl or write to a file ending in "
                              ".jsonl.")
        records = _transcript_records(store, cfg)
        if not records:
            raise ConfigError("The transcripts export is empty: check the run ids (`python -m agentark runs`) and "
                              "curation marks.")
        return _finish(store, cfg, out, ExportSummary(cfg.kind, len(records)), lambda tmp: write_records(records, tmp))
    rows, summary = prepare(store, cfg)
    if rows.empty:
        why = "; ".join(f"{n} message(s) dropped: {rule}" for rule, n in summary.dropped.items())
        raise ConfigError(
            f"The {cfg.kind} export is empty for these runs: check the run ids, curation marks, (for prm) that steps "
            "are segmented and labelled by a source listed in the precedence, and (for pairs and [[corrections]] "
            "human) that people wrote corrections on the Label steps page" + (f" ({why})" if why else "")
            + "."
        )
    return _finish(store, cfg, out, summary, lambda tmp: _write(rows, tmp, cfg.format))


def write_export(store: Store, cfg: ExportConfig, rows: pd.DataFrame, summary: ExportSummary) -> ExportResult:
    """Write rows from ``prepare(store, cfg)`` (or a subset of them, e.g. a study's matched-volume arm, which
    ``summary`` says) as an immutable export named by its hash. An export with the same content, kind and recorded
    config already in the store is returned instead of being recorded twice (a study re-exporting unchanged data)."""
    if rows.empty:
        why = "; ".join(f"{n} message(s) dropped: {rule}" for rule, n in summary.dropped.items())
        raise ConfigError(f"The {cfg.kind} export is empty for these runs" + (f" ({why})" if why else "") + ".")
    return _finish(store, cfg, None, summary, lambda tmp: _write(rows, tmp, cfg.format), reuse=True)


def _finish(store: Store, cfg: ExportConfig, out: Path | None, summary: ExportSummary, write,
            reuse: bool = False) -> ExportResult:
    """Write through ``write(tmp)``, name the file by its hash unless ``out`` is given, make it read-only,
    never overwrite, and record it in the store."""
    target_dir = out.parent if out is not None else config.exports_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = target_dir / f".export-{secrets.token_hex(6)}.tmp"
    write(tmp)
    digest = file_sha256(tmp)
    path = out if out is not None else target_dir / f"{cfg.kind}-{digest[:12]}.{cfg.format}"
    if path.exists():
        tmp.unlink()
        if out is not None or file_sha256(path) != digest:
            raise ConfigError(f"{path} exists and exports are immutable; choose another output file.")
    else:
        os.replace(tmp, path)
        path.chmod(0o444)
    filters = {**cfg.to_dict(), "summary": summary.to_dict()}
    same = export_row(store, digest) if reuse else None
    if same is not None and same["kind"] == cfg.kind and same["path"] == str(path) and \
            same["filters"] == json.loads(json.dumps(filters, sort_keys=True)):
        return ExportResult(same["export_id"], path, digest, summary.rows, summary)
    export_id = new_id(cfg.kind)
    q.record_export(store, {"export_id": export_id, "kind": cfg.kind, "path": str(path), "sha256": digest,
                            "n_rows": summary.rows, "filters": filters})
    return ExportResult(export_id, path, digest, summary.rows, summary)


def list_exports(store: Store) -> pd.DataFrame:
    return q.list_exports(store)
