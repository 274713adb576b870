"""Issue 30: a figure whose inputs were never recorded (an imported Du et al. file has no tokens and no time)
is unknown: "—" in every table and report, null in JSON, never 0."""
from __future__ import annotations

import json

import pytest

from agentark.cli import main
from agentark.evaluate.compare import CompareConfig, compare
from agentark.evaluate.report import metric_rows, METRIC_COLUMNS
from agentark.runs.formats import import_file
from agentark.store import Store, run_tables
from agentark.store.trace_tables import dashboard

pytestmark = pytest.mark.timeout(180)

# Every figure built from tokens or time, by where it is shown.
COST_FIGURES = ("prompt_tokens_per_problem", "completion_tokens_per_problem", "tokens_per_problem",
                "latency_p50_s", "latency_p95_s", "latency_p99_s", "cost_per_1k_usd")
STATS_FIGURES = ("tokens_per_problem", "tokens_p90", "seconds_per_problem", "seconds_p90")


def _du(path, answers: list[str]) -> None:
    problems = {}
    for i, answer in enumerate(answers):
        q = f"Janet has {i + 3} ducks and buys {i + 4} more. How many ducks does she have?"
        contexts = [[{"role": "user", "content": q}, {"role": "assistant", "content": f"The answer is {answer}."}]
                    for _ in range(3)]
        problems[q] = [contexts, str(2 * i + 7)]
    path.write_text(json.dumps(problems))


def _imports(tmp_path) -> tuple[str, str]:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    _du(a, [str(2 * i + 7) for i in range(6)])
    _du(b, [str(2 * i + 7) if i % 2 else "0" for i in range(6)])
    with Store() as store:
        return import_file(store, "du2023", a).run_id, import_file(store, "du2023", b).run_id


def test_every_cost_figure_of_an_import_is_unknown(tmp_path, capsys):
    first, second = _imports(tmp_path)
    with Store() as store:
        outcomes = store.df("SELECT prompt_tokens, completion_tokens, wall_ms FROM outcomes WHERE run_id = ?", [first])
        assert outcomes.isna().all().all()
        assert run_tables.messages(store, first)[["prompt_tokens", "completion_tokens", "latency_ms"]].isna().all().all()
        comparison = compare(store, [first, second], CompareConfig())
        for m in comparison.metrics + comparison.full_metrics:
            d = m.to_dict()
            assert all(d[k] is None for k in COST_FIGURES), {k: d[k] for k in COST_FIGURES}
        data = comparison.to_json()
        for m in data["metrics"]:
            assert all(m[k] is None for k in COST_FIGURES)
        cells = dict(zip([c[0] for c in METRIC_COLUMNS], metric_rows(comparison)[0]))
        for header, key, _ in METRIC_COLUMNS:
            if key in COST_FIGURES:
                assert cells[header] == "—", (header, cells[header])
        board = dashboard(store, [first, second])
        summary = board.to_json()["summary"]
        assert all(row[k] is None for row in summary for k in STATS_FIGURES)
    assert main(["stats", first, "--json"]) == 0
    stats_json = json.loads(capsys.readouterr().out)
    assert all(row[k] is None for row in stats_json["summary"] for k in STATS_FIGURES)
    assert main(["stats", first]) == 0
    text = capsys.readouterr().out
    assert "0.000" not in text.split("per round")[0]
    assert main(["compare", first, second]) == 0
    text = capsys.readouterr().out
    assert "tokens_per_problem" in text and "—" in text
    assert main(["compare", first, second, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert all(m[k] is None for m in data["metrics"] for k in COST_FIGURES)
