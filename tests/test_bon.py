"""Best-of-N with a PRM: curves known by construction, aggregations, and the real PRM wired through the CLI."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from agentark.cli import main
from agentark.errors import AgentArkError, ConfigError
from agentark.evaluate.bon import best_of_n, curve_from_samples, sample_sizes
from agentark.evaluate.eval_config import AGGREGATIONS, BonConfig
from agentark.store import Store
from agentark.train import prm_scoring
from tests.evalstore import FakePRM, build_eval_store, eval_store  # noqa: F401  (the store fixture)


def test_sample_sizes_double_up_to_k():
    assert sample_sizes(4) == [1, 2, 4] and sample_sizes(6) == [1, 2, 4, 6] and sample_sizes(2) == [1, 2]


def test_curves_on_a_run_with_known_samples(store):
    scorer = FakePRM()
    curve = best_of_n(store, "sc", scorer)
    assert scorer.calls == 1  # every sample in one batched call
    assert (curve.k, curve.problems, curve.ns) == (4, 4, [1, 2, 4])
    assert curve.one_sample == [0.5, 0.5, 0.5]  # mean of 2/4, 1/4, 2/4, 3/4 right samples
    assert curve.majority == [0.5, 0.5, 0.5]
    assert set(curve.best_of) == set(AGGREGATIONS)
    for how in AGGREGATIONS:  # both steps of a sample share its score, so every aggregation ranks alike
        assert curve.best_of[how] == [0.5, 0.75, 0.75]
    frame = curve.frame()
    assert frame[(frame.n == 2) & (frame.strategy == "best PRM (min)")]["accuracy"].item() == 0.75


def test_aggregations_pick_differently():
    samples = pd.DataFrame([
        {"problem_id": "X", "message_id": "s1", "answer": "1", "is_correct": True, "error": None,
         "reference_answer": "1"},
        {"problem_id": "X", "message_id": "s2", "answer": "2", "is_correct": False, "error": None,
         "reference_answer": "1"},
    ])
    scores = {"s1": [0.2, 0.9], "s2": [0.6, 0.6]}
    curve = curve_from_samples("r", samples, scores, BonConfig())
    assert {how: c[-1] for how, c in curve.best_of.items()} == {
        "min": 0.0, "mean": 0.0, "last": 1.0, "product": 0.0, "softmin": 0.0}
    assert curve.majority == [1.0, 1.0]  # a tie goes to the first sample


def test_one_sample_runs_are_refused_with_the_fix(store):
    with pytest.raises(ConfigError, match="1 sample\\(s\\) per problem.*--method self_consistency --samples"):
        best_of_n(store, "student", FakePRM())
    with pytest.raises(ConfigError, match="Unknown aggregation"):
        BonConfig(aggregations=["max"])


def test_aggregations_match_the_prm_scoring_api():
    assert AGGREGATIONS == prm_scoring.AGGREGATIONS


def test_real_prm_through_compare_and_prm_eval_and_a_non_prm_is_refused(tmp_path, capsys):
    from agentark.train.prm import PRMConfig, train_prm
    from tests.test_prm import toy_rows, write_jsonl
    from tests.tinylm import build_tiny_llama

    base = build_tiny_llama(tmp_path / "base")
    data = write_jsonl(tmp_path / "toy.jsonl", toy_rows(8))
    prm = train_prm(PRMConfig(export=str(data), base_model=str(base), max_steps=2, per_device_batch_size=8,
                              save_steps=100), tmp_path / "prm").model_path
    prm = str(prm)
    with Store() as store:
        build_eval_store(store)
    assert main(["compare", "teacher", "sc", "--prm", prm, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (curve,) = out["best_of_n"]
    assert curve["run_id"] == "sc" and curve["ns"] == [1, 2, 4] and curve["majority"] == [0.5, 0.5, 0.5]
    assert all(0 <= a <= 1 for c in curve["best_of"].values() for a in c)
    assert main(["compare", "teacher", "sc", "--prm", prm, "--aggregation", "min"]) == 0
    text = capsys.readouterr().out
    assert "best-of-N on sc (k = 4, 4 problems)" in text and "best PRM (min)" in text
    assert main(["prm-eval", "--model", prm, "--run", "sc", "--json"]) == 2
    assert "no trajectory whose every step" in capsys.readouterr().err
    assert main(["prm-eval", "--model", str(base), "--run", "sc"]) == 2
    assert "not a studio PRM" in capsys.readouterr().err
    with pytest.raises(AgentArkError, match="not a studio PRM"):
        prm_scoring.load_prm(str(base))
