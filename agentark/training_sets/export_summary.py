"""What an export produced (:class:`ExportSummary`, stored with it) and where it was written (:class:`ExportResult`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agentark.labels.label_policy import PRMFigures


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
    cut: dict[str, int] = field(default_factory=dict)  # messages kept only up to a rule's step (PRM: degenerate)

    def lines(self) -> list[str]:
        lines = self.prm.lines() if self.prm is not None else [f"{self.rows} rows"]
        lines += [f"dropped {n} message(s): {rule}" for rule, n in self.dropped.items()]
        lines += [f"cut {n} message(s) before the step: {rule}" for rule, n in self.cut.items()]
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
                "consensus": self.consensus, "labelers": self.labelers, "cut": dict(self.cut)}


@dataclass
class ExportResult:
    export_id: str
    path: Path
    sha256: str
    n_rows: int
    summary: ExportSummary | None = None
