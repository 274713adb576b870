"""The project's .streamlit/config.toml: a plain ``streamlit run app.py`` binds loopback and watches no files.

Streamlit's file watcher follows the project folder (with .venv/ and ./data in it); while a job writes, it
overflows inotify and re-walks the tree, slowing the job ~2.5x. These tests start the app the way a user
would, with no flags for either setting, and look at the live server process.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.live_app import ROOT, live_app, rerun, session


def test_config_resolves_to_loopback_and_no_watcher():
    code = ("from streamlit import config; print(config.get_option('server.address'), "
            "config.get_option('server.fileWatcherType'), config.get_option('server.runOnSave'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["127.0.0.1", "none", "False"], out.stderr


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port``, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def _inotify_watches(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if "inotify" in os.readlink(fd):
                count += Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text().count("inotify wd:")
        except OSError:
            continue
    return count


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads listening sockets from Linux's /proc")
def test_plain_streamlit_run_listens_on_loopback_only_and_watches_nothing(agentark_home):
    with live_app(agentark_home) as (proc, port):
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and no other interface
        # A browser session (its websocket, as the browser opens it) is what Streamlit watches sources for.
        with session(port) as ws:
            rerun(ws)
            ws.recv(timeout=30)
            time.sleep(1)
            assert _inotify_watches(proc.pid) == 0
