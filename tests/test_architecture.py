"""Layering rules, read from the source with ast (no tool needed): the store depends on no job, method or UI
module; no module imports another module's private names; agentark/ has no import cycle, not even through
type-only imports, and no two packages depend on each other; no two modules share a file name; SQL lives only in
agentark/store/."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "agentark"
# Job, method and UI modules: the store, the lowest layer, must not reach any of them, even indirectly.
NOT_FOR_THE_STORE = ("agentark.jobs", "agentark.labels.montecarlo", "agentark.train", "agentark.evaluate",
                     "agentark.debate", "agentark.labels.auto_labelers", "agentark.labels.human_labels",
                     "agentark.labels.agreement", "agentark.backends", "agentark.cli", "agentark.ui",
                     "agentark.checkpoints")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of nodes under ``if TYPE_CHECKING:``: annotations, never executed."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for n in ast.walk(node))
    return hidden


def imports(module: str, type_only: bool = False) -> list[tuple[str, list[str], int]]:
    """(imported agentark module, names taken from it, line) for every executed import of ``module``,
    function-level imports included: a lazy import is still a dependency. With ``type_only``, imports under
    ``if TYPE_CHECKING:`` count too: a cycle through annotations still ties two modules together."""
    tree = ast.parse(MODULES[module].read_text())
    hidden = set() if type_only else _type_checking_only(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "agentark"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "agentark":
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.append((sub, [], node.lineno) if sub in MODULES else (node.module, [a.name], node.lineno))
    return found


def _known(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def dependencies(module: str, type_only: bool = False) -> set[str]:
    """Modules that importing ``module`` runs: each target, even ``module``'s own package when it imports names
    from it, and the targets' parent packages (their ``__init__`` runs first), except the packages ``module``
    itself lives in, which run first whatever it imports (``type_only``: as :func:`imports`)."""
    own = {module.rsplit(".", i)[0] for i in range(module.count(".") + 1)}
    deps: set[str] = set()
    for target, _, _ in imports(module, type_only):
        target = _known(target)
        if target and target != "agentark":
            deps.add(target)
        while target and target != "agentark":
            if target not in own:
                deps.add(target)
            target = target.rpartition(".")[0]
    deps.discard(module)
    return deps


GRAPH = {m: dependencies(m) for m in MODULES}
TYPED_GRAPH = {m: dependencies(m, type_only=True) for m in MODULES}


def test_the_store_reaches_no_job_method_or_ui_module() -> None:
    for store_module in [m for m in MODULES if m.startswith("agentark.store")]:
        seen, todo = set(), [store_module]
        while todo:
            for dep in GRAPH[todo.pop()] - seen:
                seen.add(dep)
                todo.append(dep)
        bad = sorted(m for m in seen if m.startswith(NOT_FOR_THE_STORE))
        assert not bad, f"{store_module} imports (directly or not) {bad}"


def test_no_module_imports_a_private_name_from_another() -> None:
    offenders = [f"{m}:{line} takes {name} from {target}"
                 for m in MODULES for target, names, line in imports(m)
                 for name in names if name.startswith("_") and not name.startswith("__")]
    offenders += [f"{m}:{line} imports private module {target}"
                  for m in MODULES for target, _, line in imports(m)
                  if any(part.startswith("_") and not part.startswith("__") for part in target.split("."))]
    assert not offenders, "\n".join(offenders)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_agentark_has_no_import_cycle() -> None:
    assert cycles(GRAPH) == []


def test_no_cycle_even_through_type_only_imports() -> None:
    assert cycles(TYPED_GRAPH) == []


def package_of(module: str) -> str:
    """The package-level node of a module: ``agentark.X`` for a subpackage X and everything under it; a flat
    module (``agentark.grading`` before it became a package, ``agentark.config``) is its own node."""
    return ".".join(module.split(".")[:2])


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph collapsed to packages: X depends on Y when some module of X imports some module of Y."""
    packages: dict[str, set[str]] = {}
    for module, deps in graph.items():
        node = packages.setdefault(package_of(module), set())
        node.update(package_of(d) for d in deps if package_of(d) not in (package_of(module), "agentark"))
    return packages


PACKAGE_GRAPH = package_graph(TYPED_GRAPH)


