"""Domain errors for AgentArk Studio.

Every error a user can cause or meet carries, in its message, what to do about it. Pages show the
message once with ``st.error``; the CLI prints it and exits with status 2. Nothing else catches them.

Design decision: the library is neutral about its faces. A message names a config field as ``[[field]]``;
``str(exc)`` shows the bare field name, the CLI words it as its flag (``--max-tokens``, :func:`as_flag`) and a
page as its form label ("max tokens", :func:`as_label`), so "set --export" never shows on a page.
"""
from __future__ import annotations

import re
from collections.abc import Callable

FIELD_REF = re.compile(r"\[\[(\w+)\]\]")


def as_flag(field: str) -> str:
    """How the CLI names a config field: its flag."""
    return "--" + field.replace("_", "-")


def as_label(field: str) -> str:
    """How a page names a config field: its form label, in bold."""
    return "**" + field.replace("_", " ") + "**"


class AgentArkError(Exception):
    """Base class: a problem the user can fix; the message says how, naming config fields as ``[[field]]``."""

    @property
    def template(self) -> str:
        return str(self.args[0]) if self.args else ""

    @property
    def fields(self) -> list[str]:
        """The config fields the message names, in order."""
        return FIELD_REF.findall(self.template)

    def worded(self, name: Callable[[str], str]) -> str:
        """The message with every field reference worded by ``name`` (:func:`as_flag`, :func:`as_label`)."""
        return FIELD_REF.sub(lambda m: name(m.group(1)), self.template)

    def __str__(self) -> str:
        return self.worded(lambda field: field)


class ConfigError(AgentArkError, ValueError):
    """A setting is out of range or inconsistent."""


class DatasetError(AgentArkError):
    """A dataset name, file or column mapping cannot be used."""


class ModelNotFoundError(AgentArkError):
    """A model folder, id or embedded package is missing."""


class EngineError(AgentArkError):
    """A generation engine cannot be created or reached."""


class StoreLockedError(AgentArkError):
    """Another process holds the DuckDB store read-write."""


class StoreError(AgentArkError):
    """The store is missing something asked for (an unknown run id, say)."""


class ImportFormatError(AgentArkError):
    """An imported file is not in the format it was declared to be."""


class JobError(AgentArkError):
    """A background job cannot be started, resumed or found."""


class IdError(AgentArkError, ValueError):
    """A run or job id that could not safely be a folder name (see ``agentark.ids``)."""
