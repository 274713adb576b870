"""Streamlit widgets for a config dataclass's options: the page-side twin of ``agentark.options.add_arguments``.

Design decision: a form never lists options by hand. It asks ``agentark.options.options(cls)`` for the fields,
with their kinds, defaults, choices and help, and draws one widget per field (help as the tooltip), so a field
added to a config appears on the page and on the command line at once.
"""
from __future__ import annotations

import streamlit as st

from agentark.options import Option, options


def _widget(opt: Option, key: str):
    label = opt.name.replace("_", " ")
    if opt.kind == "bool":
        return st.checkbox(label, value=bool(opt.default), help=opt.help, key=key)
    if opt.kind == "choice":
        return st.selectbox(label, opt.choices, index=opt.choices.index(opt.default), help=opt.help, key=key)
    if opt.kind == "int" and not opt.optional:
        return int(st.number_input(label, value=int(opt.default), step=1, help=opt.help, key=key))
    if opt.kind == "float":
        return float(st.number_input(label, value=float(opt.default), format="%g", help=opt.help, key=key))
    if opt.kind == "list":
        text = st.text_input(label, value=" ".join(map(str, opt.default or [])), help=opt.help, key=key)
        return text.split()
    # Optional numbers are text boxes: empty means "not set", which a number box cannot say.
    return st.text_input(label, value="" if opt.default is None else str(opt.default), help=opt.help, key=key)


def option_widgets(cls, key_prefix: str, skip: tuple[str, ...] = (), columns: int = 3) -> dict:
    """Draw one widget per option of ``cls`` (except ``skip``) in ``columns`` columns; return name -> value."""
    opts = [o for o in options(cls) if o.name not in skip]
    cols = st.columns(columns)
    values = {}
    for i, opt in enumerate(opts):
        with cols[i % columns]:
            values[opt.name] = _widget(opt, f"{key_prefix}_{opt.name}")
    return values
