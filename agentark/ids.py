"""Run and job ids, checked where they enter the studio (CLI flags, pages, import records, job folders).

Design decision: an id is also a folder name (``runs/RUN_ID``, ``jobs/JOB_ID``), so it may hold only
letters, digits and ``_ . : = + -`` and must start with a letter or digit: no ``/`` or ``\\``, hence never
``..`` or an absolute path, and nothing can make a job read or write outside ``$AGENTARK_HOME``. Ids are
refused on the way in, before anything is stored, rather than escaped on the way out.
"""
from __future__ import annotations

import re

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
