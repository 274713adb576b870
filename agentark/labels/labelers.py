"""The label sources the studio knows: source name -> a record of what the labeler is and how it runs.

A labeler is a plain record registered at import time by the module beside its rule (``register_labeler``): the
source its labels carry (``auto:mc``), a title and a description, its config class, and either the job kind it
runs as (Monte-Carlo, PRM, judge: ``jobs.start(kind, cfg)``) or the pure function it runs inline (outcome, the
debate signal: messages and steps in, label rows out, see ``agentark.labels.auto_labelers``). References (people,
a gold debate's key) are records too: the labeler report measures the automatic sources against them.

Design decision: nothing outside this module switches on a source's name. The Label page draws a form per job
labeler and one button for the inline ones, the CLI adds a ``label-NAME`` command per job labeler and lists the
inline ones as ``autolabel --source`` choices, the labeler report measures every automatic source against every
reference, and the PRM export's label policy (its default precedence, the labelers to reach for when negatives
are missing, the sources the consensus policy needs to agree) is read off the records' ``precedence``,
``negatives`` and ``consensus`` fields. The built-in labelers are imported on the first look-up by module name
(``BUILTIN``), so this module imports none of them and they may import it.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentark.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

# The modules that register the built-in labelers and references, imported on the first look-up.
BUILTIN = (
    "agentark.labels.auto_labelers",  # auto:outcome, auto:debate (inline)
    "agentark.labels.montecarlo_job",  # auto:mc (job)
    "agentark.labels.prm_labeler",  # auto:prm (job)
    "agentark.labels.judge",  # auto:judge (job)
    "agentark.labels.human_labels",  # human (reference)
    "agentark.labels.gold",  # gold (reference)
)


@dataclass(frozen=True)
class Labeler:
    """One label source.

    ``run`` is an inline labeler's rule, ``run(messages, steps) -> DataFrame(step_id, value, confidence)``, applied
    by ``auto_labelers.run_auto_labelers``; a job labeler has ``kind`` instead (its config class is ``config``, its
    work the kind's run) and ``jobs``, its jobs so far as the page's table shows them; ``unit`` is what such a job
    counts, ``by_job`` whether its labels carry the job's id as annotator (so a job's labels can be counted), and
    ``notes(job_id, final)`` the lines the CLI prints after the count. ``automatic`` sources are measured by the
    labeler report; ``reference`` sources are what they are measured against. ``order`` orders the page's forms,
    the CLI's commands and the hints; ``precedence`` is the source's rank in the PRM export's default precedence
    (0 wins; None: not listed); ``consensus`` makes it one of the sources the consensus policy needs to agree;
    ``negatives`` says how a person gets negative labels from it (the export's warning when they are missing).
    """

    source: str
    title: str
    description: str
    config: type | None = None
    kind: str = ""
    run: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None
    jobs: Callable[[], pd.DataFrame] | None = None
    unit: str = "trajectories"
    by_job: bool = True
    notes: Callable[[str, dict], list[str]] | None = None
    automatic: bool = True
    reference: bool = False
    order: int = 100
    precedence: int | None = None
    consensus: bool = False
    negatives: str = ""

    def __post_init__(self) -> None:
        if self.kind and self.run is not None:
            raise TypeError(f"Labeler {self.source} has both a job kind and an inline run; it is one or the other.")
        if self.kind and self.config is None:
            raise TypeError(f"Labeler {self.source} runs as job kind {self.kind} but names no config class.")

    @property
    def name(self) -> str:
        """The source without its family (``mc`` for ``auto:mc``): the CLI command's suffix."""
        return self.source.rpartition(":")[2]

    @property
    def command(self) -> str:
        """The CLI command that starts a job labeler (``label-mc``)."""
        return f"label-{self.name}"

    @property
    def inline(self) -> bool:
        return self.run is not None

    @property
    def as_job(self) -> bool:
        return bool(self.kind)


_LABELERS: dict[str, Labeler] = {}


def register_labeler(labeler: Labeler) -> Labeler:
    """Make a label source known to the Label page, the CLI, the labeler report and the PRM export's policy."""
    _LABELERS[labeler.source] = labeler
    return labeler


def _load_builtin() -> None:
    for module in BUILTIN:
        importlib.import_module(module)


def labelers() -> list[Labeler]:
    """Every registered source, the built-in ones included, by ``order`` (then source name)."""
    _load_builtin()
    return sorted(_LABELERS.values(), key=lambda r: (r.order, r.source))


def get_labeler(source: str) -> Labeler:
    """The record of ``source``; an unknown one is refused with the sources known."""
    found = {r.source: r for r in labelers()}
    if source not in found:
        raise ConfigError(f"Unknown label source '{source}'; known: {', '.join(found)}.")
    return found[source]


def inline_labelers() -> list[Labeler]:
    """The labelers that run in the calling process (``autolabel``, the page's automatic-labelers button)."""
    return [r for r in labelers() if r.inline]


def job_labelers() -> list[Labeler]:
    """The labelers that run as a job (one ``label-NAME`` command and one page form each)."""
    return [r for r in labelers() if r.as_job]


def inline_sources() -> tuple[str, ...]:
    """The sources ``AutoLabelConfig.sources`` may name."""
    return tuple(r.source for r in inline_labelers())


def automatic_sources() -> tuple[str, ...]:
    """The sources the labeler report measures."""
    return tuple(r.source for r in labelers() if r.automatic)


def reference_sources() -> tuple[str, ...]:
    """The sources the labeler report measures against (people, gold)."""
    return tuple(r.source for r in labelers() if r.reference)


def default_precedence() -> list[str]:
    """The PRM export's default precedence, winner first: every source with a rank, the step-import formats'
    sources among them (``agentark.labels.step_import.step_formats``)."""
    from agentark.labels.step_import import step_formats

    ranked: list[tuple[int, str]] = [(r.precedence, r.source) for r in labelers() if r.precedence is not None]
    ranked += [(f.precedence, f.source) for f in step_formats() if f.precedence is not None]
    return [source for _, source in sorted(ranked)]


def negative_labelers() -> tuple[str, ...]:
    """How a person gets negative step labels, one line per source that gives them, in ``order``."""
    return tuple(r.negatives for r in labelers() if r.negatives)


def consensus_sources() -> tuple[str, ...]:
    """The sources the consensus policy keeps only where the others agree."""
    return tuple(r.source for r in labelers() if r.consensus)


def summary_lines(written: dict[str, int]) -> list[str]:
    """What ``run_auto_labelers`` returned, as lines: labels appended per source, and labels withdrawn."""
    withdrawn = "withdrawn:"
    return [f"{key[len(withdrawn):]}: {n} labels withdrawn (the labeler no longer gives them)"
            if key.startswith(withdrawn) else f"{key}: {n} labels appended" for key, n in written.items()]


def describe(labeler: Labeler) -> dict[str, Any]:
    """A record as plain data (the CLI's ``labels list --json``): how it runs (job, inline or not at all: a
    reference) and the command that runs it."""
    runs, command = ("job", labeler.command) if labeler.as_job else ("inline", "autolabel") if labeler.inline \
        else ("-", None)
    return {"source": labeler.source, "title": labeler.title, "description": labeler.description, "runs": runs,
            "command": command, "kind": labeler.kind or None,
            "config": labeler.config.__name__ if labeler.config else None, "automatic": labeler.automatic,
            "reference": labeler.reference, "precedence": labeler.precedence}
