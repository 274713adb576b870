"""Streaming readers and field checks shared by every importer (transcripts and labeled steps).

Importers read files other tools wrote, so anything can arrive: binary data, a truncated document, a
record whose fields have the wrong types. The readers here yield records one at a time, each with the
line it starts on, and never hold more of the file than the record being read, so a 50 MB file imports
at bounded memory and in linear time. Design decision: a reader never raises on bad input; it yields an
:class:`Unreadable` for the record (JSON lines) or for the rest of the document (one JSON object, where
nothing after a syntax error can be trusted), and the importer reports it by line and keeps the rest.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK_CHARS = 1 << 20
# A single record bigger than this is refused rather than read into memory whole.
MAX_RECORD_CHARS = 256 << 20
INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class Unreadable:
    """A record (or the rest of a document) that could not be read, and why; ``key`` is the member's key when
    a JSON object broke off inside a member whose key was read."""

    reason: str
    key: str | None = None


def iter_json_lines(path: Path) -> Iterator[tuple[int, dict | Unreadable]]:
    """(line number, JSON object or Unreadable) for each non-blank line of a JSON-lines file."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, Unreadable("not UTF-8 text (is this a binary file?)")
                continue
            if not line.strip():
                continue
            if number == 1:
                line = line.lstrip("\ufeff")
            try:
                record = json.loads(line)
            except ValueError as exc:
                yield number, Unreadable(f"not JSON ({getattr(exc, 'msg', exc)})")
                continue
            if not isinstance(record, dict):
                yield number, Unreadable(f"a JSON {type(record).__name__}, not an object")
                continue
            yield number, record


class _TextStream:
    """Decoded text of a file, read in chunks; ``pos`` moves forward and the line number follows it."""

    def __init__(self, fh) -> None:
        self._fh = fh
        self._pending = b""  # the start of a UTF-8 sequence cut by the end of a read
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.eof = False
        self.binary = False  # the text ended early at bytes that are not UTF-8

    def more(self, at_least: int = CHUNK_CHARS) -> bool:
        """Read more text (at least about ``at_least`` characters); False at the end of the (readable) file."""
        if self.eof:
            return False
        if self.pos > len(self.buf) // 2:
            self.buf = self.buf[self.pos:]
            self.pos = 0
        data = self._fh.read(max(at_least, CHUNK_CHARS))
        raw = self._pending + data
        try:
            text, self._pending = raw.decode("utf-8"), b""
        except UnicodeDecodeError as exc:
            cut_short = exc.reason == "unexpected end of data" and data
            text, self._pending = raw[: exc.start].decode("utf-8"), raw[exc.start:] if cut_short else b""
            if not cut_short:
                # Everything before the bad bytes is still read, so the records before them can be kept.
                self.binary, self.eof = True, True
        if not data:
            self.eof = True
            self.binary = self.binary or bool(self._pending)
        self.buf += text
        return bool(text) or (bool(data) and not self.eof)

    def advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def skip_space(self) -> str:
        """The next non-blank character ('' at the end), with ``pos`` on it."""
        while True:
            n, i = len(self.buf), self.pos
            while i < n and self.buf[i] in " \t\r\n\ufeff":
                i += 1
            self.advance(i)
            if i < n:
                return self.buf[i]
            if not self.more():
                return ""

    def _describe(self, exc: ValueError, pos: int | None) -> str:
        """A whole sentence for a JSON error at the end of the file: where it is, and whether the file was cut off
        (``JSONDecodeError.msg`` alone reads "Unterminated string starting at", cut mid-sentence)."""
        msg = getattr(exc, "msg", None) or str(exc)
        if pos is None:
            return f"not JSON ({msg})"
        line = self.line + self.buf.count("\n", self.pos, pos)
        where = f"{msg.rstrip(' :')} line {line}" if msg.endswith(" at") else f"{msg} at line {line}"
        if msg.startswith("Unterminated") or not self.buf[pos:].strip():
            return f"the file ends before this record is complete ({where}); was it cut off?"
        return f"not JSON ({where})"

    def decode(self, decoder: json.JSONDecoder) -> Any:
        """The JSON value starting at ``pos``, reading more of the file until it is complete."""
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
            except ValueError as exc:
                pending = len(self.buf) - self.pos
                if pending > MAX_RECORD_CHARS:
                    raise ValueError(f"a record is larger than {MAX_RECORD_CHARS >> 20} MB") from exc
                # Incomplete or invalid: only the end of the file tells them apart. Reading as much again
                # as is pending keeps re-parsing a long record linear overall.
                # ``more`` may move the buffer: keep the error's place relative to the record's start.
                offset = exc.pos - self.pos if isinstance(getattr(exc, "pos", None), int) else None
                if not self.more(pending):
                    raise ValueError(self._describe(exc, None if offset is None else self.pos + offset)) from exc
                continue
            if end == len(self.buf) and self.more():
                continue  # a number cut at the end of the chunk parses, but only as its first digits
            self.advance(end)
            return value


