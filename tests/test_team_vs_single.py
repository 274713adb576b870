"""One agent vs the team, read from one run: figures checked by hand, the CLI's sentences, the Run page's result."""
from __future__ import annotations

import math

import pandas as pd
from streamlit.testing.v1 import AppTest

from agentark.debate import DebateConfig, debate_job
from agentark.evaluate.team_vs_single import compare_sides, team_vs_single
from agentark.store import Store
from agentark.config import store_path
from tests.conftest import ROOT

ONESTEP = "builtin:arithmetic-onestep"


def scripted_run(responder: str, limit: int = 4, **kw) -> str:
    cfg = DebateConfig(dataset=ONESTEP, limit=limit, engine="scripted", model=f"tests.scripted:{responder}", **kw)
    run_id, _ = debate_job.create_debate_run(cfg)
    debate_job.run_debate_job(run_id)
    return run_id


def test_team_worse_than_one_agent_is_said_plainly():
    run_id = scripted_run("sum_then_first")
    store = Store(store_path())
    store.refresh()
    result = team_vs_single(store, run_id)
    # Round 1: every agent adds correctly; round 2: every agent switches to the first number (wrong).
    assert (result.problems, result.first_answers) == (4, 12)
    assert (result.single.accuracy, result.team.accuracy, result.difference) == (1.0, 0.0, -1.0)
    assert (result.corrections, result.regressions) == (0, 12)
    assert result.verdict == "worse" and result.sure
    assert result.headline().startswith("The team did worse than one agent on these 4 problems: 0% against 100%")
    assert result.regressed_problem is not None and result.corrected_problem is None
    # Tokens: one agent's round-1 messages per problem against every message of the problem.
    assert result.team.tokens_per_problem > 3 * result.single.tokens_per_problem


def test_no_comparison_without_a_team():
    run_id = scripted_run("first_number", method="cot")
    store = Store(store_path())
    store.refresh()
    assert team_vs_single(store, run_id) is None


def test_figures_by_hand_and_unrecorded_tokens():
    frame = pd.DataFrame({
        "problem_id": ["a", "b", "c"], "first_answers": [3, 3, 3], "first_right": [3, 1, 0],
        "first_failed": [0, 0, 1], "first_cut_off": [0, 2, 0], "first_tokens": [30.0, None, 30.0],
        "final_right": [True, True, False], "tokens": [100.0, None, 100.0],
        "corrections": [0, 2, 0], "regressions": [0, 0, 1]})
    r = compare_sides(frame, "r", "debate", 3, 2)
    assert math.isclose(r.single.accuracy, (1 + 1 / 3 + 0) / 3)
    assert math.isclose(r.team.accuracy, 2 / 3)
    assert math.isclose(r.difference, (0 + 2 / 3 + 0) / 3)
    assert r.verdict == "better" and not r.sure  # three problems cannot tell
    assert "includes zero" in r.headline()
    assert r.single.tokens_per_problem is None and r.team.tokens_per_problem is None
    assert any(line.startswith("Tokens per problem: —") for line in r.details())
    assert any("2 of 9 first answers stopped at the token limit" in line for line in r.details())
    assert (r.corrected_problem, r.regressed_problem) == ("b", "c")


def test_cli_debate_prints_the_comparison(capsys):
    from agentark.cli import main

    code = main(["debate", "--dataset", ONESTEP, "--limit", "2", "--engine", "scripted",
                 "--model", "tests.scripted:sum_then_first"])
    assert code == 0
    out = capsys.readouterr().out
    assert "one agent vs the team:" in out and "The team did worse than one agent on these 2 problems" in out


def test_run_page_shows_the_first_result_with_next_steps():
    run_id = scripted_run("sum_then_first")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader if s.value == "One agent vs the team"]
    assert any(w.value.startswith("The team did worse than one agent on these 4 problems") for w in at.warning)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["One agent"] == "100%" and metrics["The team"] == "0%"
    assert metrics["Corrections / regressions"] == "0 / 12"
    captions = " ".join(c.value for c in at.caption)
    assert "mean over 12 first answers" in captions and f"finished problems of" in captions
    links = [el for el in at.main if type(el).__name__ == "PageLink" or getattr(el, "type", "") == "page_link"]
    labels = {el.proto.label: el.proto for el in links}
    assert "Look at a debate where an answer changed" in labels and "Label its steps" in labels
    assert labels["Label its steps"].query_string == f"run={run_id}"
    viewer = labels["Look at a debate where an answer changed"]
    assert viewer.page == "transcript" and f"run={run_id}" in viewer.query_string
    at.button(key="first_result_served").click()
    at.run()
    assert at.selectbox(key="run_engine").value == "openai"


def test_label_link_picks_its_run(agentark_home):
    """``/label?run=RUN`` (the first result's link) opens the labeling page on that run, in a live app."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from tests.live_app import live_app, session

    linked = scripted_run("sum_then_first", limit=1)
    scripted_run("first_number", limit=1)
    picked = None
    with live_app(agentark_home, timeout=180) as (_, port), session(port) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string, msg.rerun_script.page_name = f"run={linked}", "label"
        ws.send(msg.SerializeToString())
        while True:
            fwd = ForwardMsg.FromString(ws.recv(timeout=120))
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                if element.WhichOneof("type") == "selectbox" and element.selectbox.label == "Run":
                    picked = element.selectbox.raw_value
            if kind == "script_finished":
                break
    assert picked == f"debate {linked[-4:]}"
