"""Real browser, real login: the app with an ``[auth]`` secrets section, a local OpenID Connect provider
(``oidc-provider-mock``) and a roles file; three people log in. A viewer cannot start a job, an annotator's
labels carry the identity the provider vouched for (not a typed name), an admin can type a server path."""
from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from agentark.debate import DebateConfig, debate_job
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import Store
from tests.e2e.conftest import screenshot
from tests.live_app import free_port, live_app

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

ROLES = """default = "viewer"
[people]
"anna@example.org" = "annotator"
"ada@example.org" = "admin"
"""


def _provider_command() -> list[str]:
    exe = Path(sys.executable).with_name("oidc-provider-mock")
    return [str(exe)] if exe.exists() else [shutil.which("oidc-provider-mock") or "oidc-provider-mock"]


@pytest.fixture
def provider():
    """A local OpenID Connect provider; yields its discovery URL once it answers."""
    port = free_port()
    proc = subprocess.Popen([*_provider_command(), "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    try:
        for _ in range(300):  # up to 30 s for the provider to answer its discovery document
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                proc.wait(timeout=0.1) if proc.poll() is not None else None
                if proc.poll() is not None:
                    raise RuntimeError("oidc-provider-mock exited")
                import time

                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def login_app(agentark_home, provider, tmp_path, monkeypatch):
    """The app on localhost with login through ``provider`` (secrets and roles in temp files, never committed)."""
    port = free_port()
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "studio"\nclient_secret = "anything"\n'
        f'server_metadata_url = "{provider}"\n')
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES)
    monkeypatch.setenv("AGENTARK_SECRETS", str(secrets_file))
    monkeypatch.setenv("AGENTARK_ROLES", str(roles))
    run_id, _ = debate_job.create_debate_run(
        DebateConfig(limit=2, engine="scripted", model="tests.scripted_steps:wrong_then_right"))
    debate_job.run_debate_job(run_id)
    with Store() as store:  # before the app opens the store: it is one process's file
        store.refresh()
        segment_runs(store, [run_id], SegmentConfig())
    with live_app(agentark_home, "--browser.gatherUsageStats", "false", port=port):
        yield f"http://localhost:{port}"


def _log_in(browser, url: str, email: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Log in").click()
    page.locator("input[name='sub']").fill(email)
    page.locator("input[name='sub']").press("Enter")
    page.get_by_role("heading", name="Run debates", exact=True).wait_for(timeout=30_000)
    page.get_by_text(email).first.wait_for(timeout=10_000)  # the sidebar says who you are
    return context, page


def test_three_people_log_in_with_their_roles(login_app, browser):
    # A viewer: no way to start a job, no path box.
    context, page = _log_in(browser, login_app, "vera@example.org")
    page.get_by_text("Starting a run needs the operator role").wait_for(timeout=10_000)
    assert page.get_by_role("button", name="Start run").count() == 0
    assert page.get_by_role("textbox", name="Annotator").count() == 0
    page.get_by_role("link", name="Label steps").click()
    page.get_by_text("Labelling needs the annotator role").wait_for(timeout=20_000)
    screenshot(page, "login_viewer.png")
    context.close()

    # An annotator: labels by keys, stored under the identity the provider gave.
    context, page = _log_in(browser, login_app, "anna@example.org")
    page.get_by_role("link", name="Label steps").click()
    page.get_by_text("Step 1 of").wait_for(timeout=30_000)
    page.locator("h1").click()
    for key in "gbg":
        page.keyboard.press(key)
    page.get_by_text("Every label is saved.").wait_for(timeout=20_000)
    screenshot(page, "login_annotator.png")
    context.close()

    # An admin: types a path on the server; the run form reads it (here: a file that is not there).
    context, page = _log_in(browser, login_app, "ada@example.org")
    page.get_by_role("combobox", name="dataset").click()
    page.get_by_role("option", name="a file on this machine…").click()
    missing = "/nonexistent/admin-typed.jsonl"
    page.get_by_role("textbox", name="File path (.jsonl / .json / .parquet / .csv)").fill(missing)
    page.get_by_role("button", name="Start run").click()
    page.get_by_text("admin-typed.jsonl").first.wait_for(timeout=30_000)
    screenshot(page, "login_admin.png")
    context.close()

    with Store() as store:
        who = store.df("SELECT DISTINCT annotator FROM step_labels WHERE source = 'human'")["annotator"].tolist()
        held = store.df("SELECT DISTINCT annotator FROM step_claims")["annotator"].tolist()
    assert who == ["anna@example.org"] and held == ["anna@example.org"]
