"""The project's .streamlit/config.toml: a plain ``streamlit run app.py`` binds loopback and watches no files.

Streamlit's file watcher follows the project folder (with .venv/ and ./data in it); while a job writes, it
overflows inotify and re-walks the tree, slowing the job ~2.5x. These tests start the app the way a user
would, with no flags for either setting, and look at the live server process.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    port = _free_port()
    env = dict(os.environ, AGENTARK_HOME=str(agentark_home), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the app did not answer on 127.0.0.1")
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and no other interface
        # A browser session (its websocket, as the browser opens it) is what Streamlit watches sources for.
        with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"]) as ws:
            rerun = BackMsg()
            rerun.rerun_script.query_string = ""
            ws.send(rerun.SerializeToString())
            ws.recv(timeout=30)
            time.sleep(1)
            assert _inotify_watches(proc.pid) == 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
