"""Training sets from the store: R-SFT, trajectory augmentation (DA), PRM step supervision, transcripts, and
preference pairs from people's corrections, one module per kind, each registering an ``ExportKind``.

Every export honours curation (an excluded problem or message is dropped) and is an immutable file: it
is written under a temporary name, hashed (sha256), renamed, made read-only, never overwritten, and
recorded in the ``exports`` table with the config that produced it. Formats are the ones trainers read:
TRL conversational ``messages`` for SFT (the user turn is the studio's solve prompt, the one the student
will be evaluated with) and TRL stepwise supervision ``prompt`` / ``completions`` / ``labels`` for a
PRM, as Parquet or JSONL that ``datasets.load_dataset`` opens.

Design decision: every rule that decides what a row holds is a field of :class:`ExportConfig`, stored with
the export together with the figures it produced (``exports.filters_json``: the config plus ``summary``); a
kind is a record in ``kind_registry`` (its rows, its columns, what sets it apart), so the CLI, the Export page and
``export()`` never name a kind. The PRM label policy (precedence, consensus, first error, claim-free steps,
the balance check) is ``agentark.labels.label_policy``. R-SFT and DA keep by default only messages that ended
on their own and commit to an explicit final answer; R-SFT, DA and PRM leave out degenerate text
(``message_filters``). A PRM export's figures include the labeler report of its runs
(``agentark.labels.labeler_report``). People's corrections (``agentark.labels.corrections``) become corrected
trajectories for R-SFT/DA with ``corrections="human"`` (graded against the reference answer like any message)
and TRL conversational preference pairs (``prompt``/``chosen``/``rejected``) with ``pairs``.

A new kind is a module that builds an ``ExportKind`` and calls ``register_export_kind``; the built-in ones are
imported here, so importing this package (or any module in it) knows them.
"""
import importlib

from agentark.training_sets.export_config import ExportConfig
from agentark.training_sets.kind_registry import (
    ExportKind,
    export_kind_names,
    export_kinds,
    get_export_kind,
    register_export_kind,
)
from agentark.training_sets.export_summary import ExportResult, ExportSummary
from agentark.training_sets.exporting import build_rows, export, list_exports, prepare, write_export

# The built-in kinds, in the order the CLI and the Export page offer them.
BUILTIN = ("rsft_set", "da_set", "single_set", "alone_set", "prm_set", "transcripts_set", "pairs_set")
for _module in BUILTIN:
    importlib.import_module(f"agentark.training_sets.{_module}")
del _module

__all__ = [
    "ExportConfig",
    "ExportKind",
    "ExportResult",
    "ExportSummary",
    "build_rows",
    "export",
    "export_kind_names",
    "export_kinds",
    "get_export_kind",
    "list_exports",
    "prepare",
    "register_export_kind",
    "write_export",
]
