"""``app``: serve the studio's Streamlit app (what ``make run`` does).

Design decision: the app is started from this process rather than by a bare ``streamlit run app.py``, to tell
Streamlit before the first browser connects that the app navigates with ``st.navigation``. A project with a
``pages/`` folder otherwise has its first session after a start run in Streamlit's old pages-folder mode,
which knows no ``url_path``: a deep link such as ``/run`` opened first on a fresh server answered "Page not
found" (later sessions were fine).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app.py"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``app`` command."""
    a = sub.add_parser("app", help="serve the studio's app (http://127.0.0.1:8501 unless --port)")
    a.add_argument("--port", type=int, default=None, help="port to serve on (default 8501)")
    a.add_argument("--address", default="127.0.0.1", help="address to listen on (default: this machine only)")
    a.add_argument("--headless", action="store_true", help="do not open a browser")
    a.add_argument("streamlit_flags", nargs=argparse.REMAINDER, metavar="-- FLAGS",
                   help="further `streamlit run` options after --, e.g. -- --server.fileWatcherType poll")
    a.set_defaults(func=cmd_app)


def streamlit_argv(args: argparse.Namespace) -> list[str]:
    """The ``streamlit run`` command line this command serves the app with."""
    argv = ["streamlit", "run", str(APP), "--server.address", args.address]
    if args.port is not None:
        argv += ["--server.port", str(args.port)]
    if args.headless:
        argv += ["--server.headless", "true"]
    flags = list(args.streamlit_flags or [])
    return argv + (flags[1:] if flags[:1] == ["--"] else flags)


def cmd_app(args: argparse.Namespace) -> int:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli as streamlit_cli

    # What st.navigation itself sets on its first call; set before any session, so the first one uses it too.
    PagesManager.uses_pages_directory = False
    sys.argv = streamlit_argv(args)
    try:
        streamlit_cli.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
