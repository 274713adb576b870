"""Safe to share: roles from the roles file, the app refusing other machines without login, path fields and
job controls only for the roles that may use them (AppTest with a logged-in ``st.user``), and who wrote what."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from agentark import access, jobs
from agentark.cli import main
from agentark.debate import DebateConfig
from agentark.errors import ConfigError
from agentark.runs import names
from tests.conftest import ROOT

ROLES = """default = "viewer"
[people]
"vera@example.org" = "viewer"
"anna@example.org" = "annotator"
"otto@example.org" = "operator"
"ada@example.org" = "admin"
"""


@pytest.fixture
def roles(tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text(ROLES)
    monkeypatch.setenv("AGENTARK_ROLES", str(path))
    return path


def test_roles_file_maps_people_and_unknown_people_get_the_default(roles, tmp_path):
    assert access.role_of("ANNA@example.org") == "annotator"
    assert access.role_of("stranger@example.org") == "viewer"
    who = access.logged_in("otto@example.org")
    assert who.may(access.OPERATE) and who.may(access.LABEL) and not who.may(access.ADMIN)
    bad = tmp_path / "bad.toml"
    bad.write_text('[people]\n"x@y" = "root"\n')
    with pytest.raises(ConfigError, match="unknown role 'root'"):
        access.read_roles(bad)


def test_a_non_loopback_address_without_login_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("AGENTARK_SECRETS", raising=False)
    assert main(["app", "--address", "0.0.0.0", "--headless"]) == 2
    err = capsys.readouterr().err
    assert "Refusing to serve 0.0.0.0 without login" in err and "--unsafe-no-login" in err
    from agentark.cli.cmd_app import check_address
    import argparse

    def args(**kw):
        return argparse.Namespace(**{"address": "0.0.0.0", "secrets": None, "unsafe_no_login": False, **kw})

    check_address(args(address="127.0.0.1"))
    check_address(args(address="localhost"))
    check_address(args(unsafe_no_login=True))
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nclient_id = "studio"\n')
    check_address(args(secrets=str(secrets)))  # login configured: other machines may connect
    with pytest.raises(ConfigError):
        check_address(args(address="192.168.1.5", secrets=str(tmp_path / "none.toml")))


def app(email: str | None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    if email is not None:
        at.user = {"is_logged_in": True, "email": email}
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def _keys(at: AppTest, kind: str) -> set[str]:
    return {w.key for w in getattr(at, kind)}


@pytest.mark.slow
def test_path_fields_are_absent_for_non_admins(roles):
    for email in ("vera@example.org", "otto@example.org"):
        at = app(email)
        assert any(email in m.value for m in at.sidebar.markdown)  # the sidebar says who you are
        assert "active_model" not in _keys(at, "text_input")
        assert "run_path" not in _keys(at, "text_input")
    # An operator starts training jobs and writes exports, but types no path for them.
    train = app("otto@example.org", "pages/7_train_models.py")
    assert train.selectbox and not {k for k in _keys(train, "text_input") if k.endswith("_path")}
    assert "exp_out" not in _keys(app("otto@example.org", "pages/6_export.py"), "text_input")
    operator = app("otto@example.org")
    assert operator.selectbox(key="run_dataset").options[-1] == "a file to upload…"
    admin = app("ada@example.org")
    assert {"run_path", "active_model", "run_model"} <= _keys(admin, "text_input")
    assert "exp_out" in _keys(app("ada@example.org", "pages/6_export.py"), "text_input")
    train = app("ada@example.org", "pages/7_train_models.py")
    assert {k for k in _keys(train, "text_input") if k.endswith("_path")}


def test_a_viewer_gets_no_job_controls_and_an_unknown_login_is_a_viewer(roles):
    for email in ("vera@example.org", "someone@else.org"):
        at = app(email)
        assert not at.main.button and "run_dataset" not in _keys(at, "selectbox")
        assert any("needs the operator role" in c.value for c in at.caption)
    assert app("otto@example.org").selectbox(key="run_dataset")


def test_logged_out_people_see_only_the_login_button(roles):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Log in"] and not at.sidebar.text_input


def test_jobs_and_run_names_record_who(roles):
    started = jobs.create("debate", DebateConfig(limit=1, engine="scripted", model="tests.scripted:first_number"),
                          by="otto@example.org")
    row = next(r for r in jobs.list_jobs() if r["job_id"] == started.job_id)
    assert row["started_by"] == "otto@example.org"
    from agentark.store import Store

    store = Store()
    store.refresh()
    names.rename(store, started.job_id, "first", by="anna@example.org")
    names.set_tags(store, started.job_id, "a, b", by="ada@example.org")
    history = names.name_history(store, started.job_id)
    assert list(history["changed_by"]) == ["ada@example.org", "anna@example.org"]
    assert list(history["name"]) == ["first", "first"]
