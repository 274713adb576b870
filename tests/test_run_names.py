"""Run names and tags: stored (migration 7), unique, shown instead of long ids; token counts never recorded show '—'."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from agentark.runs import names
from agentark.errors import ConfigError, StoreError
from agentark.safe_text import md_text
from agentark.store import Store, run_tables
from tests.app_pages import app_page
from tests.tracedata import DEBATE_A, QUESTIONS, REFERENCE, add_run, build_known_store

LONG_ID = "debate-20261125-091512-ab12"


def test_short_ids_names_and_tags_are_cleaned():
    assert names.short_id(LONG_ID) == "debate ab12"
    assert names.short_id("run-a") == "run-a"
    long_import = "transcripts-" + "x" * 40 + "-12345678"
    assert len(names.short_id(long_import)) <= 24 and names.short_id(long_import).endswith("12345678")
    assert names.clean_name("  baseline  ") == "baseline" and names.clean_name(" ") is None
    with pytest.raises(ConfigError, match="at most 60"):
        names.clean_name("x" * 61)
    assert names.clean_tags("gsm8k, v2,,gsm8k ") == ["gsm8k", "v2"]
    assert names.clean_tags(["a,b", "c"]) == ["a", "b", "c"]


def test_labels_prefer_names_and_never_show_two_runs_the_same():
    runs = pd.DataFrame({"run_id": [LONG_ID, "debate-20261125-101010-ab12", "cot-20261125-101010-ffff"],
                         "name": [None, None, "my baseline"], "tags": [[], ["x"], None]})
    labels = names.RunLabels.of(runs)
    # Both debates shorten to "debate ab12": they show their full ids instead of one label for two runs.
    assert labels(LONG_ID) == LONG_ID and labels("debate-20261125-101010-ab12") == "debate-20261125-101010-ab12"
    assert labels("cot-20261125-101010-ffff") == "my baseline"
    assert labels.option("debate-20261125-101010-ab12").endswith("[x]")
    assert names.tokens_text(0) == "—" and names.tokens_text(float("nan")) == "—"
    assert names.tokens_text(None) == "—" and names.tokens_text(1234.0) == "1,234"


def test_names_are_stored_unique_and_resolve(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    build_known_store(store)
    assert names.rename(store, "run-a", " Baseline GSM8K ") == "Baseline GSM8K"
    assert names.set_tags(store, "run-a", "gsm8k, 3x2") == ["gsm8k", "3x2"]
    assert names.tag(store, "run-a", add=["kept"], remove=["3x2"]) == ["gsm8k", "kept"]
    with pytest.raises(StoreError, match="run-a"):
        names.rename(store, "run-b", "Baseline GSM8K")
    with pytest.raises(StoreError, match="No run"):
        names.rename(store, "run-zzz", "x")
    runs = run_tables.list_runs(store).set_index("run_id")
    assert runs.loc["run-a", "name"] == "Baseline GSM8K" and list(runs.loc["run-a", "tags"]) == ["gsm8k", "kept"]
    assert pd.isna(runs.loc["run-b", "name"]) and list(runs.loc["run-b", "tags"]) == []
    assert names.resolve(store, "Baseline GSM8K") == "run-a" and names.resolve(store, "run-b") == "run-b"
    with pytest.raises(ConfigError, match="agentark runs"):
        names.resolve(store, "nothing")
    names.rename(store, "run-a", "")
    assert run_tables.get_run(store, "run-a")["name"] is None


def _figure(at: AppTest, title: str) -> dict:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["layout"].get("title", {}).get("text", "").startswith(title):
            return spec
    raise AssertionError(f"no chart titled {title!r}")


def test_dashboard_renames_a_run_and_its_charts_show_the_name():
    with Store() as store:
        add_run(store, LONG_ID, "debate", "m1", DEBATE_A, REFERENCE, QUESTIONS)
    at = app_page("pages/3_dashboard.py")
    assert at.multiselect(key="db_runs").format_func(LONG_ID) == "debate ab12"
    at.text_input(key=f"db_name_{LONG_ID}").input("baseline")
    at.text_input(key=f"db_tags_{LONG_ID}").input("gsm8k, v2")
    at.button(key="db_name_save").click().run()
    assert not at.exception, at.exception
    with Store() as store:
        assert run_tables.get_run(store, LONG_ID)["name"] == "baseline"
    assert at.multiselect(key="db_runs").format_func(LONG_ID) == "baseline  [gsm8k, v2]"
    changes = _figure(at, "Answer changes")
    ticks = {x for trace in changes["data"] for x in trace["x"]}
    assert ticks == {"baseline · 1→2"}
    # Tick labels get the room they need instead of running over the plot.
    assert changes["layout"]["xaxis"]["automargin"] is True
    summary = next(d.value for d in at.dataframe if "problems_with_correction" in d.value.columns)
    assert summary["run"].tolist() == ["baseline"]


def test_runs_without_token_counts_show_a_dash_not_zero():
    with Store() as store:
        build_known_store(store)
        with store.transaction() as con:  # an import whose tool recorded no usage: zeros in the store
            con.execute("UPDATE outcomes SET prompt_tokens = 0, completion_tokens = 0 WHERE run_id = 'run-b'")
            con.execute("UPDATE messages SET prompt_tokens = 0, completion_tokens = 0 WHERE run_id = 'run-b'")
    at = app_page("pages/3_dashboard.py", runs="run-a,run-b")
    summary = next(d.value for d in at.dataframe if "problems_with_correction" in d.value.columns).set_index("run_id")
    assert summary.loc["run-b", "tokens_per_problem"] == "—" and summary.loc["run-a", "tokens_per_problem"] != "—"
    # The run's name is stored text, so the caption shows it escaped (issue 27): "run\\-b" reads as run-b.
    assert any(f"No token counts recorded for {md_text('run-b')}" in c.value for c in at.caption)
    at = app_page("pages/4_problems.py", runs="run-b")
    table = next(d.value for d in at.dataframe if "question" in d.value.columns)
    assert set(table["tokens"]) == {"—"}
    at = app_page("pages/2_transcripts.py", run="run-b", problem="P1")
    assert next(m.value for m in at.metric if m.label == "Tokens") == "—"
    at = app_page("pages/1_run_debates.py")
    costs = next(d.value for d in at.dataframe if "calls_per_problem" in d.value.columns).set_index("run_id")
    assert costs.loc["run-b", "prompt_tokens_per_problem"] == "—" and costs.loc["run-a", "prompt_tokens_per_problem"] != "—"
    assert "name" in next(d.value for d in at.dataframe if "accuracy" in d.value.columns).columns


def test_cli_names_a_debate_renames_and_tags_by_name(capsys):
    from agentark.cli import main

    assert main(["debate", "--limit", "2", "--agents", "2", "--rounds", "1", "--engine", "scripted",
                 "--model", "tests.scripted:first_number", "--name", "smoke test"]) == 0
    assert "named 'smoke test'" in capsys.readouterr().out
    # A second run may not take the same name: refused before any run folder is written.
    assert main(["debate", "--limit", "1", "--engine", "scripted", "--model", "tests.scripted:first_number",
                 "--name", "smoke test"]) == 2
    assert "already used by run" in capsys.readouterr().err
    assert main(["tag", "smoke test", "--add", "gsm8k,scripted", "--add", "keep"]) == 0
    assert capsys.readouterr().out.strip().endswith("tags gsm8k, scripted, keep")
    assert main(["rename", "smoke test", "baseline"]) == 0
    assert main(["tag", "baseline", "--remove", "keep"]) == 0
    capsys.readouterr()
    assert main(["runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["tags"]) for r in runs] == [("baseline", ["gsm8k", "scripted"])]
    assert main(["runs"]) == 0
    assert "baseline" in capsys.readouterr().out
    assert main(["rename", "no-such-run", "x"]) == 2


def test_cli_stats_prints_a_dash_for_runs_without_token_counts(capsys):
    from agentark.cli import main

    with Store() as store:
        build_known_store(store)
        with store.transaction() as con:
            con.execute("UPDATE outcomes SET prompt_tokens = 0, completion_tokens = 0 WHERE run_id = 'run-b'")
            con.execute("UPDATE messages SET prompt_tokens = 0, completion_tokens = 0 WHERE run_id = 'run-b'")
    assert main(["stats", "run-a", "run-b"]) == 0
    summary = capsys.readouterr().out.split("\n\n")[0].splitlines()  # the runs table comes first
    header = summary[1].split()
    tokens = {line.split()[0]: line.split()[header.index("tokens_per_problem")] for line in summary[2:]}
    assert tokens["run-b"] == "—" and tokens["run-a"] != "—"
