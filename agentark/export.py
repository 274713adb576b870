"""Training sets from the store: R-SFT, trajectory augmentation (DA), PRM step supervision, transcripts.

Every export honours curation (an excluded problem or message is dropped) and is an immutable file: it
is written under a temporary name, hashed (sha256), renamed, made read-only, never overwritten, and
recorded in the ``exports`` table with the config that produced it. Formats are the ones trainers read:
TRL conversational ``messages`` for SFT (the user turn is the studio's solve prompt, the one the student
will be evaluated with) and TRL stepwise supervision ``prompt`` / ``completions`` / ``labels`` for a
PRM, as Parquet or JSONL that ``datasets.load_dataset`` opens.

Design decision for PRM labels: the policy is explicit in the config and stored with the export. For
each step the first source in ``precedence`` that has a label in force wins (people before automatic
sources by default); a neutral (0) counts as positive or negative as ``neutral`` says; ``labels`` holds
booleans (hard) or the Monte-Carlo fraction (soft; 1.0/0.0 for sources without one). A message with any
step no listed source has labelled is left out, so every row has exactly one label per step.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from agentark import config
from agentark.debate import solve_messages
from agentark.errors import ConfigError
from agentark.store import Store
from agentark.store import labels as q

KINDS = ("rsft", "da", "prm", "transcripts")
FORMATS = ("parquet", "jsonl")
DEFAULT_PRECEDENCE = ["human", "import:prm800k", "import:math-shepherd", "auto:mc", "auto:outcome", "auto:debate"]


@dataclass
class ExportConfig:
    """What to export and how; stored as the export's ``filters_json``."""

    kind: str = "prm"
    run_ids: list[str] = field(default_factory=list)
    format: str | None = None  # parquet, or jsonl for transcripts (their records nest)
    max_per_problem: int = 4
    precedence: list[str] = field(default_factory=lambda: list(DEFAULT_PRECEDENCE))
    neutral: str = "positive"
    label_type: str = "hard"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"Unknown export '{self.kind}'; choose one of: {', '.join(KINDS)}.")
        if self.format is None:
            self.format = "jsonl" if self.kind == "transcripts" else "parquet"
        if self.format not in FORMATS:
            raise ConfigError(f"Unknown format '{self.format}'; choose parquet or jsonl.")
        if self.max_per_problem < 1:
            raise ConfigError(f"max_per_problem must be at least 1 (got {self.max_per_problem}).")
        if self.neutral not in ("positive", "negative"):
            raise ConfigError(f"neutral must be 'positive' or 'negative' (got '{self.neutral}').")
        if self.label_type not in ("hard", "soft"):
            raise ConfigError(f"label_type must be 'hard' or 'soft' (got '{self.label_type}').")
        if not self.precedence:
            raise ConfigError("precedence is empty; list label sources, e.g. human auto:mc auto:outcome.")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ExportResult:
    export_id: str
    path: Path
    sha256: str
    n_rows: int


def _chat(question: str, answer: str) -> list[dict]:
    return solve_messages(question) + [{"role": "assistant", "content": answer}]


def rsft_rows(messages: pd.DataFrame) -> pd.DataFrame:
    """One row per problem: a correct solver message of its last round (the team's final reasoning)."""
    rows = []
    for (run_id, problem_id), g in messages.groupby(["run_id", "problem_id"], sort=True):
        last = g[g["round"] == g["round"].max()]
        right = last[last["is_correct"].fillna(False).astype(bool)].sort_values("seq")
        if right.empty:
            continue
        m = right.iloc[0]
        rows.append({"messages": _chat(m.question, m.content), "run_id": run_id, "problem_id": problem_id,
                     "message_id": m.message_id})
    return pd.DataFrame(rows, columns=["messages", "run_id", "problem_id", "message_id"])


def normalized_text(text: str) -> str:
    """Text compared for duplicates: lower case, letters, digits and operators only."""
    return re.sub(r"[^a-z0-9=+\-*/.]", "", (text or "").lower())


def da_rows(messages: pd.DataFrame, max_per_problem: int) -> pd.DataFrame:
    """Distinct correct trajectories per problem (any agent, any round), up to ``max_per_problem`` each."""
    rows = []
    right = messages[messages["is_correct"].fillna(False).astype(bool)]
    for problem_id, g in right.groupby("problem_id", sort=True):
        seen: set[str] = set()
        for m in g.sort_values(["round", "run_id", "seq"], ascending=[False, True, True]).itertuples():
            key = normalized_text(m.content)
            if key in seen:
                continue
            seen.add(key)
            rows.append({"messages": _chat(m.question, m.content), "run_id": m.run_id, "problem_id": problem_id,
                         "message_id": m.message_id})
            if len(seen) >= max_per_problem:
                break
    return pd.DataFrame(rows, columns=["messages", "run_id", "problem_id", "message_id"])


