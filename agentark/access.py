"""Who may do what: the four roles, the roles file that maps people to them, and whether login is configured.

Design decision: the identity a page acts as comes from one place. With login configured (an ``[auth]``
section in Streamlit's secrets, OpenID Connect through ``st.login``), it is the provider's email (or subject),
and its role is what the roles file says; a person the file does not list gets the file's ``default`` role
(viewer unless set). Without login the studio is one trusted person's: the name typed in the sidebar with
every right, and the app refuses to listen beyond this machine (``agentark.cli.cmd_app``). The
CLI is that trusted person too: ``$USER`` or ``--annotator``. This module holds no Streamlit:
``agentark.ui.identity`` reads ``st.user`` and asks here.

The roles file (``$AGENTARK_HOME/roles.toml``, or the file ``AGENTARK_ROLES`` names)::

    default = "viewer"
    [people]
    "alice@example.org" = "annotator"
    "bob@example.org" = "operator"
    "carol@example.org" = "admin"
"""
from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from agentark import config
from agentark.errors import ConfigError

# Lowest first: each role may do everything the ones before it may.
ROLES = ("viewer", "annotator", "operator", "admin")
ROLE_HELP = {
    "viewer": "reads every page; writes nothing",
    "annotator": "labels steps, marks problems and messages, names and tags runs",
    "operator": "starts, stops and resumes jobs and studies",
    "admin": "types paths on the server, chooses where exports go, deletes, changes settings",
}
# What each right needs; pages ask ``Identity.may(RIGHT)``.
LABEL, OPERATE, ADMIN = "annotator", "operator", "admin"


@dataclass(frozen=True)
class Identity:
    """Who acts: ``name`` is stored with what they write; ``logged_in`` says it came from the OIDC provider."""

    name: str
    role: str
    logged_in: bool = False

    def may(self, needed: str) -> bool:
        """Whether this role reaches ``needed`` (one of ``ROLES``)."""
        return ROLES.index(self.role) >= ROLES.index(needed)


def roles_path() -> Path:
    """The roles file: ``AGENTARK_ROLES``, else ``roles.toml`` in the studio's home."""
    explicit = os.environ.get("AGENTARK_ROLES")
    return Path(explicit).expanduser() if explicit else config.home() / "roles.toml"


def _check_role(role: object, where: str) -> str:
    if role not in ROLES:
        raise ConfigError(f"{where}: unknown role {role!r} in the roles file {roles_path()}; use one of "
                          f"{', '.join(ROLES)}.")
    return str(role)


def read_roles(path: Path | None = None) -> tuple[str, dict[str, str]]:
    """The default role and person -> role (names lower-cased) from the roles file; no file: viewer, nobody."""
    path = path or roles_path()
    if not path.exists():
        return "viewer", {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The roles file {path} is not TOML ({exc}); see docs/deploy.md for its form.") from exc
    default = _check_role(data.get("default", "viewer"), "default")
    people = data.get("people", {})
    if not isinstance(people, dict):
        raise ConfigError(f"The roles file {path}: [people] must map emails to roles; see docs/deploy.md.")
    return default, {str(k).strip().lower(): _check_role(v, str(k)) for k, v in people.items()}


def role_of(name: str, path: Path | None = None) -> str:
    """The role the roles file gives a logged-in person (by email or subject, case-insensitive)."""
    default, people = read_roles(path)
    return people.get(name.strip().lower(), default)


def logged_in(name: str, path: Path | None = None) -> Identity:
    """The identity of a person the OIDC provider vouched for."""
    return Identity(name=name, role=role_of(name, path), logged_in=True)


def local(typed: str = "") -> Identity:
    """The identity without login: the one trusted person at this machine, named as they typed it (the app's
    sidebar; empty until they do) with every right."""
    return Identity(name=typed.strip(), role="admin")


def login_configured(secrets_files: list[Path]) -> bool:
    """Whether any of Streamlit's secrets files has an ``[auth]`` section, which turns ``st.login`` on."""
    for path in secrets_files:
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"The secrets file {path} is not TOML ({exc}); see docs/deploy.md.") from exc
        if isinstance(data.get("auth"), dict) and data["auth"]:
            return True
    return False


def is_loopback(address: str) -> bool:
    """Whether a listen address reaches only this machine."""
    if address == "localhost":
        return True
    try:  # "" and 0.0.0.0 / :: listen everywhere
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
