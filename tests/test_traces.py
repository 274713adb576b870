"""Corrections and regressions: the library's classification on hand-built debates, and the store's SQL twin."""
from __future__ import annotations

import re

import random

import pytest

from agentark.errors import ConfigError
from agentark.store import Store, run_tables
from agentark.store.trace_tables import (
    ProblemFilter,
    agent_order,
    dashboard,
    neighbours,
    problem_keys,
    problem_page,
    round_stats,
    sync_traces,
)
from agentark.runs.traces import agent_transitions, classify, count_transitions, word_diff
from agentark.ui.marks import agent_colour, diff_html
from tests.tracedata import DEBATE_A, REFERENCE, SEARCHABLE, add_run, build_known_store, message_rows


def test_classify_every_case():
    assert classify(False, True, True) == "correction"
    assert classify(True, False, True) == "regression"
    assert classify(False, False, True) == "wrong_to_wrong"
    assert classify(False, False, False) == "kept_wrong"
    assert classify(True, True, False) == "kept_right"
    assert classify(None, True, True) is None and classify(True, None, True) is None


def test_transitions_of_hand_built_debates():
    p1 = message_rows("run-a", "P1", DEBATE_A["P1"], "10")
    kinds = [(t.agent, t.kind) for t in agent_transitions(p1)]
    assert kinds == [("agent_1", "kept_right"), ("agent_2", "correction"), ("agent_3", "correction")]
    assert count_transitions(message_rows("run-a", "P2", DEBATE_A["P2"], "5"))["regression"] == 2
    p3 = count_transitions(message_rows("run-a", "P3", DEBATE_A["P3"], "8"))
    assert (p3["wrong_to_wrong"], p3["kept_wrong"], p3["correction"]) == (1, 2, 0)


def test_failed_message_breaks_the_chain_instead_of_counting():
    # agent_1 is right, fails in round 2, is right again in round 3: no transition either side of the failure.
    rows = message_rows("r", "P", [["5"], ["9"], ["5"]], "5", errors={(2, 0)})
    assert count_transitions(rows) == dict.fromkeys(count_transitions([]), 0)
    # No extracted answer counts as wrong (is_correct False), so reaching an answer is a correction.
    rows = message_rows("r", "P", [[None], ["5"]], "5")
    assert [t.kind for t in agent_transitions(rows)] == ["correction"]


def test_sql_transitions_equal_the_library_on_random_debates(tmp_path):
    rng = random.Random(7)
    debates, errors, refs = {}, {}, {}
    for k in range(60):
        pid = f"Q{k}"
        agents, rounds = rng.randint(1, 4), rng.randint(1, 4)
        debates[pid] = [[rng.choice(["1", "2", "3", None]) for _ in range(agents)] for _ in range(rounds)]
        errors[pid] = {(r, a) for r in range(1, rounds + 1) for a in range(agents) if rng.random() < 0.1}
        refs[pid] = "2"
    with Store(tmp_path / "s.duckdb") as store:
        add_run(store, "rand", "debate", "m", debates, refs, {p: p for p in debates}, errors=errors)
        assert sync_traces(store) == 60
        assert sync_traces(store) == 0
        sql = store.df("SELECT problem_id, corrections, regressions, wrong_to_wrong FROM problem_traces").set_index("problem_id")
        per_round = store.df("SELECT problem_id, round, corrections, regressions, wrong_to_wrong FROM problem_rounds")
        for pid, rounds in debates.items():
            rows = message_rows("rand", pid, rounds, "2", errors[pid])
            expected = count_transitions(rows)
            got = sql.loc[pid]
            assert (got.corrections, got.regressions, got.wrong_to_wrong) == (
                expected["correction"], expected["regression"], expected["wrong_to_wrong"]), pid
            for r in range(2, len(rounds) + 1):
                into = count_transitions_into(rows, r)
                row = per_round[(per_round.problem_id == pid) & (per_round["round"] == r)].iloc[0]
                assert (row.corrections, row.regressions) == (into["correction"], into["regression"]), (pid, r)


def count_transitions_into(rows, rnd):
    counts = {"correction": 0, "regression": 0}
    for t in agent_transitions(rows):
        if t.to_round == rnd and t.kind in counts:
            counts[t.kind] += 1
    return counts


@pytest.fixture
def known(tmp_path):
    with Store(tmp_path / "known.duckdb") as store:
        build_known_store(store)
        yield store


def test_round_stats_on_the_known_store(known):
    stats = round_stats(known, ["run-a"]).set_index("round")
    assert stats.loc[1, "agent_accuracy"] == pytest.approx(5 / 12)
    assert stats.loc[2, "agent_accuracy"] == pytest.approx(6 / 12)
    assert stats.loc[1, "vote_accuracy"] == pytest.approx(0.5) and stats.loc[2, "vote_accuracy"] == pytest.approx(0.5)
    assert stats.loc[1, "agreement"] == pytest.approx(7 / 12) and stats.loc[2, "agreement"] == pytest.approx(10 / 12)
    assert (stats.loc[2, "corrections"], stats.loc[2, "regressions"], stats.loc[2, "wrong_to_wrong"]) == (3, 2, 1)
    # The store's older per-round query agrees with the summaries.
    legacy = run_tables.round_accuracy(known, "run-a").set_index("round")
    assert legacy.loc[1, "vote_accuracy"] == stats.loc[1, "vote_accuracy"]
    assert legacy.loc[2, "agent_accuracy"] == pytest.approx(stats.loc[2, "agent_accuracy"])