def resolve_step_labels(labels: pd.DataFrame, cfg: ExportConfig) -> pd.DataFrame:
    """One label per step under the config's policy: columns step_id, source, label."""
    rank = {s: i for i, s in enumerate(cfg.precedence)}
    usable = labels[labels["source"].isin(rank)].copy()
    if usable.empty:
        return pd.DataFrame(columns=["step_id", "source", "label"])
    usable["_rank"] = usable["source"].map(rank)
    winners = usable.sort_values(["step_id", "_rank"]).drop_duplicates("step_id")
    neutral_positive = cfg.neutral == "positive"
    hard = [bool(v > 0 or (v == 0 and neutral_positive)) for v in winners["value"]]
    if cfg.label_type == "hard":
        values: list = hard
    else:
        soft = winners["soft_value"] if "soft_value" in winners else pd.Series([None] * len(winners))
        values = [float(s) if s is not None and not pd.isna(s) else float(h) for s, h in zip(soft, hard)]
    return pd.DataFrame({"step_id": winners["step_id"].values, "source": winners["source"].values, "label": values})


def prm_rows(messages: pd.DataFrame, steps: pd.DataFrame, labels: pd.DataFrame, cfg: ExportConfig) -> pd.DataFrame:
    """Stepwise supervision rows for messages whose every step has a label under the policy."""
    resolved = resolve_step_labels(labels, cfg).set_index("step_id")
    cast = bool if cfg.label_type == "hard" else float
    keep = set(messages["message_id"])
    rows = []
    for message_id, g in steps[steps["message_id"].isin(keep)].groupby("message_id", sort=False):
        g = g.sort_values("idx")
        if not g["step_id"].isin(resolved.index).all():
            continue
        first = g.iloc[0]
        rows.append({"prompt": first.question, "completions": g["text"].tolist(),
                     "labels": [cast(resolved.loc[s, "label"]) for s in g["step_id"]],
                     "label_sources": [resolved.loc[s, "source"] for s in g["step_id"]],
                     "run_id": first.run_id, "problem_id": first.problem_id, "message_id": message_id})
    return pd.DataFrame(rows, columns=["prompt", "completions", "labels", "label_sources", "run_id", "problem_id",
                                       "message_id"])


def build_rows(store: Store, cfg: ExportConfig) -> pd.DataFrame:
    """The rows an export would hold, without writing anything."""
    runs = cfg.run_ids or None
    # Imported labeled sets are stored as 'solution' messages: step data for a PRM, not debate turns.
    roles = {"rsft": ("solver",), "da": ("solver",), "prm": ("solver", "solution")}.get(
        cfg.kind, ("solver", "aggregator", "solution"))
    messages = q.curated_messages(store, runs, roles)
    if cfg.kind == "rsft":
        return rsft_rows(messages)
    if cfg.kind == "da":
        return da_rows(messages, cfg.max_per_problem)
    if cfg.kind == "prm":
        return prm_rows(messages, q.steps_in_context(store, runs), q.labels_in_force(store, runs), cfg)
    return messages[["run_id", "problem_id", "message_id", "agent", "round", "role", "question", "reference_answer",
                     "content", "answer", "is_correct"]].reset_index(drop=True)


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
            raise ConfigError(f"{out} exists and exports are immutable; choose another --out path.")
    if cfg.kind == "transcripts":
        return _export_transcripts(store, cfg, out)
    rows = build_rows(store, cfg)
    if rows.empty:
        raise ConfigError(
            f"The {cfg.kind} export is empty for these runs: check the run ids, curation marks, and (for prm) "
            "that steps are segmented and labelled by a source listed in the precedence."
        )
    return _finish(store, cfg, out, len(rows), lambda tmp: _write(rows, tmp, cfg.format))


def _export_transcripts(store: Store, cfg: ExportConfig, out: Path | None) -> ExportResult:
    """Whole runs in the lossless transcript schema that ``python -m agentark import --format transcripts``
    reads back; an archive of what happened, so curation marks do not thin it."""
    from agentark.transcripts import transcript_records, write_records

    if cfg.format != "jsonl":
        raise ConfigError("Transcript exports are JSON lines; use --format jsonl or an --out path ending in .jsonl.")
    run_ids = cfg.run_ids or list(store.list_runs()["run_id"])
    records = [r for run_id in run_ids for r in transcript_records(store, run_id)]
    if not records:
        raise ConfigError("The transcripts export is empty: check the run ids (`python -m agentark runs`).")
    return _finish(store, cfg, out, len(records), lambda tmp: write_records(records, tmp))


def _finish(store: Store, cfg: ExportConfig, out: Path | None, n_rows: int, write) -> ExportResult:
    """Write through ``write(tmp)``, name the file by its hash unless ``out`` is given, make it read-only,
    never overwrite, and record it in the store."""
    target_dir = out.parent if out is not None else config.exports_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = target_dir / f".export-{secrets.token_hex(6)}.tmp"
    write(tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    path = out if out is not None else target_dir / f"{cfg.kind}-{digest[:12]}.{cfg.format}"
    if path.exists():
        tmp.unlink()
        if out is not None or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise ConfigError(f"{path} exists and exports are immutable; choose another --out path.")
    else:
        os.replace(tmp, path)
        path.chmod(0o444)
    export_id = f"{cfg.kind}-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    q.record_export(store, {"export_id": export_id, "kind": cfg.kind, "path": str(path), "sha256": digest,
                            "n_rows": n_rows, "filters": cfg.to_dict()})
    return ExportResult(export_id, path, digest, n_rows)


def list_exports(store: Store) -> pd.DataFrame:
    return q.list_exports(store)
