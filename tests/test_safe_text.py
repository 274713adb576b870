"""The escapers of stored text (agentark.safe_text), and that pages hand raw HTML only what the studio built."""
from __future__ import annotations

import ast
from pathlib import Path

import markdown_it

from agentark.safe_text import html_text, md_code, md_text
from tests.hostile import ALL, PAYLOADS

ROOT = Path(__file__).resolve().parents[1]
# What may sit in Markdown shown with unsafe_allow_html: the studio's own HTML and text escaped for it.
HTML_BUILDERS = {"md_text", "md_code", "agent_dot", "correct_mark", "gate_html", "steps_html", "heatmap_legend_html"}


def rendered(markdown: str) -> str:
    return markdown_it.MarkdownIt("commonmark").render(markdown)


def test_markdown_escaping_leaves_no_markup():
    html = rendered(md_text(ALL))
    for tag in ("<script", "<img", "<iframe", "<svg", "<details", "<a ", "<strong", "<em", "<h1", "<pre", "<code"):
        assert tag not in html, tag
    assert "**PWNBOLD**" in html and "[PWNLINK](javascript:window.__pwned=1)" in html
    assert md_text("agent_1 _x_") == "agent_1 \\_x\\_" and md_text("a\nb") == "a  \nb"
    assert md_text("    four spaces").startswith("\u00a0" * 4)


def test_a_code_span_holds_any_backticks():
    for value in (PAYLOADS["boxed"], "``x```", "`", "a`b"):
        html = rendered(md_code(value))
        assert html.count("<code>") == 1 and "<iframe" not in html, (value, html)
    assert md_code("5") == "`5`" and md_code("") == ""


def test_html_escaping():
    assert html_text('<a href="x">\'&') == "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;"
    assert html_text(None) == ""


def test_raw_html_only_from_builders():
    """Every ``unsafe_allow_html=True`` in pages/ and agentark/ui/ formats only the studio's own HTML builders
    and escaped text, never a stored value as it is."""
    offenders = []
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("agentark/ui/*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and any(
                    k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and not k.value.value)
                    for k in node.keywords)):
                continue
            for part in ast.walk(node.args[0]):
                value = part.value if isinstance(part, ast.FormattedValue) else part
                name = getattr(getattr(value, "func", value), "id", None)
                if isinstance(part, ast.FormattedValue) and name not in HTML_BUILDERS | {"verdict"} or (
                        isinstance(part, ast.Call) and isinstance(part.func, ast.Name) and name not in HTML_BUILDERS):
                    offenders.append(f"{path.relative_to(ROOT)}:{part.lineno}: {ast.unparse(value)}")
    assert not offenders, offenders
