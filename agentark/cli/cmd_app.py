"""``app``: serve the studio's Streamlit app (what ``make run`` does).

Design decision: the app is started from this process rather than by a bare ``streamlit run app.py``, to tell
Streamlit before the first browser connects that the app navigates with ``st.navigation``. A project with a
``pages/`` folder otherwise has its first session after a start run in Streamlit's old pages-folder mode,
which knows no ``url_path``: a deep link such as ``/run`` opened first on a fresh server answered "Page not
found" (later sessions were fine).

Without login configured (an ``[auth]`` section in a secrets file, see docs/deploy.md) the studio is one trusted
person's, so it refuses an address other machines can reach unless ``--unsafe-no-login`` says so.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from agentark.access import is_loopback, login_configured
from agentark.errors import ConfigError

APP = Path(__file__).resolve().parents[2] / "app.py"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``app`` command."""
    a = sub.add_parser("app", help="serve the studio's app (http://127.0.0.1:8501 unless --port)")
    a.add_argument("--port", type=int, default=None, help="port to serve on (default 8501)")
    a.add_argument("--address", default="127.0.0.1", help="address to listen on (default: this machine only)")
    a.add_argument("--headless", action="store_true", help="do not open a browser")
    a.add_argument("--secrets", default=os.environ.get("AGENTARK_SECRETS"),
                   help="Streamlit secrets file whose [auth] section turns login on (default: $AGENTARK_SECRETS, "
                        "else .streamlit/secrets.toml here or in your home folder)")
    a.add_argument("--unsafe-no-login", action="store_true",
                   help="serve a non-loopback --address without login: anyone who reaches the port may start jobs "
                        "and read and write files on this machine")
    a.add_argument("streamlit_flags", nargs=argparse.REMAINDER, metavar="-- FLAGS",
                   help="further `streamlit run` options after --, e.g. -- --server.fileWatcherType poll")
    a.set_defaults(func=cmd_app)


def streamlit_argv(args: argparse.Namespace) -> list[str]:
    """The ``streamlit run`` command line this command serves the app with."""
    argv = ["streamlit", "run", str(APP), "--server.address", args.address]
    if args.secrets:
        argv += ["--secrets.files", str(Path(args.secrets).expanduser().resolve())]
    if args.port is not None:
        argv += ["--server.port", str(args.port)]
    if args.headless:
        argv += ["--server.headless", "true"]
    flags = list(args.streamlit_flags or [])
    return argv + (flags[1:] if flags[:1] == ["--"] else flags)


def secrets_files(args: argparse.Namespace) -> list[Path]:
    """The secrets files Streamlit will read: the one given, else its defaults (home, then this folder)."""
    if args.secrets:
        return [Path(args.secrets).expanduser()]
    return [Path.home() / ".streamlit" / "secrets.toml", Path.cwd() / ".streamlit" / "secrets.toml"]


def check_address(args: argparse.Namespace) -> None:
    """Refuse to serve other machines without login, unless the unsafe flag says so."""
    if is_loopback(args.address) or args.unsafe_no_login or login_configured(secrets_files(args)):
        return
    raise ConfigError(f"Refusing to serve {args.address} without login: anyone who reaches the port could start "
                      "jobs and read files on this machine. Configure login (an [auth] section in the secrets file, "
                      "[[secrets]]; see docs/deploy.md), or serve 127.0.0.1 behind your own access control, or pass "
                      "[[unsafe_no_login]] if this network is yours alone.")


def cmd_app(args: argparse.Namespace) -> int:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli as streamlit_cli

    check_address(args)
    # What st.navigation itself sets on its first call; set before any session, so the first one uses it too.
    PagesManager.uses_pages_directory = False
    sys.argv = streamlit_argv(args)
    try:
        streamlit_cli.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