def test_no_two_packages_depend_on_each_other() -> None:
    """Lazy imports and imports under TYPE_CHECKING count: a package-level tie is a cycle even when no single
    module import closes it."""
    ties = {f"{a} -> {b}: " + ", ".join(sorted(f"{m} -> {d}" for m in TYPED_GRAPH if package_of(m) == a
                                              for d in TYPED_GRAPH[m] if package_of(d) == b))
            for component in cycles(PACKAGE_GRAPH) for a in component for b in component
            if b in PACKAGE_GRAPH[a]}
    assert not ties, "packages that depend on each other (move the shared piece to the lower one):\n" + \
        "\n".join(sorted(ties))


def test_the_package_check_catches_a_planted_package_cycle() -> None:
    # No module cycle, yet store and runs depend on each other through different modules.
    planted = {**TYPED_GRAPH, "agentark.store.trace_tables": TYPED_GRAPH["agentark.store.trace_tables"]
               | {"agentark.runs.traces"}}
    assert cycles(planted) == []
    assert any({"agentark.runs", "agentark.store"} <= set(c) for c in cycles(package_graph(planted)))
    # Flat modules are nodes of their own; a package's modules are one node, so ties inside a package are no cycle.
    assert package_graph({"agentark.a.x": {"agentark.a.y", "agentark.flat"}, "agentark.a.y": {"agentark.a.x"},
                          "agentark.flat": set()}) == {"agentark.a": {"agentark.flat"}, "agentark.flat": set()}


def test_no_two_modules_share_a_name_across_layers() -> None:
    by_name: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name != "__init__.py":
            by_name.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    shared = {name: sorted(paths) for name, paths in by_name.items() if len(paths) > 1}
    assert not shared, f"modules that share a file name (rename one after what it holds): {shared}"


def test_the_checks_see_cycles_lazy_imports_and_parent_packages() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    # Importing agentark.labels.labelers runs agentark/labels/__init__ first: a dependency on the package too.
    assert {"agentark.jobs", "agentark.labels", "agentark.labels.labelers"} <= dependencies("agentark.cli.cmd_labels")
    # Function-level imports count (the old store <-> montecarlo cycle went through one in Store.refresh).
    assert "agentark.jobs" in dependencies("agentark.cli.cmd_jobs")
    # A module that imports names from its own package depends on the package's __init__.
    assert "agentark.store" in dependencies("agentark.store.label_tables")
    # Imports under TYPE_CHECKING count in the typed graph alone (agentark.runs.formats names Store that way).
    assert "agentark.store" in dependencies("agentark.runs.formats", type_only=True)
    assert "agentark.store" not in dependencies("agentark.runs.formats")


SQL = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|VIEW|INDEX)|"
                 r"BEGIN\s+TRANSACTION|read_parquet\()", re.IGNORECASE)


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            found.append((node.lineno, "".join(v.value for v in node.values if isinstance(v, ast.Constant))))
    return found


@pytest.mark.parametrize("folder", ["agentark", "pages", "app.py"])
def test_sql_lives_only_in_the_store(folder: str) -> None:
    paths = [ROOT / folder] if folder.endswith(".py") else sorted((ROOT / folder).rglob("*.py"))
    offenders = [f"{p.relative_to(ROOT)}:{line}: {text.strip()[:60]!r}"
                 for p in paths if "store" not in p.relative_to(ROOT).parts[:2]
                 for line, text in _strings(p) if SQL.search(text)]
    assert not offenders, "SQL outside agentark/store/:\n" + "\n".join(offenders)


def _calls(path: Path, dotted: str) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and ast.unparse(node.func) == dotted]


def test_one_clock_and_one_transaction_helper() -> None:
    """Every "now" comes from agentark.clock; every BEGIN/COMMIT/ROLLBACK from Store.transaction()."""
    clocks = [f"{p.relative_to(ROOT)}:{line}" for p in MODULES.values() if p.name != "clock.py"
              for name in ("datetime.now", "datetime.utcnow", "datetime.datetime.now")
              for line in _calls(p, name)]
    assert not clocks, clocks
    begins = [f"{p.relative_to(ROOT)}:{node.lineno}" for p in MODULES.values()
              for node in ast.walk(ast.parse(p.read_text()))
              if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(".execute") and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and re.match(r"\s*(BEGIN|COMMIT|ROLLBACK)\b", node.args[0].value, re.IGNORECASE)]
    # BEGIN, COMMIT and ROLLBACK once each: inside Store.transaction().
    assert len(begins) == 3 and all(b.startswith("agentark/store/__init__.py") for b in begins), begins


# --- Config fields are listed once: in their dataclass, never again by a CLI command or a page. ---

