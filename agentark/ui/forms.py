"""Streamlit widgets for a config dataclass's options: the page-side twin of ``agentark.options.add_arguments``.

Design decision: a form never lists options by hand. It asks ``agentark.options.options(cls)`` for the fields,
with their kinds, defaults, bounds, choices and help, and draws one widget per field (one per member of a group,
help as the tooltip), so a field added to a config appears on the page and on the command line at once. The
values go back through ``agentark.options.from_values``, which builds and validates the config. A config made
of other configs (a study) offers each part's fields under its prefix, and ``by_part`` draws them grouped by the
``part`` their field names, one expander each, instead of one wall of fields.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from agentark.options import Option, options
from agentark.runs.names import RunLabels
from agentark.store import run_tables
from agentark.tasks import dataset_choices
from agentark.ui import active_model, get_store

FILE_OPTION = "a file on this machine…"


def _dataset(opt: Option, prefix: str, default: str) -> str:
    """A known dataset, or a file: the path box is read when the file option is picked."""
    offered = dataset_choices() + ["math", "metamathqa", FILE_OPTION]
    picked = st.selectbox(opt.label, offered, index=offered.index(default) if default in offered else 0,
                          help=opt.help, key=f"{prefix}_{opt.name}")
    path = st.text_input("File path (.jsonl / .json / .parquet / .csv)", key=f"{prefix}_path",
                         help="Used when the dataset is a file; GSM8K-style question/answer columns.")
    return path.strip() if picked == FILE_OPTION else picked


def _runs(opt: Option, key: str) -> list[str]:
    runs = run_tables.list_runs(get_store())
    return st.multiselect(opt.label + " (none: every run)", list(runs["run_id"]), help=opt.help, key=key,
                          format_func=RunLabels.of(runs).option)


def _pick_or_type(opt: Option, key: str, offered: dict[str, str], default: Any, path_label: str) -> str:
    """A picker of what the studio has (value -> text) over a box for anything else; the box wins when filled."""
    values = list(offered)
    picked = st.selectbox(opt.label, values, index=values.index(default) if default in values else 0,
                          format_func=lambda v: offered.get(v) or "(none)", help=opt.help, key=key)
    typed = st.text_input(path_label, key=f"{key}_path", help=opt.help)
    return typed.strip() or picked


def _export(opt: Option, key: str, default: Any) -> str:
    """An export of a kind the training kind ``trains`` reads, or a file path."""
    from agentark.training_sets import list_exports
    from agentark.jobs import get_kind

    exports = list_exports(get_store())
    usable = exports[exports["kind"].isin(get_kind(opt.meta["trains"]).export_kinds)]
    offered = {"": "", **{r.export_id: f"{r.export_id} · {r.n_rows} rows · {r.sha256[:12]}" for r in usable.itertuples()}}
    return _pick_or_type(opt, key, offered, default, "…or a file path")


def _base_model(opt: Option, key: str, default: Any) -> str:
    """The embedded model or one the studio trained, or a folder / hub id."""
    from agentark.checkpoints import list_models
    from agentark.config import EMBEDDED_MODEL

    offered = {m: m for m in [EMBEDDED_MODEL, *list_models(get_store())["model_id"]]}
    return _pick_or_type(opt, key, offered, default, "…or a folder / hub id")


def _prm(opt: Option, key: str, default: Any) -> str:
    """A PRM the studio trained, or a PRM folder."""
    from agentark.labels.prm_labeler import trained_prms

    return _pick_or_type(opt, key, {"": "", **{m: m for m in trained_prms()}}, default, "…or a PRM folder")


def _number(opt: Option, key: str, default: Any):
    """A number box (a slider for a float with both bounds) within the field's bounds."""
    cast = int if opt.kind == "int" else float
    low, high, step = (opt.meta.get(k) for k in ("min", "max", "step"))
    low, high = (None if v is None else cast(v) for v in (low, high))
    value = None if default is None else cast(default)
    if opt.kind == "float" and low is not None and high is not None and value is not None:
        return float(st.slider(opt.label, low, high, value, cast(step or (high - low) / 100), help=opt.help, key=key))
    got = st.number_input(opt.label, min_value=low, max_value=high, value=value,
                          step=cast(step) if step else (1 if opt.kind == "int" else None),
                          format=None if opt.kind == "int" else "%g", help=opt.help, key=key)
    return None if got is None else cast(got)


