"""Run and job ids, checked where they enter the studio (CLI flags, pages, import records, job folders).

Design decision: an id is also a folder name (``runs/RUN_ID``, ``jobs/JOB_ID``), so it may hold only
letters, digits and ``_ . : = + -`` and must start with a letter or digit: no ``/`` or ``\\``, hence never
``..`` or an absolute path, and nothing can make a job read or write outside ``$AGENTARK_HOME``. Ids are
refused on the way in, before anything is stored, rather than escaped on the way out.

Also here, the id of a problem: the hash of its normalised question text (``question_id``), so the same
question lines up whichever dataset, split or tool it came from. And the one content hash of a file
(``file_sha256``): what imports, exports, model cards and studies record of the files they read.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from agentark.errors import IdError

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:=+-]{0,199}")


def is_valid_id(value: object) -> bool:
    """Whether ``value`` may be a run or job id."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_id(value: object, what: str = "id") -> str:
    """``value`` if it may be a run or job id; otherwise an IdError that says what an id may hold."""
    if not is_valid_id(value):
        raise IdError(
            f"{value!r} is not a valid {what}: use letters, digits and _ . : = + - (at most 200, starting "
            "with a letter or digit). List existing ids with `python -m agentark runs` or `python -m agentark jobs`."
        )
    return value  # type: ignore[return-value]


# Typographic characters two tools may spell differently for the same question.
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                             "\u2014": "-", "\u2212": "-", "\u00a0": " "})


def question_key(question: str) -> str:
    """A question's text as identity sees it: Unicode NFKC, typographic quotes and dashes made plain, runs
    of whitespace made one space, ends trimmed, case folded. Two files that differ only in those spell the
    same question."""
    text = unicodedata.normalize("NFKC", question or "").translate(_TYPOGRAPHY)
    return re.sub(r"\s+", " ", text).strip().casefold()


def question_id(question: str) -> str:
    """A problem's id (16 hex characters): the hash of ``question_key(question)``, whatever its dataset."""
    return hashlib.sha1(question_key(question).encode("utf-8")).hexdigest()[:16]


def file_sha256(path: Path | str) -> str:
    """The sha256 of a file's bytes, read in blocks so a multi-GB import is never held in memory at once."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
