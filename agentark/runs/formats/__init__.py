"""Transcript formats: one module per format, found by name in ``READERS``; ``import_file`` reads any of them.

Formats (``python -m agentark import --format NAME PATH``): ``du2023`` (Du et al.'s llm_multiagent_debate
JSON), ``maslab`` (MASLab / AgentArk-reference JSONL) and ``transcripts`` (our own lossless JSONL, which
``agentark.runs.formats.transcript_jsonl.export_transcripts`` writes). A format module has ``read(request,
report)``, which reads the file record by record into run writers (``import_writer.RunWriter``), and
``records(path)``, the records as read (``import_io``), from which an import's digest is taken.

Design decision: an import streams. Records are read one at a time (agentark.runs.import_io) and written in
batches, so time is linear and memory bounded whatever the file's size. Each record is either imported,
skipped as a duplicate (its message, or for whole-problem formats its problem, is already in the run, in
the store or earlier in the file), or rejected with its line and reason, whatever the file holds (binary
data, wrong-typed fields); nothing is half imported, nothing already stored changes, and an import that
imports nothing raises. Every import is recorded by the sha256 of its parsed records (``imported_files``): a
file whose records were imported before, under any name or layout, is refused unless ``again`` asks for it, and a file of another
model than the run it would go into is refused (``import_writer.check_same_model``). The registry names
modules, imported when a file of their format is read, so the CLI's parser can list the formats without
loading the store.

``TranscriptImportConfig`` is what an import takes (format, path, run id, dataset, model, name, again): the
``import`` command's flags and the Run page's import form are generated from it (the page uploads the file, so
it fills ``path`` with the saved upload, ``upload_config``).
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agentark.errors import ImportFormatError
from agentark.ids import check_id
from agentark.options import ConfigBase, run_id

if TYPE_CHECKING:
    from agentark.runs.formats.import_writer import ImportReport
    from agentark.store import Store

READERS: dict[str, str] = {
    "du2023": "agentark.runs.formats.du2023",
    "maslab": "agentark.runs.formats.maslab",
    "transcripts": "agentark.runs.formats.transcript_jsonl",
}
FORMATS = tuple(READERS)


def format_names() -> tuple[str, ...]:
    """The formats registered now (``READERS`` may grow after this module is imported)."""
    return tuple(READERS)


@dataclass
class TranscriptImportConfig(ConfigBase):
    """A transcript file to import: its format and path, the run and problem set it becomes, who spoke, a name."""

    format: str | None = field(default=None, metadata={
        "help": "the file's format", "choices": format_names, "required": True})
    path: str = field(default="", metadata={"help": "the file to import", "positional": True,
                                            "widget": "server_path"})
    run_id: str | None = field(default=None, metadata={
        "help": "run to import into (du2023/maslab; default: derived from the path)", "parse": run_id})
    dataset: str | None = field(default=None, metadata={
        "help": "dataset name for the imported problems (default import:FILE)"})
    model: str | None = field(default=None, metadata={
        "help": "the model that spoke (du2023 files never say; overrides maslab's token_stats names; fills transcript "
                "records that name none)"})
    name: str | None = field(default=None, metadata={
        "help": "a name for the imported run, shown instead of its id (unique)"})
    again: bool = field(default=False, metadata={
        "help": "import a file whose records were imported before (refused by default: it would count twice)"})

    def __post_init__(self) -> None:
        if self.format is None:
            raise ImportFormatError(f"[[format]] is not set; choose one of: {', '.join(READERS)}.")
        if self.format not in READERS:
            raise ImportFormatError(f"Unknown import format '{self.format}' in [[format]]. Choose one of: "
                                    f"{', '.join(READERS)}.")
        if self.run_id is not None:
            check_id(self.run_id, "run id")
        self.path = str(self.path).strip()
        self.dataset, self.model, self.name = ((v or "").strip() or None for v in (self.dataset, self.model, self.name))


def import_transcripts(store: Store, cfg: TranscriptImportConfig) -> ImportReport:
    """Import ``cfg.path`` (:func:`import_file`) and give the run its name; a name another run has is refused
    before anything is imported."""
    from agentark.runs import names
    from agentark.runs.formats.import_writer import free_name

    if not cfg.path:
        raise ImportFormatError(f"[[path]] is empty; give the path of a {cfg.format} file.")
    name = free_name(store, cfg.name)
    report = import_file(store, cfg.format, cfg.path, run_id=cfg.run_id, dataset=cfg.dataset, model=cfg.model,
                         again=cfg.again)
    if name and report.imported:
        names.rename(store, report.run_id, name)
    return report


def import_file(store: Store, fmt: str, path: str | Path, run_id: str | None = None,
                dataset: str | None = None, model: str | None = None, again: bool = False) -> ImportReport:
    """Import a transcript file of format ``fmt`` into the store and report what happened to each record.

    ``run_id`` and ``dataset`` name the run and the problem set a du2023 or maslab file becomes (default: from
    the file's path). ``model`` names who spoke: du2023 files never say, maslab files name models in their
    token stats (``model`` wins over those), transcript records keep their own and get ``model`` where they
    have none. Raises :class:`ImportFormatError` when nothing was imported and nothing was a duplicate, and when
    the file's bytes were imported before (under any name) unless ``again``.
    """
    from agentark.ids import file_sha256
    from agentark.runs.import_io import records_sha256
    from agentark.runs.formats.import_writer import ImportReport, ImportRequest, record_file, refuse_seen

    if fmt not in READERS:
        raise ImportFormatError(f"Unknown import format '{fmt}'. Choose one of: {', '.join(FORMATS)}.")
    path = Path(path).expanduser()
    if not path.is_file():
        raise ImportFormatError(f"No file at {path}; pass the path of a {fmt} file.")
    if run_id is not None:
        check_id(run_id, "run id")
    reader = importlib.import_module(READERS[fmt])
    # Known by its parsed records, so the same records laid out otherwise (a trailing newline, another key
    # order) are the same import; ledger rows of older versions hold the bytes' digest, checked too.
    sha256 = records_sha256(reader.records(path))
    if not again:
        refuse_seen(store, path, sha256, (model or "").strip())
        refuse_seen(store, path, file_sha256(path), (model or "").strip())
    report = ImportReport(fmt, "")
    writers = reader.read(
        ImportRequest(store, fmt, path, run_id, dataset, (model or "").strip()), report)
    report.run_id = ", ".join(sorted(writers))
    for writer in writers.values():
        writer.flush()
        report.messages += writer.written
    for writer in writers.values():
        writer.finish()
    if report.regrade:
        from agentark.runs.regrade import regrade_run

        for regraded in sorted(report.regrade):
            regrade_run(store, regraded)
    if report.imported == 0 and report.duplicates == 0:
        first = "; ".join(report.rejection_lines()[:3])
        raise ImportFormatError(
            f"Nothing in {path} could be imported as {fmt} ({first or 'the file holds no record'}). "
            "Check [[format]] and the file."
        )
    record_file(store, sha256, path, report, sorted(writers), (model or "").strip() or None)
    return report


def upload_config(cfg: TranscriptImportConfig, filename: str, data: bytes) -> TranscriptImportConfig:
    """``cfg`` for bytes uploaded on the Run page: the bytes saved, its ``path`` theirs, its dataset by default
    named after the file.

    The bytes are saved under ``$AGENTARK_HOME/imports/`` first, named by their content hash as well as the
    file name, so the run's config points at a file that still exists, uploading the same bytes again finds
    its duplicates, and two different files that share a name become two runs.
    """
    from agentark.config import save_upload

    target = save_upload(filename, data)
    return dataclasses.replace(cfg, path=str(target), dataset=cfg.dataset or f"import:{target.stem}")


def import_upload(store: Store, fmt: str, filename: str, data: bytes, dataset: str | None = None,
                  model: str | None = None, again: bool = False) -> ImportReport:
    """Import bytes uploaded on the Run page (:func:`upload_config`)."""
    cfg = TranscriptImportConfig(fmt, dataset=dataset, model=model, again=again)
    return import_transcripts(store, upload_config(cfg, filename, data))