def _spec_lines(specs: Any) -> str:
    """Speakers as the per-speaker box writes them (``[ENGINE=]MODEL | system``), so a config's own show."""
    if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
        return ""
    lines = []
    for spec in specs:
        model = f"{spec['engine']}={spec['model']}" if spec.get("engine") else (spec.get("model") or "-")
        lines.append(f"{model} | {spec['system']}" if spec.get("system") else model)
    return "\n".join(lines)


def _widget(opt: Option, prefix: str, default: Any, given: bool = False):
    """One option's widget; ``given``: ``default`` is a config's own value, not the class default."""
    key, label, meta = f"{prefix}_{opt.name}", opt.label, opt.meta
    widget = meta.get("widget")
    if "lines" in meta:
        return st.text_area(label, value=_spec_lines(default), help=opt.help, key=key, height=100)
    if widget == "dataset":
        return _dataset(opt, prefix, default)
    if widget == "model":
        return st.text_input(label, value=default if given and default else active_model(), help=opt.help,
                             key=key).strip()
    if widget == "runs":
        return _runs(opt, key)
    if widget == "export":
        return _export(opt, key, default)
    if widget == "base_model":
        return _base_model(opt, key, default)
    if widget == "prm":
        return _prm(opt, key, default)
    if "suggest" in meta:
        offered = list(meta["suggest"]())
        if opt.kind == "list":
            return st.multiselect(label, offered, default=[d for d in default if d in offered], help=opt.help,
                                  key=key, accept_new_options=True)
        picked = st.selectbox(label, offered, index=offered.index(default) if default in offered else None,
                              help=opt.help, key=key, accept_new_options=True)
        return (picked or "").strip()
    if opt.kind == "bool":
        return st.checkbox(label, value=bool(default), help=opt.help, key=key)
    if opt.kind == "choice":
        shown = meta.get("labels", {})
        return st.selectbox(label, opt.choices, index=opt.choices.index(default) if default in opt.choices else None,
                            format_func=lambda c: shown.get(c, c), help=opt.help, key=key)
    if opt.kind == "list" and opt.choices:
        return st.multiselect(label, opt.choices, default=default, help=opt.help, key=key)
    if opt.kind == "list":
        text = st.text_input(label, value=" ".join(map(str, default or [])), help=opt.help, key=key)
        return text.replace(",", " ").split()
    if opt.kind in ("int", "float") and (not opt.optional or widget == "number"):
        return _number(opt, key, default)
    # Other optional numbers are text boxes: empty means "not set", which a number box that starts set cannot say.
    return st.text_input(label, value="" if default is None else str(default), help=opt.help, key=key)


def _shown(opt: Option, start: Any) -> list[tuple[Option, Any]]:
    """The widgets of one option with their first values: a group's members, a nested config's fields."""
    if opt.kind == "config":
        return [pair for m in opt.members for pair in _shown(m, getattr(start, m.key))]
    if opt.members and "lines" not in opt.meta:
        return [(m, start.get(m.key, m.default) if isinstance(start, dict) else m.default) for m in opt.members]
    return [(opt, start)]


def option_widgets(cls, key_prefix: str, skip: tuple[str, ...] = (), columns: int = 3, defaults: Any = None,
                   runs: list[str] | None = None, by_part: bool = False) -> dict:
    """Draw one widget per option of ``cls`` (per member of a group, per field of a nested config) in ``columns``
    columns, keyed ``{key_prefix}_{name}``; return name -> value for ``agentark.options.from_values``.

    ``defaults`` (a config) gives the widgets' first values instead of the class defaults; ``runs``, when the page
    already picked runs, fills the field that takes runs (``widget: runs``) instead of drawing a run picker;
    ``by_part`` draws the fields with a ``part`` in one expander per part, in the order the parts first appear."""
    fixed = {}
    parts: dict[str, list[tuple[Option, Any]]] = {}
    for opt in options(cls):
        if opt.name in skip:
            continue
        if runs is not None and opt.meta.get("widget") == "runs":
            fixed[opt.name] = list(runs)
            continue
        start = opt.default if defaults is None else getattr(defaults, opt.name)
        parts.setdefault(opt.meta.get("part", "") if by_part else "", []).extend(_shown(opt, start))
    values: dict = {}
    for part_name, shown in parts.items():
        with st.expander(part_name.capitalize()) if part_name else st.container():
            cols = st.columns(columns)
            for i, (opt, start) in enumerate(shown):
                with cols[i % columns]:
                    values[opt.name] = _widget(opt, key_prefix, start, given=defaults is not None)
    return {**values, **fixed}
