"""Who is using the app: the one place a page learns the person and their role (``agentark.access``).

With login configured (``[auth]`` in the secrets), ``st.user`` carries ``is_logged_in``; the person is the
provider's email (else its subject) and the roles file gives the role. Without it, the name typed in the
sidebar with every right, as on one trusted person's laptop. Tests set ``AppTest.user``.
"""
from __future__ import annotations

import streamlit as st

from agentark import access
from agentark.access import Identity


def login_on() -> bool:
    """Whether the app asks people to log in: Streamlit puts ``is_logged_in`` in ``st.user`` exactly then."""
    return "is_logged_in" in st.user.to_dict()


def current() -> Identity | None:
    """The person using this session; None when login is on and nobody has logged in yet."""
    if not login_on():
        return access.local(st.session_state.get("annotator") or "")
    if not st.user.is_logged_in:
        return None
    info = st.user.to_dict()
    return access.logged_in(str(info.get("email") or info.get("sub") or ""))


def require_login() -> Identity:
    """The person, or a login screen that stops the page until they log in."""
    who = current()
    if who is None:
        st.title("AgentArk Studio")
        st.write("Log in to use the studio.")
        st.button("Log in", type="primary", key="login", on_click=st.login)
        st.stop()
    return who


def may(needed: str) -> bool:
    """Whether the person may do what needs role ``needed``."""
    who = current()
    return who is not None and who.may(needed)


def allowed(needed: str, what: str) -> bool:
    """``may``, and when not, a note saying which role it takes (instead of a control that fails)."""
    if may(needed):
        return True
    st.caption(f":material/lock: {what} needs the {needed} role; ask an admin (roles file: docs/deploy.md).")
    return False


def sidebar_identity() -> None:
    """Who you are (and a log-out button), or, without login, the name to store with your labels and marks."""
    if login_on():
        who = current()
        if who is not None:
            st.markdown(f":material/person: **{who.name}** · {who.role}", help=access.ROLE_HELP[who.role])
            st.button("Log out", key="logout", on_click=st.logout)
        return
    st.text_input("Annotator", key="annotator", placeholder="your name",
                  help="Stored, with the time, with every curation mark and step label you make; nothing is "
                       "overwritten.")


def name() -> str:
    """The name stored with what this person writes."""
    who = current()
    return who.name if who is not None else ""
