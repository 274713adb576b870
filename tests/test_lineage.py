"""Model lineage: every kind's training problems (SFT/DA and PRM export rows, PAD practice problems), inherited
through the base-model chain, and the held-out check reading it; ``models`` with a PAD model."""
from __future__ import annotations

import json
import shutil

import pytest

from agentark.checkpoints import model_dir, write_card
from agentark.cli import main
from agentark.errors import ConfigError
from agentark.evaluate.eval_config import EvalConfig
from agentark.evaluate.lineage import model_lineage, training_problem_ids
from agentark.evaluate.run import check_held_out, create_eval_run
from agentark.store import Store
from agentark.tasks import load_problems
from tests.evalstore import export_file
from tests.tinylm import tiny_llama  # noqa: F401

TRAIN = load_problems("builtin:arithmetic", limit=4, split="train").problems
TEST = load_problems("builtin:arithmetic", limit=4, split="test").problems


def card_model(tiny_llama, model_id: str, kind: str, base: str = "embedded:smollm2-135m", **card) -> None:
    """A studio model folder with a card as the trainers write it (``card`` adds or overrides fields)."""
    folder = model_dir(model_id)
    shutil.copytree(tiny_llama, folder)
    write_card(folder, {"model_id": model_id, "kind": kind, "base_model": base, "job_id": model_id,
                        "export_sha256": None, "config": {}, "metrics": {}, **card})


def pad_card(problems, dataset="builtin:arithmetic", split="train") -> dict:
    return {"training_problems": sorted(p.problem_id for p in problems),
            "training_source": f"practice problems {dataset} ({split})",
            "config": {"dataset": dataset, "split": split, "limit": len(problems), "problem_seed": 0}}


def test_pad_model_practising_on_the_train_split_is_refused_there(tiny_llama):
    """The issue's case: a PAD model has no export, yet `eval --split train` on its practice problems stops."""
    card_model(tiny_llama, "pad-x", "pad", **pad_card(TRAIN))
    with Store() as store:
        store.refresh()
        assert training_problem_ids(store, "pad-x") == {p.problem_id for p in TRAIN}
        with pytest.raises(ConfigError, match="4 of the problems evaluated were among the 4 training problems"):
            create_eval_run(store, EvalConfig(model="pad-x", dataset="builtin:arithmetic", split="train", limit=4,
                                              max_tokens=8))
        run_id, _, overlap = create_eval_run(store, EvalConfig(model="pad-x", split="test", limit=4, max_tokens=8))
        assert overlap.overlapping == [] and run_id.startswith("eval-")


def test_a_pad_card_from_before_lineage_reloads_its_practice_problems(tiny_llama):
    card = pad_card(TRAIN)
    del card["training_problems"]
    card_model(tiny_llama, "pad-old", "pad", **card)
    with Store() as store:
        store.refresh()
        (step,) = model_lineage(store, "pad-old")
        assert step.problems == {p.problem_id for p in TRAIN} and "reloaded" in step.source


def test_sft_and_da_models_read_their_export_rows(tiny_llama):
    with Store() as store:
        sha = export_file(store, [p.problem_id for p in TEST[:2]])
        card_model(tiny_llama, "sft-x", "sft", export_sha256=sha,
                   training_problems=sorted(p.problem_id for p in TEST[:2]), training_source=f"export rows {sha[:12]}")
        store.refresh()
        overlap = check_held_out(store, "sft-x", TEST, allow_overlap=True)
        assert sorted(overlap.overlapping) == sorted(p.problem_id for p in TEST[:2])
        with pytest.raises(ConfigError, match="2 of the problems evaluated"):
            check_held_out(store, "sft-x", TEST)


@pytest.mark.parametrize("model_id, kind, sha, problems, refusal", [
    # a PRM reads the problems of its export's rows
    ("prm-x", "prm", "ab", [3], "1 of the problems evaluated .* training problems of model prm-x"),
    # a model trained on a file without problem ids stops the check
    ("sft-anon", "sft", "cd", None, "training problems are unknown.*allow_overlap"),
])
def test_a_model_card_s_training_problems_decide_the_held_out_check(tiny_llama, model_id, kind, sha, problems, refusal):
    card_model(tiny_llama, model_id, kind, export_sha256=sha * 32,
               training_problems=None if problems is None else [TEST[i].problem_id for i in problems],
               training_source=f"export rows {sha * 6}")
    with Store() as store:
        store.refresh()
        with pytest.raises(ConfigError, match=refusal):
            check_held_out(store, model_id, TEST)


def test_pad_on_an_sft_student_inherits_the_students_export(tiny_llama):
    """The chain: PAD practised on train problems, its base SFT student's export overlaps the test set."""
    with Store() as store:
        sha = export_file(store, [TEST[0].problem_id])
        card_model(tiny_llama, "sft-s", "sft", export_sha256=sha, training_problems=[TEST[0].problem_id],
                   training_source=f"export rows {sha[:12]}")
        card_model(tiny_llama, "pad-on-sft", "pad", base="sft-s", **pad_card(TRAIN))
        store.refresh()
        chain = model_lineage(store, "pad-on-sft")
        assert [(s.model_id, s.kind) for s in chain] == [("pad-on-sft", "pad"), ("sft-s", "sft")]
        assert training_problem_ids(store, "pad-on-sft") == {p.problem_id for p in TRAIN} | {TEST[0].problem_id}
        with pytest.raises(ConfigError, match="1 of the problems evaluated .* model pad-on-sft"):
            create_eval_run(store, EvalConfig(model="pad-on-sft", split="test", limit=4, max_tokens=8))
        # The base given by its folder instead of its id is followed too.
        card_model(tiny_llama, "pad-on-folder", "pad", base=str(model_dir("sft-s")), **pad_card(TRAIN[:1]))
        store.refresh()
        assert TEST[0].problem_id in training_problem_ids(store, "pad-on-folder")


def test_models_lists_a_pad_model_without_crashing(tiny_llama, capsys):
    card_model(tiny_llama, "pad-list", "pad", **pad_card(TRAIN))
    card_model(tiny_llama, "sft-list", "sft", export_sha256="ef" * 32, training_problems=[])
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "pad-list" in out and "efefefefefef" in out
    assert main(["models", "--kind", "pad"]) == 0
    assert "pad-list" in capsys.readouterr().out
    assert main(["models", "--json"]) == 0
    rows = {r["model_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["pad-list"]["export_sha256"] is None


def test_ids_recorded_before_problem_ids_followed_the_question_map_to_todays() -> None:
    """A model card written from an export made before migration 9 holds the old ids; the held-out check must
    see them as today's ids, or an overlap would pass unseen."""
    from agentark.store import Store
    from agentark.store import eval_tables

    with Store() as store:
        with store.transaction() as con:
            con.execute("INSERT INTO problem_aliases VALUES ('old-1', 'new-1')")
        assert eval_tables.current_problem_ids(store, ["old-1", "kept-2"]) == {"new-1", "kept-2"}
        assert eval_tables.current_problem_ids(store, []) == set()
