"""Domain errors for AgentArk Studio.

Every error a user can cause or meet carries, in its message, what to do about it. Pages show the
message once with ``st.error``; the CLI prints it and exits with status 2. Nothing else catches them.
"""
from __future__ import annotations


class AgentArkError(Exception):
    """Base class: a problem the user can fix; the message says how."""


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