def test_dashboard_summary_and_groupings(known):
    board = dashboard(known)
    summary = board.summary.set_index("run_id")
    assert summary.loc["run-a", "accuracy"] == 0.5 and summary.loc["run-b", "accuracy"] == 0.5
    assert (summary.loc["run-a", "problems_with_correction"], summary.loc["run-a", "problems_with_regression"]) == (2, 1)
    by_method = board.by["method"].set_index("group")
    assert by_method.loc["cot", "problems"] == 2 and by_method.loc["debate", "problems"] == 4
    assert board.tokens.groupby("run_id")["problems"].sum().to_dict() == {"run-a": 4, "run-b": 2}
    with pytest.raises(Exception, match="python -m agentark runs"):
        dashboard(known, ["nope"])


@pytest.mark.parametrize("flt, expected", [
    (ProblemFilter(), [("run-a", "P1"), ("run-a", "P2"), ("run-a", "P3"), ("run-a", "P4"), ("run-b", "P1"), ("run-b", "P2")]),
    (ProblemFilter(runs=("run-a",), corrected=True), [("run-a", "P1"), ("run-a", "P4")]),
    (ProblemFilter(regressed=True), [("run-a", "P2")]),
    (ProblemFilter(wrong_to_wrong=True), [("run-a", "P3")]),
    (ProblemFilter(runs=("run-a",), correct=False), [("run-a", "P2"), ("run-a", "P3")]),
    (ProblemFilter(consensus="no majority"), [("run-a", "P3")]),
    (ProblemFilter(agent="agent_3", corrected=True), [("run-a", "P1"), ("run-a", "P4")]),
    (ProblemFilter(agent="agent_1", corrected=True), []),
    (ProblemFilter(agent="agent_2"), [("run-a", "P1"), ("run-a", "P2"), ("run-a", "P3"), ("run-a", "P4")]),
    (ProblemFilter(text=SEARCHABLE.upper()), [("run-a", "P1")]),
    (ProblemFilter(text="divided by"), [("run-a", "P2"), ("run-b", "P2")]),
    (ProblemFilter(transition_round=2, corrected=True), [("run-a", "P1"), ("run-a", "P4")]),
    (ProblemFilter(runs=("run-a",), sort="regressions", descending=True), [("run-a", "P2"), ("run-a", "P1"), ("run-a", "P3"), ("run-a", "P4")]),
])
def test_problem_filters(known, flt, expected):
    page = problem_page(known, flt, page_size=10)
    assert list(zip(page.rows.run_id, page.rows.problem_id)) == expected
    assert page.total == len(expected)


def test_pagination_neighbours_and_params_roundtrip(known):
    flt = ProblemFilter(runs=("run-a", "run-b"))
    first, second = problem_page(known, flt, 0, 4), problem_page(known, flt, 1, 4)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (6, 2, 4, 2)
    around = neighbours(known, flt, "run-a", "P4")
    assert around == {"prev": ("run-a", "P3"), "next": ("run-b", "P1"), "position": 4, "total": 6}
    assert neighbours(known, flt, "run-a", "P1")["prev"] is None
    assert len(problem_keys(known, flt.replace(correct=True))) == 3
    again = ProblemFilter.from_params(ProblemFilter(runs=("a", "b"), correct=False, corrected=True, transition_round=2).to_params())
    assert again == ProblemFilter(runs=("a", "b"), correct=False, corrected=True, transition_round=2)
    with pytest.raises(ConfigError, match="one of"):
        ProblemFilter(consensus="most")


def test_word_diff_colours_and_order():
    assert word_diff("the answer is 7.", "the answer is 10.") == [
        ("equal", "the answer is "), ("delete", "7."), ("insert", "10.")]
    html = diff_html("a <b>", "a <c>")
    assert "&lt;b&gt;" in html and "<ins" in html and "<del" in html
    # Multi-line: no tag spans a line break and no raw newline is left (a blank line would end the HTML block).
    multi = diff_html("Step 1.\n\nThe answer is 7.", "Step 1.\n\nWait, no.\n\nThe answer is 10.")
    assert "\n" not in multi and multi.count("<br>") == 4
    assert re.findall(r"<del[^>]*>(.*?)</del>", multi) == ["7."]
    assert re.findall(r"<ins[^>]*>(.*?)</ins>", multi) == ["Wait, no.", "10."]
    assert agent_colour("agent_1") != agent_colour("agent_2") and agent_colour("agent_9") == agent_colour("agent_1")
    assert agent_order(["aggregator", "agent_10", "agent_2"]) == ["agent_2", "agent_10", "aggregator"]


def test_search_text_is_literal_not_a_like_pattern(tmp_path):
    questions = {"Q1": "A coat is 50% off. What is half of 10?", "Q2": "What is 100 minus 50, plus 5% tax?",
                 "Q3": "What is 6 times 7?"}
    with Store(tmp_path / "s.duckdb") as store:
        add_run(store, "run-c", "cot", "m", {q: [["1"]] for q in questions}, {q: "1" for q in questions}, questions)

        def found(text: str) -> set[str]:
            return set(problem_page(store, ProblemFilter(runs=("run-c",), text=text), 0, 10).rows["problem_id"])

        assert found("50%") == {"Q1"}
        assert found("%") == {"Q1", "Q2"}
        assert found("_") == set() and found("\\") == set()
        assert found("6 TIMES") == {"Q3"}


def test_viewer_links_are_url_encoded():
    from urllib.parse import parse_qs, urlsplit

    flt = ProblemFilter(runs=("run a&b",), text="50% & more #1")
    link = flt.viewer_link("run a&b", "P#1?")
    assert link.startswith("transcript?") and " " not in link and "#" not in link
    params = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert params == {"runs": "run a&b", "text": "50% & more #1", "run": "run a&b", "problem": "P#1?"}
    assert ProblemFilter.from_params(params) == flt
