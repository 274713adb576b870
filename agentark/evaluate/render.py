"""HTML pieces shared by the Compare page and the HTML report: PRM-tinted steps, markers, legend, gates.

Design decision: one colour scale, ``score_colour``, maps a PRM step score in [0, 1] from red (wrong)
through amber to green (good), and the legend is drawn from that same function, so the legend cannot
disagree with the tints it explains.
"""
from __future__ import annotations

from collections.abc import Iterable

from agentark.evaluate.markers import Marker, find_markers
from agentark.evaluate.sidebyside import SystemView
from agentark.safe_text import html_text

_STOPS = ((0.0, (220, 38, 38)), (0.5, (245, 190, 60)), (1.0, (34, 160, 80)))
NO_SCORE = "#eef0f3"
MARK_STYLE = "background:#ffd6a5;border-bottom:2px solid #e07a00;padding:0 1px"


def score_colour(score: float | None, alpha: float = 0.35) -> str:
    """The tint of a step with PRM score ``score`` (None: no PRM picked, neutral grey)."""
    if score is None:
        return NO_SCORE
    s = min(max(float(score), 0.0), 1.0)
    for (x0, c0), (x1, c1) in zip(_STOPS, _STOPS[1:]):
        if s <= x1:
            t = (s - x0) / (x1 - x0)
            r, g, b = (round(a + (b_ - a) * t) for a, b_ in zip(c0, c1))
            return f"rgba({r},{g},{b},{alpha})"
    return f"rgba{(*_STOPS[-1][1], alpha)}"


def heatmap_legend_html() -> str:
    """A gradient bar labelled 0 (wrong) to 1 (good), built from ``score_colour``."""
    stops = ", ".join(f"{score_colour(i / 10, 0.9)} {i * 10}%" for i in range(11))
    return (
        '<div class="prm-legend" style="display:flex;align-items:center;gap:0.5em;font-size:0.85em">'
        "<span>PRM step score</span><span>0 · wrong</span>"
        f'<span style="display:inline-block;width:180px;height:12px;border-radius:3px;'
        f'background:linear-gradient(to right, {stops})"></span><span>1 · good</span>'
        f'<span style="display:inline-block;width:14px;height:12px;background:{NO_SCORE};border:1px solid #ccc">'
        "</span><span>no score</span>"
        f'<span style="{MARK_STYLE}">marker</span><span>self-correction</span></div>'
    )


def _marked(text: str, markers: Iterable[Marker], offset: int = 0, style: str = MARK_STYLE) -> str:
    """``text`` escaped, with each marker that lies inside it (marker positions count from ``offset`` characters
    before ``text``) wrapped in ``<mark class="selfcorr">``."""
    out, pos = [], 0
    for m in markers:
        start, end = m.start - offset, m.end - offset
        if start < pos or end > len(text):
            continue
        out.append(html_text(text[pos:start]))
        out.append(f'<mark class="selfcorr" title="self-correction: {m.name}" style="{style}">'
                   f"{html_text(text[start:end])}</mark>")
        pos = end
    out.append(html_text(text[pos:]))
    return "".join(out)


def highlight_html(text: str | None, style: str = MARK_STYLE) -> str:
    """``text`` escaped for HTML with every self-correction marker in it marked."""
    return _marked(text or "", find_markers(text), style=style)


def steps_html(system: SystemView) -> str:
    """The message with each step tinted by its score (title: step number and score) and markers marked."""
    content, out, pos = system.content, [], 0
    for step in system.steps:
        out.append(html_text(content[pos:step.char_start]))
        score = "no score" if step.score is None else f"{step.score:.2f}"
        out.append(f'<span class="prm-step" data-score="{score}" title="step {step.idx + 1}: {score}" '
                   f'style="background:{score_colour(step.score)};border-radius:3px;padding:1px 2px">'
                   f"{_marked(step.text, system.markers, step.char_start)}</span>")
        pos = step.char_end
    out.append(html_text(content[pos:]))
    return ('<div class="system-steps" style="white-space:pre-wrap;border:1px solid #ddd;padding:0.6em;'
            'border-radius:6px;font-size:0.92em">' + "".join(out) + "</div>")


def gate_html(passed: bool | None, text: str) -> str:
    """A gate as a coloured mark and its text; ``passed`` None (cannot be judged) is a grey N/A."""
    colour, mark = {True: ("#15803d", "PASS"), False: ("#b91c1c", "FAIL"), None: ("#6b7280", "N/A")}[passed]
    return (f'<span class="gate" style="display:inline-block;margin:2px 0;padding:2px 8px;border-radius:4px;'
            f'background:{colour};color:white;font-weight:600">{mark}</span> {html_text(text)}')
