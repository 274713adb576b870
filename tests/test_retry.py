"""A retried problem (a resume after failed requests) replaces its earlier attempt everywhere: in the trace
summaries, in the accuracy the CLI reads from shards, and under new message ids; and a problem's seconds
are its share of the engine calls, not its whole batch's time."""
from __future__ import annotations

import time

import pytest

from agentark.debate import debate_job
from agentark.backends.base import ChatRequest, Completion
from agentark.backends.scripted import ScriptedEngine
from agentark.debate import DebateConfig, run_chunk
from agentark.store import Store, run_tables
from agentark.store.trace_tables import ProblemFilter, problem_page, run_summary
from agentark.tasks import Problem
from tests.scripted import first_number

# first_number answers with the question's first number: right on all of these.
PROBLEMS = [Problem("p3", "t", "test", "Count 3 apples.", "3"), Problem("p7", "t", "test", "Count 7 pears.", "7")]


class FailsOnSeven:
    """Fails every request about 7 pears; answers the others like the scripted first_number."""

    name, model_id = "scripted", "tests.scripted:first_number"

    def __init__(self) -> None:
        self._inner = ScriptedEngine(first_number)

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        good = self._inner.generate(requests)
        return [Completion("", error="HTTP 503: busy") if "7 pears" in r.messages[-1]["content"] else c
                for r, c in zip(requests, good)]

    def describe(self) -> dict:
        return {"engine": self.name, "model": self.model_id}


def _failed_then_resumed(store: Store) -> str:
    cfg = DebateConfig(method="cot", engine="scripted", model="tests.scripted:first_number")
    run_id, _ = debate_job.create_debate_run(cfg, PROBLEMS)
    assert debate_job.run_debate_job(run_id, engines={"default": FailsOnSeven()})["status"] == "failed"
    store.refresh()
    # Someone looks at the run before resuming it: the summaries of the failed attempt are made now.
    assert run_summary(store, [run_id]).accuracy[0] == 0.5
    assert debate_job.run_debate_job(run_id, engines={"default": ScriptedEngine(first_number)})["status"] == "done"
    store.refresh()
    return run_id


def test_summaries_follow_a_retry():
    with Store() as store:
        run_id = _failed_then_resumed(store)
        assert run_tables.list_runs(store).set_index("run_id").accuracy[run_id] == 1.0
        assert run_summary(store, [run_id]).accuracy[0] == 1.0
        page = problem_page(store, ProblemFilter(runs=(run_id,)), 0, 10).rows
        assert page.set_index("problem_id").is_correct.to_dict() == {"p3": True, "p7": True}


def test_cli_accuracy_from_shards_ignores_the_superseded_attempt(monkeypatch, capsys):
    from agentark.cli import cmd_debate as cli_debate

    with Store() as store:
        run_id = _failed_then_resumed(store)
    monkeypatch.setattr(cli_debate, "open_store_or_none", lambda: None)  # another process holds the store
    cli_debate._report_rounds(run_id)
    out = capsys.readouterr().out
    assert "final accuracy: 1" in out and "0.67" not in out


def test_a_retried_problem_gets_new_message_ids():
    first = run_chunk(PROBLEMS[:1], DebateConfig(method="cot"), "r", engines={"default": ScriptedEngine(first_number)})
    again = run_chunk(PROBLEMS[:1], DebateConfig(method="cot"), "r", engines={"default": ScriptedEngine(first_number)},
                      attempts={"p3": 1})
    assert [m["message_id"] for m in first.messages] == ["r:p3:0000"]
    assert [m["message_id"] for m in again.messages] == ["r:p3:a1:0000"]


def test_steps_of_the_failed_attempt_never_attach_to_the_retried_text():
    from agentark.labels.segment import SegmentConfig, segment_runs
    from agentark.store import label_tables as q

    with Store() as store:
        cfg = DebateConfig(method="cot", engine="scripted", model="tests.scripted:first_number")
        run_id, _ = debate_job.create_debate_run(cfg, PROBLEMS)
        debate_job.run_debate_job(run_id, engines={"default": FailsOnSeven()})
        store.refresh()
        segment_runs(store, [run_id], SegmentConfig())
        before = set(run_tables.messages(store, run_id)["message_id"])
        debate_job.run_debate_job(run_id, engines={"default": ScriptedEngine(first_number)})
        store.refresh()
        after = run_tables.messages(store, run_id).set_index("problem_id")["message_id"].to_dict()
        assert after["p3"] in before and after["p7"] == f"{run_id}:p7:a1:0000" and after["p7"] not in before
        segment_runs(store, [run_id], SegmentConfig())
        steps = q.steps_in_context(store, [run_id])
        retried = steps[steps["problem_id"] == "p7"]
        content = run_tables.messages(store, run_id, "p7")["content"][0]
        assert list(retried["message_id"].unique()) == [after["p7"]]
        assert all(content[r.char_start:r.char_end] == r.text for r in retried.itertuples())


def test_seconds_per_problem_is_its_share_of_the_engine_calls():
    problems = [Problem(f"p{i}", "t", "test", f"Count {i} apples.", str(i)) for i in range(8)]
    engine = ScriptedEngine(first_number, delay_s=0.2)
    started = time.perf_counter()
    result = run_chunk(problems, DebateConfig(method="debate", agents=2, rounds=2), "r", engines={"default": engine})
    total_ms = (time.perf_counter() - started) * 1000
    walls = [o["wall_ms"] for o in result.outcomes]
    # Two calls of 16 requests (8 problems x 2 agents): each problem makes 2 of each call's 16, 1/8 of the time.
    assert sum(walls) == pytest.approx(total_ms, rel=0.2)
    assert max(walls) < total_ms / 4