WIDGETS = {"text_input", "number_input", "selectbox", "multiselect", "slider", "select_slider", "checkbox", "radio",
           "text_area", "toggle", "pills", "segmented_control"}


def config_options() -> dict[str, dict[str, str]]:
    """class name -> {option name: its flag} for every config dataclass in agentark whose flags and form are
    generated (``agentark.options.options`` accepts it: every field has help), group members included."""
    import dataclasses
    import importlib

    from agentark.options import options

    found: dict[str, dict[str, str]] = {}
    for module, path in MODULES.items():
        text = path.read_text()
        if "@dataclass" not in text or "help" not in text:
            continue
        for cls in vars(importlib.import_module(module)).values():
            if not (isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module):
                continue
            try:
                opts = options(cls)
            except TypeError:  # a record without help text: no form or flags are generated from it
                continue
            found[cls.__name__] = {o.name: o.flag for opt in opts for o in (opt, *opt.members)}
    return found


CONFIGS = config_options()


def _names_under(node: ast.AST) -> set[str]:
    """Names and attribute names under ``node``: the config classes code there refers to."""
    return {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Attribute))}


def _text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def hand_listed_flags(source: str, configs: dict[str, dict[str, str]]) -> list[str]:
    """``add_argument("--flag")`` calls in a CLI module that repeat a flag of a config the command builds: the
    configs named in the parser's ``func`` and in the module's functions it calls."""
    tree = ast.parse(source)
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    flags: dict[str, list[tuple[int, str]]] = {}
    funcs: dict[str, str] = {}
    for call in [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]:
        parser = ast.unparse(call.func.value)
        if call.func.attr == "add_argument":
            flags.setdefault(parser, []).extend((call.lineno, t) for t in map(_text, call.args) if t)
        elif call.func.attr == "set_defaults":
            funcs.update({parser: ast.unparse(k.value) for k in call.keywords if k.arg == "func"})
    found = []
    for parser, func in funcs.items():
        body = functions.get(func)
        if body is None:
            continue
        named = _names_under(body)
        named |= {n for called in named & set(functions) for n in _names_under(functions[called])}
        taken = {flag: f"{cls}.{name}" for cls in named & set(configs) for name, flag in configs[cls].items()}
        found += [f"line {line}: {flag} repeats {taken[flag]}" for line, flag in flags.get(parser, ()) if flag in taken]
    return found


def _label(text: str) -> str:
    return re.sub(r"[\s-]+", "_", text.split("(")[0].strip().lower())


def hand_listed_widgets(source: str, configs: dict[str, dict[str, str]]) -> list[str]:
    """Widget calls on a page whose label or key names a field of a config the page refers to."""
    tree = ast.parse(source)
    fields = {name: cls for cls in _names_under(tree) & set(configs) for name in configs[cls]}
    found = []
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in WIDGETS):
            continue
        label = _text(call.args[0]) if call.args else _text(next((k.value for k in call.keywords if k.arg == "label"),
                                                                 None))
        key = _text(next((k.value for k in call.keywords if k.arg == "key"), None))
        for name in {_label(label or ""), key or ""} & set(fields):
            found.append(f"line {call.lineno}: widget for {fields[name]}.{name}")
    return found


def test_no_cli_command_lists_a_config_field_by_hand() -> None:
    offenders = [f"{p.relative_to(ROOT)} {problem}" for p in sorted((PACKAGE / "cli").glob("*.py"))
                 for problem in hand_listed_flags(p.read_text(), CONFIGS)]
    assert not offenders, "flags written by hand instead of add_arguments(parser, Config):\n" + "\n".join(offenders)


def test_no_page_lists_a_config_field_by_hand() -> None:
    offenders = [f"{p.relative_to(ROOT)} {problem}" for p in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
                 for problem in hand_listed_widgets(p.read_text(), CONFIGS)]
    assert not offenders, "widgets drawn by hand instead of option_widgets(Config, ...):\n" + "\n".join(offenders)


