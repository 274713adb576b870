"""Curation marks are appended with who and when; the latest per target is the one in force."""
from __future__ import annotations

import time

import pytest

from agentark.runs.curation import Mark, add_marks, latest_marks
from agentark.errors import ConfigError
from agentark.store import Store, run_tables


def test_latest_mark_wins_and_history_is_kept(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        add_marks(store, [Mark("r", "p1", "exclude", annotator="ana"), Mark("r", "p2", "keep", annotator="ana")])
        time.sleep(0.01)
        add_marks(store, [Mark("r", "p1", "keep", note="fine after all", annotator="ben"),
                          Mark("r", "p1", "exclude", message_id="m7", annotator="ben")])
        marks = latest_marks(store, "r")
        problem_level = marks[marks.message_id.isna()].set_index("problem_id")
        assert problem_level.loc["p1", "mark"] == "keep" and problem_level.loc["p1", "annotator"] == "ben"
        assert problem_level.loc["p2", "mark"] == "keep"
        assert marks[marks.message_id == "m7"].iloc[0]["mark"] == "exclude"
        assert store.scalar("SELECT count(*) FROM curation_marks") == 4
        store.con.execute("INSERT INTO runs (run_id, kind, config_json, status, created_at) VALUES ('r', 'debate', '{}', 'done', now())")
        counts = run_tables.list_runs(store).set_index("run_id").loc["r"]
        assert (counts.kept_problems, counts.excluded_problems, counts.excluded_messages) == (2, 0, 1)


def test_unknown_mark_is_refused():
    with pytest.raises(ConfigError, match="keep, exclude"):
        Mark("r", "p", "maybe")
