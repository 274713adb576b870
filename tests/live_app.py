"""A live ``streamlit run app.py``, and one browser-like session on it without a browser.

The session is the app's websocket, as a browser opens it: it asks for reruns and reads what the app sent
back, so a test can keep the app working (and watching its store) while it does something else.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_app(home: Path, *flags: str, script: Path | str = "app.py", timeout: float = 60,
             port: int | None = None) -> Iterator[tuple[subprocess.Popen, int]]:
    """``python -m agentark app`` (``streamlit run`` of another ``script``) from the repo root, so the project's
    .streamlit/config.toml applies, on a free port with ``home`` as AGENTARK_HOME; yields the server process and its port once it
    answers its health check. The tests, the browser tests' fixture and the benchmarks all start it here.
    ``port`` restarts a server where a browser still points (its localStorage belongs to that address)."""
    port = port or free_port()
    env = dict(os.environ, AGENTARK_HOME=str(home), PYTHONPATH=str(ROOT))
    env.pop("AGENTARK_STORE", None)  # the app serves home's store
    # The server's output goes to a file, not a pipe nobody reads, which would stall a long-running server.
    with tempfile.TemporaryFile() as log:
        # The app is served the way `make run` serves it (`python -m agentark app`); other scripts by streamlit.
        command = ([sys.executable, "-m", "agentark", "app", "--port", str(port), "--headless", "--", *flags]
                   if str(script) == "app.py" else
                   [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                    "--server.headless", "true", *flags])
        proc = subprocess.Popen(
            command,
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.time() + timeout
            while time.time() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.3)
            else:
                proc.kill()
                proc.wait()
                log.seek(0)
                raise RuntimeError(f"the app did not answer on 127.0.0.1:{port}: {log.read().decode()[-2000:]}")
            yield proc, port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def rerun(ws: ClientConnection, page: str = "") -> None:
    """Ask for a rerun of the app (``page``: a page's url path, or the default page)."""
    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_name = page
    ws.send(msg.SerializeToString())


def read_until_finished(ws: ClientConnection, timeout: float = 60) -> list[str]:
    """Read the app's messages until its script run finishes; return the texts of errors it showed."""
    errors = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        msg = ForwardMsg.FromString(ws.recv(timeout=deadline - time.time()))
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if element.WhichOneof("type") == "exception":
                errors.append(f"{element.exception.type}: {element.exception.message}")
            elif element.WhichOneof("type") == "alert" and element.alert.format == element.alert.ERROR:
                errors.append(element.alert.body)
        elif kind == "script_finished":
            return errors
    raise TimeoutError("the app's script run did not finish")


@contextmanager
def session(port: int) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], max_size=None) as ws:
        yield ws