def test_the_field_checks_catch_a_hand_written_command_and_form() -> None:
    assert {"engine", "model", "base_urls", "critics", "question_col", "agent_model"} <= set(CONFIGS["DebateConfig"])
    assert CONFIGS["DebateConfig"]["base_urls"] == "--base-url"
    command = '''
def register(sub):
    d = sub.add_parser("debate")
    d.add_argument("--agents", type=int)
    d.add_argument("--base-url", action="append")
    d.add_argument("--run-id")
    d.set_defaults(func=cmd_debate)
    i = sub.add_parser("import-steps")
    i.add_argument("--model")
    i.set_defaults(func=cmd_import)

def config_from_args(args):
    return DebateConfig(agents=args.agents)

def cmd_debate(args):
    return config_from_args(args)

def cmd_import(args):
    return import_steps(args.model)
'''
    assert hand_listed_flags(command, CONFIGS) == ["line 4: --agents repeats DebateConfig.agents",
                                                   "line 5: --base-url repeats DebateConfig.base_urls"]
    page = '''
with st.form("new_run"):
    engine = st.selectbox("Engine", ["transformers", "openai"], key="run_engine")
    temperature = st.slider("Temperature", 0.0, 1.5, 0.7)
    limit = st.number_input("Problems", key="limit")
    imported = st.text_input("Model that spoke", key="import_model")
cfg = DebateConfig(engine=engine, temperature=temperature, limit=limit)
'''
    assert hand_listed_widgets(page, CONFIGS) == ["line 3: widget for DebateConfig.engine",
                                                  "line 4: widget for DebateConfig.temperature",
                                                  "line 5: widget for DebateConfig.limit"]
    assert hand_listed_widgets(page.replace("DebateConfig", "dict"), CONFIGS) == []


def test_methods_do_not_import_the_debate_config_even_for_types() -> None:
    """The config validates against ``METHODS``; methods read it through the ``RunSettings`` protocol."""
    tree = ast.parse(MODULES["agentark.debate.methods"].read_text())
    targets = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not targets & {"agentark.debate", "agentark.debate.debate_config"}, targets


# -- job kinds: one registry, no switch on a kind's name ---------------------------------------------------
REGISTRY = PACKAGE / "jobs" / "registry.py"


def kind_names() -> set[str]:
    import agentark.jobs.builtin  # noqa: F401
    from agentark.jobs import kinds

    return set(kinds())


def _named(node: ast.AST, names: set[str]) -> set[str]:
    """The registered kind names a literal (or a tuple, list or set of literals) spells."""
    elts = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return {e.value for e in elts if isinstance(e, ast.Constant) and e.value in names}


def kind_switches(source: str, names: set[str]) -> list[int]:
    """Lines that switch on a job kind's name: a comparison of something called ``kind`` with a kind-name literal
    (``kind == "prm"``, ``meta["kind"] in ("prm", "sft")``, an if/elif chain of them) or a mapping keyed by two
    or more kind names (``TITLES = {"prm": ..., "sft": ...}``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_named(s, names) for s in sides) and any("kind" in ast.unparse(s) for s in sides
                                                             if not _named(s, names)):
                found.add(node.lineno)
        elif isinstance(node, ast.Dict) and len({k.value for k in node.keys if k is not None
                                                 and _named(k, names)}) >= 2:
            found.add(node.lineno)
    return sorted(found)


def test_no_kind_switch_outside_the_registry() -> None:
    names = kind_names()
    paths = [p for p in [*MODULES.values(), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
             if p != REGISTRY]
    offenders = [f"{p.relative_to(ROOT)}:{line}" for p in paths for line in kind_switches(p.read_text(), names)]
    assert not offenders, "switch on a job kind's name (make it a field of the kind's record):\n" + "\n".join(offenders)


def test_the_kind_switch_check_catches_the_old_training_switches() -> None:
    old = '''
def preflight(kind, cfg):
    if kind == "prm":
        check_prm(cfg)
    elif kind == "sft":
        check_sft(cfg)
    if kind in ("prm", "sft"):
        resolve(cfg)
TITLES = {"prm": "PRM training", "sft": "SFT"}
'''
    assert kind_switches(old, {"prm", "sft", "pad"}) == [3, 5, 7, 9]
    assert kind_switches('if cfg.method == "debate":\n    pass\n', {"debate"}) == []


def test_the_job_framework_imports_no_domain_module() -> None:
    framework = [m for m in MODULES if m.startswith("agentark.jobs")]
    # agentark.jobs.machine is infrastructure too: the devices, slots per device and threads the slots hand out.
    # agentark.options is flat infrastructure too (below jobs in the package order): the executor's config is
    # checked by the same strict types as every other config.
    allowed = ("agentark.jobs", "agentark.store", "agentark.config", "agentark.errors", "agentark.ids",
               "agentark.clock", "agentark.jobs.machine", "agentark.options")
    bad = {m: sorted(d for d in GRAPH[m] if not d.startswith(allowed)) for m in framework}
    assert not any(bad.values()), bad
