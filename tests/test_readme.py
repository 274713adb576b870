"""The README and the docs pages it links: every link leads somewhere and every command is one the tools take.

Files: every relative link of README.md and docs/*.md names a file that exists. Commands: every
``python -m agentark`` line of the README parses with the CLI's own parser (placeholders such as RUN_ID are
plain values to it), the docs pages' lines name existing commands and parse when they hold no ``...``
ellipsis, bench scripts exist and take ``--help``, and ``make`` targets exist. App links: every address the
README and the pages give (``/run``, ``/transcript?run=...``, ``page_link``/``switch_page`` targets, the
viewer links the problem list builds) opens its own page, not "Page not found", on a fresh server started
the way ``make run`` starts it; ``/run`` is asked first, when Streamlit's first-session fallback would bite.
"""
from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.conftest import ROOT
from tests.live_app import live_app, session

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
APP = "http://127.0.0.1:8501"


def links(path: Path) -> list[str]:
    return LINK.findall(path.read_text())


def bash_lines(path: Path) -> list[str]:
    """The commands of a markdown file's ```bash blocks, comments and continuation lines joined."""
    out, block, pending = [], False, ""
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            block = line.strip() == "```bash"
            continue
        if not block:
            continue
        line = re.sub(r"\s+#\s.*$", "", line).strip()
        if not line or line.startswith("#"):
            continue
        pending += line
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        out.append(pending)
        pending = ""
    return out


def pages_by_url() -> dict[str, Path]:
    """url_path -> page file, from app.py's st.Page calls ('' is the default page)."""
    found = {}
    for node in ast.walk(ast.parse((ROOT / "app.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            kw = {k.arg: k.value for k in node.keywords}
            url = "" if isinstance(kw.get("default"), ast.Constant) and kw["default"].value else kw["url_path"].value
            found[url] = ROOT / node.args[0].value
    return found


def page_title(page: Path) -> str:
    for node in ast.walk(ast.parse(page.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "title":
            return node.args[0].value
    raise AssertionError(f"{page} has no st.title")


def test_every_file_link_exists():
    missing = []
    for doc in DOCS:
        for target in links(doc):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            if not (doc.parent / target.split("#")[0]).exists():
                missing.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert missing == []


def test_the_readme_is_short_and_links_its_docs():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 80
    for heading in ("## Run it", "## A five-minute tour", "## Evaluate and compare", "## More"):
        assert heading in readme
    assert "make run" in readme and "make test" in readme
    more = readme.split("## More", 1)[1]
    for page in ("docs/cli.md", "docs/training-data.md", "docs/training.md", "docs/figures.md", "docs/evaluate.md"):
        assert f"]({page})" in more
    assert "problems all of them finished" in readme.split("## Evaluate and compare", 1)[1]


def agentark_args(command: str) -> list[str] | None:
    words = shlex.split(command)
    for i, word in enumerate(words):
        if word == "-m" and i + 1 < len(words) and words[i + 1] == "agentark":
            return words[i + 2:]
    return None


def test_readme_commands_parse():
    from agentark.cli import build_parser

    commands = bash_lines(ROOT / "README.md")
    assert any(c.startswith("make run") for c in commands) and any(c.startswith("make test") for c in commands)
    parsed = 0
    for command in commands:
        args = agentark_args(command)
        if args is not None:
            build_parser().parse_args(args)  # SystemExit on an unknown command or flag
            parsed += 1
    assert parsed >= 1


def test_docs_commands_name_real_commands():
    from agentark.cli import build_parser

    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices)
    makefile = (ROOT / "Makefile").read_text()
    for doc in DOCS:
        for command in bash_lines(doc):
            if command.startswith("make "):
                assert re.search(rf"^{command.split()[1]}:", makefile, re.M), f"{doc.name}: {command}"
                continue
            if "bench/" in command:
                script = re.search(r"bench/\w+\.(py|sh)", command).group(0)
                assert (ROOT / script).exists(), f"{doc.name}: {command}"
                continue
            args = agentark_args(command)
            if args is None:
                continue
            assert args and args[0] in known, f"{doc.name}: {command}"
            if "..." not in command and not re.search(r"[\[{|]", command):
                try:
                    parser.parse_args(args)
                except SystemExit as exc:
                    raise AssertionError(f"{doc.name}: `{command}` does not parse") from exc


def test_bench_scripts_the_readme_and_figures_name_take_help():
    scripts = sorted({m for doc in (ROOT / "README.md", ROOT / "docs" / "figures.md")
                      for m in re.findall(r"bench/\w+\.py", doc.read_text())})
    assert "bench/first_run.py" in scripts and "bench/debate_batching.py" in scripts
    for script in ("bench/first_run.py", "bench/debate_batching.py"):
        done = subprocess.run([sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr


def app_links() -> list[str]:
    """Every app address the README and the pages give, as 'path?query'."""
    found: list[str] = []
    for doc in DOCS:
        text = doc.read_text()
        found += [t[len(APP):] for t in links(doc) if t.startswith(APP)]
        found += re.findall(r"`(/[a-z-]+(?:\?[^`\s]*)?)`", text)
    by_file = {path.relative_to(ROOT).as_posix(): url for url, path in pages_by_url().items() if url}
    for page in sorted((ROOT / "pages").glob("*.py")) + [ROOT / "agentark" / "ui" / "first_result.py"]:
        source = page.read_text()
        for target in re.findall(r"(?:page_link|switch_page)\(\s*\"(pages/[\w.]+)\"", source):
            found.append("/" + by_file[target])
        found += ["/" + t + "?x=1" for t in re.findall(r"\"(transcript|problem-list|compare)\?\"", source)]
    return list(dict.fromkeys(found))


def open_page(port: int, address: str) -> tuple[bool, list[str]]:
    """Open ``address`` as a browser's first load does; (page not found?, headings drawn)."""
    parts = urlsplit(address)
    msg = BackMsg()
    msg.rerun_script.query_string = parts.query
    msg.rerun_script.page_name = parts.path.strip("/")
    not_found, headings = False, []
    with session(port) as ws:
        ws.send(msg.SerializeToString())
        deadline = time.time() + 120
        while time.time() < deadline:
            fwd = ForwardMsg.FromString(ws.recv(timeout=deadline - time.time()))
            kind = fwd.WhichOneof("type")
            not_found |= kind == "page_not_found"
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                if element.WhichOneof("type") == "heading":
                    headings.append(element.heading.body)
            if kind == "script_finished":
                return not_found, headings
    raise TimeoutError(address)


def test_every_app_link_opens_its_page_on_a_fresh_server(agentark_home):
    addresses = app_links()
    assert addresses[0] == "/run" or "/run" in addresses
    addresses = ["/run"] + [a for a in addresses if a != "/run"]
    pages = pages_by_url()
    assert {urlsplit(a).path.strip("/") for a in addresses} >= {"run", "transcript", "label", "problem-list"}
    with live_app(agentark_home, "--server.address", "127.0.0.1", timeout=180) as (_, port):
        for address in addresses:
            url = urlsplit(address).path.strip("/")
            assert url in pages, f"{address} is no page of app.py"
            not_found, headings = open_page(port, address)
            assert not not_found, f"{address} answered 'Page not found'"
            assert headings and headings[0] == page_title(pages[url]), (address, headings[:2])
