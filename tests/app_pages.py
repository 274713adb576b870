"""The whole app headless (AppTest of app.py, its sidebar and navigation included), shown at one page, and a run
whose messages are split into steps: what page tests start from."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from agentark.debate import DebateConfig, debate_job
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.store import Store
from tests.conftest import ROOT


def app_page(path: str, timeout: float = 30, **params: str) -> AppTest:
    """app.py switched to ``path`` (``pages/...``) with these query parameters, run once without an exception."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(path)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def segmented_run(limit: int) -> str:
    """A finished scripted debate (tests/scripted_steps.py) of ``limit`` problems, its messages segmented."""
    run_id, _ = debate_job.create_debate_run(
        DebateConfig(limit=limit, engine="scripted", model="tests.scripted_steps:wrong_then_right"))
    debate_job.run_debate_job(run_id)
    with Store() as store:
        store.refresh()
        segment_runs(store, [run_id], SegmentConfig())
    return run_id