def records_sha256(items: Iterable[tuple]) -> str:
    """The sha256 of a file's parsed records, as a reader yields them (``(line, record)`` or ``(line, key, value)``):
    the same records laid out otherwise (white space, key order, a trailing newline) give the same digest. Line
    numbers are left out; an unreadable stretch counts by its reason."""
    digest = hashlib.sha256()
    for item in items:
        body = [v.reason if isinstance(v, Unreadable) else v for v in item[1:]]
        digest.update(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def iter_json_object(path: Path) -> Iterator[tuple[int, str, Any] | tuple[int, Unreadable]]:
    """(line, key, value) for each member of a file holding one JSON object, streamed member by member.

    Yields ``(line, Unreadable)`` once and stops when the document breaks off (bad syntax, binary data),
    after every member before the break; a file that is not a JSON object at all gives ``(1, Unreadable)``.
    """
    decoder = json.JSONDecoder()
    with open(path, "rb") as fh:
        text = _TextStream(fh)
        try:
            first = text.skip_space()
            if first != "{":
                what = "is empty" if first == "" else f"starts with {first!r}"
                reason = ("not UTF-8 text (is this a binary file?)" if text.binary
                          else f"not one JSON object (the file {what})")
                yield text.line, Unreadable(reason)
                return
            text.advance(text.pos + 1)
            expect_more = False
            key = None
            while True:
                c = text.skip_space()
                if c == "}" and not expect_more:
                    text.advance(text.pos + 1)
                    break
                if c != '"':
                    raise ValueError(f"expected a quoted key, found {c!r}" if c else
                                     "the file ends inside the object; was it cut off?")
                line = text.line
                key = None
                key = text.decode(decoder)
                if text.skip_space() != ":":
                    raise ValueError("expected ':' after a key")
                text.advance(text.pos + 1)
                text.skip_space()
                value = text.decode(decoder)
                yield line, key, value
                key = None
                c = text.skip_space()
                text.advance(text.pos + 1)
                if c == "}":
                    break
                if c != ",":
                    raise ValueError(f"expected ',' or '}}' after a member, found {c!r}" if c else
                                     "the file ends inside the object; was it cut off?")
                expect_more = True
            if text.skip_space():
                raise ValueError("text after the end of the object")
        except ValueError as exc:
            reason = str(exc)
            if text.binary:
                reason = "not UTF-8 text (is this a binary file?)"
            elif not reason.startswith(("not ", "a record", "the file ends")):
                reason = f"not JSON ({reason})"
            yield text.line, Unreadable(reason, key if isinstance(key, str) else None)


# -- field checks ---------------------------------------------------------------------------------------------
class FieldError(ValueError):
    """A record's field is missing or has the wrong type; the message names the field."""


def _present(record: dict, key: str, required: bool, name: str) -> Any:
    """The field's value; a missing required field raises, a missing optional one is None."""
    value = record.get(key)
    if value is None and required:
        raise FieldError(f"{name} is missing")
    return value


def text_field(record: dict, key: str, *, required: bool = True, nonempty: bool = False, where: str = "") -> str | None:
    """A string field; None when absent and not required."""
    name = f"'{where}{key}'"
    value = _present(record, key, required, name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"{name} is a {_kind(value)}, expected text")
    if nonempty and not value.strip():
        raise FieldError(f"{name} is empty")
    return value


def int_field(record: dict, key: str, *, required: bool = True, minimum: int = 0, where: str = "") -> int | None:
    """A whole-number field within ``minimum``..2^31-1 (the store's integer columns); None when absent."""
    name = f"'{where}{key}'"
    value = _present(record, key, required, name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(f"{name} is {_shown(value)}, expected a whole number")
    if not minimum <= value <= INT32_MAX:
        raise FieldError(f"{name} is {value}, expected {minimum} to {INT32_MAX}")
    return value


def number_field(record: dict, key: str, *, where: str = "") -> float | None:
    """An optional finite number field."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FieldError(f"'{where}{key}' is {_shown(value)}, expected a number")
    return float(value)


def bool_field(record: dict, key: str, *, where: str = "") -> bool | None:
    """An optional true/false field."""
    value = record.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise FieldError(f"'{where}{key}' is {_shown(value)}, expected true, false or null")


def object_field(record: dict, key: str, *, required: bool = False, where: str = "") -> dict:
    """A JSON object field; {} when absent and not required."""
    value = record.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise FieldError(f"'{where}{key}' is {_shown(value)}, expected an object")
    return value


def list_field(record: dict, key: str, *, where: str = "") -> list:
    value = record.get(key)
    if not isinstance(value, list):
        raise FieldError(f"'{where}{key}' is {_shown(value)}, expected a list")
    return value


def _kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "text", bool: "true/false", int: "number", float: "number"}.get(
        type(value), type(value).__name__)


def _shown(value: Any) -> str:
    if value is None:
        return "missing"
    text = json.dumps(value) if isinstance(value, (str, int, float, bool)) else f"a {_kind(value)}"
    return text if len(text) <= 40 else text[:37] + "..."
