"""A method's record carries its behaviour: a new method, defined in a module of its own and registered, appears in
the CLI, the Run page, compare and the one-agent-vs-team result with no other edit; no module outside
``agentark/debate/methods.py`` switches on a method's name."""
from __future__ import annotations

import ast
import importlib
import sys

import pytest
from streamlit.testing.v1 import AppTest

from agentark.debate.methods import METHODS
from tests.conftest import ROOT

ONESTEP = "builtin:arithmetic-onestep"
# A team of two whose first agent decides, and a lone agent that thinks twice: what the studio must learn from
# their records alone (team or not, first answers given alone, how captions name them, their temperature).
PLUGIN = '''
"""Two methods the studio has never heard of."""
from agentark.debate.methods import Decision, Method, register_method
from agentark.debate.prompts import solve_messages


@register_method
class FirstSpeaker(Method):
    """Two agents answer alone; the first one's answer stands."""

    name, summary, team_words = "first_speaker", "two agents, the first decides", "first-speaker rule"
    defaults = (2, 1)
    single_round = solo_first_round = True

    def play(self, problem):
        names = self.speakers(self.cfg)
        records = yield [self.turn(a, 1, "solver", solve_messages(problem.question, self.cfg.solve_prompt))
                         for a in names]
        return Decision(records[0]["answer"])


@register_method
class Lone(Method):
    """One agent, one answer, sampled hot."""

    name = "lone"
    summary = "one agent, sampled"
    fixed_agents = 1
    single_round = True
    team = False
    temperature = 0.3

    def play(self, problem):
        (record,) = yield [self.turn("agent_1", 1, "solver", solve_messages(problem.question, self.cfg.solve_prompt))]
        return Decision(record["answer"])
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """The plugin module, imported from a temporary folder; its methods are unregistered afterwards."""
    (tmp_path / "plugin_methods.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("plugin_methods")
    yield module
    for name in ("first_speaker", "lone"):
        METHODS.pop(name, None)
    sys.modules.pop("plugin_methods", None)


def method_action(command: str):
    from agentark.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return next(a for a in sub._actions if a.dest == "method")


def test_a_new_method_is_offered_by_the_cli_and_runs_there(plugin, capsys):
    from agentark.cli import main

    for command in ("debate", "eval"):
        assert "first_speaker" in method_action(command).help and "lone" in method_action(command).help
    # Its summary is offered with it, as the built-ins' are.
    assert "first_speaker: two agents, the first decides" in method_action("debate").help
    code = main(["debate", "--method", "first_speaker", "--dataset", ONESTEP, "--limit", "2", "--engine", "scripted",
                 "--model", "tests.scripted:sum_then_first"])
    out = capsys.readouterr().out
    assert code == 0, out
    # The one-agent-vs-team result reads the record: a team whose first answers were given alone, named by its words.
    assert "one agent vs the team:" in out and "The team (2 agents, first-speaker rule)" in out


def test_a_new_method_has_its_one_agent_vs_team_result_and_its_role_in_compare(plugin):
    from agentark.config import store_path
    from agentark.debate import DebateConfig, debate_job
    from agentark.evaluate.bon import draws_samples
    from agentark.evaluate.compare import infer_roles
    from agentark.evaluate.team_vs_single import team_vs_single
    from agentark.store import Store

    runs = {}
    for method in ("first_speaker", "lone"):
        cfg = DebateConfig(method=method, dataset=ONESTEP, limit=3, engine="scripted",
                           model="tests.scripted:sum_then_first")
        runs[method], _ = debate_job.create_debate_run(cfg)
        debate_job.run_debate_job(runs[method])
    store = Store(store_path())
    store.refresh()
    result = team_vs_single(store, runs["first_speaker"])
    assert (result.problems, result.first_answers, result.agents) == (3, 6, 2)
    assert (result.single.accuracy, result.team.accuracy) == (1.0, 1.0)
    assert any("first-speaker rule" in line for line in result.details())
    assert team_vs_single(store, runs["lone"]) is None  # no team, no comparison
    # A team's run is a teacher; a lone agent's run on an untrained model is a base.
    assert infer_roles(store, [runs["first_speaker"], runs["lone"]]) == {
        runs["first_speaker"]: "teacher", runs["lone"]: "base"}
    assert not draws_samples("first_speaker") and draws_samples("self_consistency")


def test_a_new_method_is_evaluated_as_its_record_says(plugin):
    from agentark.evaluate.eval_config import EvalConfig

    lone = EvalConfig(model="tests.scripted:first_number", engine="scripted", method="lone", samples=4)
    # Its own temperature, and no samples passed on to a lone agent (as for cot).
    assert lone.temperature == 0.3 and lone.debate_config().agents == 1
    team = EvalConfig(model="tests.scripted:first_number", engine="scripted", method="first_speaker", samples=3)
    assert team.temperature == 0.7 and team.debate_config().agents == 3


def test_the_run_page_offers_a_new_method_and_shows_its_result(plugin, monkeypatch):
    from agentark.debate import DebateConfig, debate_job
    from agentark.errors import ConfigError

    cfg = DebateConfig(method="first_speaker", dataset=ONESTEP, limit=2, engine="scripted",
                       model="tests.scripted:sum_then_first")
    run_id, _ = debate_job.create_debate_run(cfg)
    debate_job.run_debate_job(run_id)
    launched = []

    def launch(kind, cfg, **inputs):
        launched.append(cfg)
        raise ConfigError("launch intercepted by the test")

    monkeypatch.setattr("agentark.jobs.start", launch)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    assert {"first_speaker", "lone"} <= set(at.selectbox(key="run_method").options)
    # The finished run of the new method is the page's first result, captioned with its words.
    assert [s.value for s in at.subheader if s.value == "One agent vs the team"]
    assert any("first-speaker rule" in c.value for c in at.caption)
    # Chosen on the form, it gets the form's agents and its own single round (rounds do not apply to it).
    at.selectbox(key="run_method").set_value("first_speaker")
    at.button[0].click()
    at.run()
    assert [(c.method, c.agents, c.rounds) for c in launched] == [("first_speaker", 3, 1)]


def test_a_name_is_registered_once():
    from agentark.debate.methods import LLMDebate, register_method

    assert register_method(LLMDebate) is LLMDebate  # again: nothing changes
    clash = type("OtherDebate", (LLMDebate,), {})
    with pytest.raises(ValueError, match="already LLMDebate"):
        register_method(clash)
    with pytest.raises(TypeError, match="no name"):
        register_method(type("Nameless", (LLMDebate,), {"name": ""}))
    assert METHODS["debate"] is LLMDebate


# -- no switch on a method's name outside its registry -------------------------------------------------------
REGISTRY = ROOT / "agentark" / "debate" / "methods.py"


def _spelled(node: ast.AST, names: set[str]) -> set[str]:
    """The method names a literal (or a tuple, list or set of literals) spells."""
    elts = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return {e.value for e in elts if isinstance(e, ast.Constant) and e.value in names}


def method_switches(source: str, names: set[str]) -> list[int]:
    """Lines that switch on a method's name: a comparison with a method-name literal (``method == "cot"``,
    ``m in ("debate", "mad")``), a ``case "cot":``, or a collection or mapping that spells two or more method names
    (``TEAM = ("debate", "critique")``, ``WORDS = {"debate": ..., "critique": ...}``). Naming one method as a value
    (``DebateConfig(method="cot")``) is no switch."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(_spelled(s, names) for s in [node.left, *node.comparators]):
            found.add(node.lineno)
        elif isinstance(node, ast.MatchValue) and _spelled(node.value, names):
            found.add(node.lineno)
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(_spelled(node, names)) >= 2:
            found.add(node.lineno)
        elif isinstance(node, ast.Dict) and len({k.value for k in node.keys if k is not None
                                                 and _spelled(k, names)}) >= 2:
            found.add(node.lineno)
    return sorted(found)


def test_no_method_switch_outside_the_registry() -> None:
    names = set(METHODS)
    paths = [p for p in [*(ROOT / "agentark").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
             if p != REGISTRY]
    offenders = [f"{p.relative_to(ROOT)}:{line}" for p in paths for line in method_switches(p.read_text(), names)]
    assert not offenders, "switch on a method's name (make it a field of the method's record):\n" + "\n".join(offenders)


def test_the_method_switch_check_catches_the_old_switches() -> None:
    old = '''
TEAM_METHODS = ("debate", "critique", "self_consistency")
WORDS = {"debate": "debate", "critique": "critique-and-revise"}
if (metrics.method or metrics.config.get("method")) not in (None, "cot"):
    role = "teacher"
temperature = 0.0 if self.method == "cot" else 0.7
sampled = [m.run_id for m in metrics if m.method == "self_consistency"]
match method:
    case "mad":
        pass
cfg = DebateConfig(method="cot")
'''
    assert method_switches(old, set(METHODS)) == [2, 3, 4, 6, 7, 9]
