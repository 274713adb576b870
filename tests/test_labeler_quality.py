"""Step labels that are right on real-style debates, and a measure of how right each labeler is (issue 17).

A du2023 file whose agents open with a persona paragraph and write "Step k:" lines on single line breaks is
segmented into its steps; the debate signal never labels a claim-free step; the labeler report's figures are
checked by hand on a gold set; the LLM judge runs as a job against a local fake server that also answers
malformed; the consensus policy, degenerate text, du2023 warnings, re-imports and the new CLI commands.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from agentark import jobs
from agentark.cli import main
from agentark.errors import ConfigError, ImportFormatError
from agentark.labels.label_policy import CLAIM_FREE_SOURCE
from agentark.training_sets import ExportConfig, export, prepare
from agentark.labels import gold as goldset
from agentark.labels import judge
from agentark.labels.auto_labelers import AutoLabelConfig, debate_labels, run_auto_labelers
from agentark.labels.human_labels import HumanLabel, add_human_labels
from agentark.labels.labeler_report import labeler_report, score_sources
from agentark.labels.segment import SegmentConfig, has_claim, segment, segment_runs
from agentark.runs import degenerate
from agentark.runs.formats import import_file
from agentark.store import Store, run_tables
from agentark.store import label_tables as q
from tests.openai_server import OpenAIServer, Reply
from tests.steps_fixtures import RIGHT, WRONG, build_store, message

QUESTION = ("Janet's ducks lay 16 eggs per day. She eats 3 for breakfast and bakes muffins with 4. She sells the rest "
            "for $2 each. How much does she make?")
PERSONA = "As a meticulous accountant, I double-check everything. Let's break down the problem step by step:"


def _answer(eggs_used: int, opening: str = PERSONA) -> str:
    left = 16 - eggs_used
    return (f"{opening}\n\nStep 1: Janet's ducks lay 16 eggs per day.\nStep 2: She uses 3 + 4 = {eggs_used} eggs.\n"
            f"Step 3: She sells 16 - {eggs_used} = {left} eggs, so she makes {left} * 2 = {2 * left} dollars.\n"
            f"The answer is {2 * left}.")


def _context(first: str, second: str | None) -> list[dict]:
    ctx = [{"role": "user", "content": f"Solve: {QUESTION}"}, {"role": "assistant", "content": first}]
    if second is not None:
        ctx += [{"role": "user", "content": "Other agents said ... update your answer."},
                {"role": "assistant", "content": second}]
    return ctx


def _persona_file(path, agent_3_rounds: int = 2) -> None:
    """agent_1 writes 3 + 4 = 8 in round 1 (wrong) and rewrites its opening when it corrects itself in round 2."""
    rewritten = "Having looked at the other answers, I reworked the problem."
    contexts = [_context(_answer(8), _answer(7, rewritten)), _context(_answer(7), _answer(7)),
                _context(_answer(7), _answer(7) if agent_3_rounds == 2 else None)]
    path.write_text(json.dumps({QUESTION: [contexts, "#### 18"]}))


# -- points 1 and 2: the segmenter and the debate signal ---------------------------------------------------------
def test_auto_segments_step_lines_and_marks_claim_free_steps():
    text = _answer(7)
    assert len(segment(text, "paragraphs")) == 2  # the old default: a whole numbered list is one step
    steps = segment(text)  # auto
    assert [s.text.split(":")[0] for s in steps] == [PERSONA.split(":")[0], "Step 1", "Step 2", "Step 3"]
    assert [has_claim(s.text, QUESTION) for s in steps] == [False, False, True, True]  # opening, restated question
    numbered = segment("Let me see.\n1. 3 * 4 = 12\n2) 12 - 2 = 10\nThe answer is 10.")
    assert [s.text[:2] for s in numbered] == ["Le", "1.", "2)"]
    assert [s.text for s in segment("a = 1\nb = 2")] == ["a = 1", "b = 2"]  # one paragraph: lines
    assert has_claim("So the total is larger.") and has_claim("The answer is 16.", QUESTION)
    assert not has_claim("Step 4: Let us now look at what she sells.", QUESTION)


def test_du2023_persona_debate_gets_no_negative_on_a_claim_free_step(tmp_path):
    path = tmp_path / "persona.json"
    _persona_file(path)
    with Store() as store:
        run = import_file(store, "du2023", path, model="llama-3.2-3b").run_id
        segment_runs(store, [run], SegmentConfig())
        steps = q.steps_in_context(store, [run])
        assert steps.groupby("message_id").size().min() > 1  # every message is several steps
        assert (steps.groupby("message_id").size() == 4).all()
        run_auto_labelers(store, AutoLabelConfig(run_ids=[run], sources=["auto:debate"]))
        negatives = q.labels_in_force(store, [run], ["auto:debate"]).merge(steps, on="step_id")
        assert len(negatives) == 1 and negatives["claim"].all()
        # The step whose claim changed: round 1's "3 + 4 = 8", not the opening the revision rewrote.
        assert negatives.iloc[0]["text"].startswith("Step 2: She uses 3 + 4 = 8")


def test_revision_rule_abstains_when_no_claim_changed_and_stale_labels_are_withdrawn(tmp_path):
    same_claims = "I now see it differently.\n\n" + WRONG.replace("The answer is 12.", "The answer is 10.")
    msgs = pd.DataFrame([message("a1", "agent_1", 1, WRONG, False), message("a2", "agent_1", 2, same_claims, True)])
    rows = [{"step_id": f"{m}:{s.idx}", "message_id": m, "idx": s.idx, "text": s.text}
            for m, text in (("a1", WRONG), ("a2", same_claims)) for s in segment(text)]
    got = debate_labels(msgs, pd.DataFrame(rows))
    # 3 * 4 = 14 and 14 - 2 = 12 are still claimed, and so is 12: no claim changed, so the rule abstains.
    assert got.empty
    with build_store(tmp_path / "s.duckdb", [message("m1", "agent_1", 1, "Let me think about it.\n\n" + WRONG, False),
                                              message("m2", "agent_1", 2, RIGHT, True, seq=1)]) as store:
        segment_runs(store, None, SegmentConfig())
        opening = q.steps_in_context(store).query("idx == 0 and message_id == 'm1'").step_id.item()
        # An older rule's label on the opening: the labeler withdraws it, history keeps it.
        q.append_labels(store, pd.DataFrame({"label_id": ["old"], "step_id": [opening], "value": [-1.0],
                                             "source": ["auto:debate"], "created_at": [pd.Timestamp("2025-01-01")]}))
        written = run_auto_labelers(store, AutoLabelConfig(sources=["auto:debate"]))
        assert written["withdrawn:auto:debate"] == 1
        in_force = q.labels_in_force(store, sources=["auto:debate"])
        assert opening not in set(in_force["step_id"]) and len(in_force) == 1
        assert run_auto_labelers(store, AutoLabelConfig(sources=["auto:debate"])) == {"auto:debate": 0}


# -- point 3: the labeler report -------------------------------------------------------------------------------
def test_labeler_report_figures_on_a_gold_set_checked_by_hand():
    steps = pd.DataFrame([("a0", "A", 0, False), ("a1", "A", 1, True), ("a2", "A", 2, True), ("a3", "A", 3, True),
                          ("b0", "B", 0, True), ("b1", "B", 1, True), ("b2", "B", 2, True),
                          ("c0", "C", 0, True), ("c1", "C", 1, True)],
                         columns=["step_id", "message_id", "idx", "claim"])
    gold = {"a1": 1, "a2": -1, "b0": 1, "b1": 1, "b2": 1, "c1": -1}  # A errs at a2, B is clean, C is not fixed
    x = {"a0": -1, "a2": -1, "b1": -1, "c1": -1, "b0": 1}
    y = {"a2": -1}
    labels = pd.DataFrame([(s, src, float(v)) for src, d in (("gold", gold), ("auto:x", x), ("auto:y", y))
                           for s, v in d.items()], columns=["step_id", "source", "value"])
    fx, fy = score_sources(steps, labels)
    assert (fx.source, fy.source) == ("auto:x", "auto:y")
    # x: 8 claim steps, 4 labelled (a0 is claim-free); negatives a0, a2, b1, c1: a0 on a first step and claim-free.
    assert (fx.claim_steps, fx.labelled, fx.coverage) == (8, 4, 0.5)
    assert (fx.negatives, fx.negatives_on_first_step, fx.negatives_on_claim_free) == (4, 1, 1)
    vx = fx.against[0]
    # Compared negatives a2, b1, c1: gold says -1 on a2 and c1 -> precision 2/3; both gold negatives found -> recall 1.
    assert (vx.reference, vx.negatives_compared, vx.precision, vx.recall) == ("gold", 3, pytest.approx(2 / 3), 1.0)
    # Trajectories A (first error a2) and B (clean); C's c0 is unlabelled. x's first -1 in A is a0, in B is b1.
    assert (vx.trajectories, vx.with_error, vx.located, vx.clean_kept, vx.first_error_accuracy) == (2, 1, 0, 0, 0.0)
    vy = fy.against[0]
    assert (vy.precision, vy.recall, vy.located, vy.clean_kept, vy.first_error_accuracy) == (1.0, 0.5, 1, 1, 1.0)
    assert (fy.coverage, fy.first_step_share) == (1 / 8, 0.0)


def test_gold_debate_report_in_the_cli_and_the_export_figures(tmp_path, capsys):
    assert main(["labels", "gold", "--problems", "6", "--seed", "3"]) == 0
    run = "gold-debate-3"
    assert main(["autolabel"]) == 0
    capsys.readouterr()
    assert main(["labels", "report", "--json", "--run", run]) == 0
    report = json.loads(capsys.readouterr().out)
    by_source = {s["source"]: s for s in report["sources"]}
    debate = by_source["auto:debate"]
    assert debate["negatives"] > 0 and debate["negatives_on_claim_free"] == 0
    assert debate["negatives_on_first_step"] == 0 and debate["first_step_share"] == 0.0
    vs_gold = debate["against"][0]
    assert vs_gold["reference"] == "gold" and vs_gold["precision"] == 1.0 and vs_gold["trajectories"] == 6 * 3 * 2
    with Store() as store:
        # The key by hand: every agent_k round-1 message with a planted error has exactly one gold -1, on its "Step k".
        labels = q.labels_in_force(store, [run], ["gold"]).merge(q.steps_in_context(store, [run]), on="step_id")
        negatives = labels[labels["value"] < 0]
        assert negatives.groupby("message_id").size().eq(1).all()
        assert negatives["text"].str.match(r"Step \d: ").all() and labels["claim"].all()
        result = export(store, ExportConfig(kind="prm", run_ids=[run]), tmp_path / "prm.parquet")
        stored = json.loads(q.list_exports(store).filters_json[0])["summary"]
    assert {s["source"] for s in stored["labelers"]["sources"]} == {"auto:arith", "auto:debate", "auto:outcome"}
    assert any(line.startswith("labelers of these runs:") for line in result.summary.lines())
    rows = pd.read_parquet(result.path)
    assert CLAIM_FREE_SOURCE in {s for sources in rows["label_sources"] for s in sources}


# -- point 4: the judge ------------------------------------------------------------------------------------------
def _judge_script(body: dict, attempt: int) -> Reply:
    prompt = body["messages"][-1]["content"]
    if "= 14 apples" in prompt:
        return Reply(text="Paragraph 0 multiplies wrong.\n\\boxed{0}")
    if "no verdict" in prompt:
        return Reply(text="The solution looks reasonable to me.")
    if "out of range" in prompt:
        return Reply(text="\\boxed{9}")
    if "garbled" in prompt:
        return Reply(raw="{this is not json")
    if "Let me think." in prompt:
        return Reply(text="\\boxed{0}")  # the opening: a step that makes no claim
    return Reply(text="All paragraphs are right. \\boxed{-1}")


def _judge_store(path) -> Store:
    return build_store(path, [
        message("w1", "agent_1", 1, WRONG, False, seq=0),
        message("r1", "agent_2", 1, RIGHT, True, seq=1),
        message("x1", "agent_3", 1, RIGHT + "\n\nSo: no verdict needed.", True, seq=2),
        message("x2", "agent_4", 1, RIGHT + "\n\nSo out of range.", True, seq=3),
        message("x3", "agent_5", 1, RIGHT + "\n\nSo garbled, 10.", True, seq=4),
        message("x4", "agent_6", 1, "Let me think.\n\n" + RIGHT, True, seq=5),
    ])


def test_judge_job_labels_refuses_malformed_replies_and_resumes(tmp_path):
    with OpenAIServer(_judge_script) as server, _judge_store(tmp_path / "home" / "agentark.duckdb") as store:
        segment_runs(store, None, SegmentConfig())
        cfg = judge.JudgeConfig(engine="openai", model="judge-72b", chunk_size=2,
                                engine_options={"base_urls": [server.base_url], "max_retries": 0})
        job_id = jobs.create(judge.KIND, cfg, store=store).job_id
        folder = judge.JudgeFolder(job_id)
        # Stop after the first batch of two trajectories; resuming does the rest, never the first batch again.
        first = jobs.run_job(job_id, on_progress=lambda d, t: folder.request_cancel() if d >= 2 else None)
        assert first["status"] == "stopped" and first["done"] == 2 and len(server.requests) == 2
        final = jobs.run_job(job_id)
        assert final["status"] == "done" and final["done"] == 6 and len(server.requests) == 6
        assert final["refused"] == 4
        reasons = dict(zip(folder.refusals()["message_id"], folder.refusals()["reason"]))
        assert "no \\boxed{index}" in reasons["x1"] and "outside -1..3" in reasons["x2"]
        assert "the request failed" in reasons["x3"] and "makes no claim" in reasons["x4"]
        store.refresh()
        labels = q.labels_in_force(store, sources=[judge.SOURCE]).merge(q.steps_in_context(store), on="step_id")
        got = {(r.message_id, r.idx): r.value for r in labels.itertuples()}
        assert got == {("w1", 0): -1.0, ("r1", 0): 1.0, ("r1", 1): 1.0, ("r1", 2): 1.0}
        assert labels["confidence"].eq(1.0).all() and labels["annotator"].eq(job_id).all()
        # The ProcessBench prompt: indexed paragraphs and a boxed index.
        prompt = server.requests[0]["messages"][0]["content"]
        assert "<paragraph_0>" in prompt and "\\boxed{}" in prompt and "earliest error" in prompt
        # Refused trajectories have no judge label: a new job (skip_labeled) judges only those four.
        again = judge.plan_judge(judge.JudgeConfig(engine="openai", model="m",
                                                   engine_options={"base_urls": [server.base_url]}), store)
        assert set(again.tables["steps"]["message_id"]) == {"x1", "x2", "x3", "x4"}


def test_judge_majority_of_samples_sets_the_confidence():
    votes = iter(["\\boxed{1}", "\\boxed{1}", "\\boxed{-1}"])

    class ThreeVoices:
        def generate(self, requests):
            from agentark.backends.base import Completion

            return [Completion(text=next(votes)) for _ in requests]

    chunk = [{"message_id": "m", "question": "q", "step_ids": ["s0", "s1", "s2"], "texts": ["a", "b = 2", "c = 3"],
              "claims": [False, True, True]}]
    cfg = judge.JudgeConfig(engine="scripted", samples=3, temperature=0.7)
    labels, refused = judge.judge_chunk(ThreeVoices(), chunk, cfg, "job", "m")
    assert refused.empty
    assert labels[["step_id", "value"]].values.tolist() == [["s1", -1.0]]  # s0 claims nothing: no +1 before
    assert labels["confidence"].tolist() == [pytest.approx(2 / 3)]
    assert judge.parse_verdict("\\boxed{2} then \\boxed{ -1 }", 3) == (-1, None)


# -- consensus and degenerate text -------------------------------------------------------------------------------
def test_consensus_keeps_monte_carlo_and_judge_labels_only_where_they_agree(tmp_path):
    with build_store(tmp_path / "s.duckdb", [message("m1", "agent_1", 1, RIGHT, True)]) as store:
        segment_runs(store, None, SegmentConfig())
        s0, s1, s2 = q.steps_in_context(store).sort_values("idx")["step_id"]
        rows = [(s0, "auto:mc", 1.0), (s0, "auto:judge", 1.0), (s1, "auto:mc", 1.0), (s1, "auto:judge", -1.0),
                (s2, "auto:judge", 1.0)]
        q.append_labels(store, pd.DataFrame([{"label_id": f"l{i}", "step_id": s, "source": src, "value": v,
                                              "created_at": pd.Timestamp("2026-01-01")}
                                             for i, (s, src, v) in enumerate(rows)]))
        loose, _ = prepare(store, ExportConfig(kind="prm"))
        assert list(loose.iloc[0]["labels"]) == [True, False]  # precedence: the judge's -1 on s1 is the first error
        strict, summary = prepare(store, ExportConfig(kind="prm", policy="consensus"))
        assert summary.consensus == {"agreed": 1, "disagreed": 1, "alone": 1}
        # s1 and s2 lose their labels; the answer is right, so the first-error convention counts them good.
        assert list(strict.iloc[0]["labels"]) == [True, True, True]
        assert list(strict.iloc[0]["label_sources"]) == ["auto:judge", "policy:first-error", "policy:first-error"]
        assert any("consensus: 1 steps" in line for line in summary.lines())
        with pytest.raises(ConfigError, match="policy"):
            ExportConfig(policy="vote")


SALAD = ("Agent two said it. Let me confirm the answer: 52 " + " ".join(
    f"qx{i}zv ##{i}@@ <|tok{i}|> brrt{i}k" for i in range(12)) + " so 52.")


def test_degenerate_text_is_detected_and_left_out_of_training_sets(tmp_path):
    assert degenerate.degenerate_reason(SALAD) == degenerate.NON_WORDS
    assert degenerate.degenerate_reason("I agree that the answer is 52. " * 12) == degenerate.REPEATING
    for fine in (RIGHT, _answer(7), "We compute $\\frac{3}{4} \\cdot 12 = 9$, then $9^2 = 81$ and $\\sqrt{81} = 9$. "
                 "Thus $x = 9$ and $y = 2x + 1 = 19$, so the answer is $\\boxed{19}$, as substitution confirms."):
        assert degenerate.degenerate_reason(fine) is None
    long_right = _answer(7)
    with build_store(tmp_path / "s.duckdb", [
        message("a1", "agent_1", 1, long_right, True, seq=0),
        message("b1", "agent_2", 1, WRONG, False, seq=1),
        message("a2", "agent_1", 2, long_right + "\nThe answer is 10.", True, seq=2),
        message("b2", "agent_2", 2, long_right + "\nThe answer is 10.", True, seq=3),  # copies agent_1
        message("c2", "agent_3", 2, SALAD + " The answer is 10.", True, seq=4),
    ]) as store:
        segment_runs(store, None, SegmentConfig())
        run_auto_labelers(store, AutoLabelConfig())
        rows, summary = prepare(store, ExportConfig(kind="da", max_per_problem=10))
        assert set(rows["message_id"]) == {"a1", "a2"}
        assert summary.dropped == {degenerate.COPIED: 1, degenerate.NON_WORDS: 1}
        prm, prm_summary = prepare(store, ExportConfig(kind="prm"))
        assert "c2" not in set(prm["message_id"]) and "b2" not in set(prm["message_id"])
        assert prm_summary.dropped[degenerate.NON_WORDS] == 1
        kept, _ = prepare(store, ExportConfig(kind="da", max_per_problem=10, drop_degenerate=False))
        assert "c2" in set(kept["message_id"])


# -- point 6: du2023 warnings and rejections -----------------------------------------------------------------------
def test_du2023_warns_per_problem_and_names_rejected_problems(tmp_path, capsys):
    path = tmp_path / "short.json"
    _persona_file(path, agent_3_rounds=1)
    assert main(["import", "--format", "du2023", str(path)]) == 0
    printed = capsys.readouterr()
    assert "1 imported, 0 skipped as duplicate, 0 rejected, 1 cut short (rounds missing)" in printed.out
    assert "warning:" in printed.err and "problem 1 'Janet's ducks lay 16 eggs" in printed.err
    assert "agent_3 has 1 of 2" in printed.err and "counts 2 of 3 agents" in printed.err
    # One line, a bad second problem, then the file is cut off inside the third.
    good = json.loads(path.read_text())
    text = json.dumps({**good, "What is 5 + 5?": "not a pair", "What is 6 + 6?": [[[{"role": "user", "content": "q"}]],
                                                                                   "12"]})
    cut = tmp_path / "cut.json"
    cut.write_text(text[:text.index("What is 6 + 6?") + 30])
    with Store() as store:
        report = import_file(store, "du2023", cut, run_id="cut-run")
    lines = report.rejection_lines()
    assert lines[0] == "problem 2 'What is 5 + 5?' (line 1): value is not [agent_contexts, answer]"
    assert lines[1].startswith("problem 3 'What is 6 + 6?' (line 1): the file ends before this record is complete (")
    assert lines[1].endswith("); was it cut off?") and "line 1" in lines[1]


# -- point 7: re-imports -------------------------------------------------------------------------------------------
def test_reimports_say_what_happened_and_refuse_unless_asked(tmp_path, capsys):
    path = tmp_path / "debate.json"
    _persona_file(path)
    assert main(["import", "--format", "du2023", str(path), "--model", "mistral-7b"]) == 0
    capsys.readouterr()
    assert main(["import", "--format", "du2023", str(path), "--model", "llama-3.2-3b"]) == 2
    err = capsys.readouterr().err
    assert "was imported" in err and "model mistral-7b" in err and "You named model llama-3.2-3b" in err
    assert "Nothing was imported" in err and "--again" in err and "--run-id" in err
    copy = tmp_path / "renamed.json"
    copy.write_bytes(path.read_bytes())
    assert main(["import", "--format", "du2023", str(copy)]) == 2
    assert "has the same bytes" in capsys.readouterr().err
    with Store() as store:
        assert len(run_tables.list_runs(store)) == 1
    # A changed file at the same path, another model: refused, the run keeps saying which model it holds.
    data = json.loads(path.read_text())
    data["What is 2 + 2?"] = [[_context("The answer is 4.", None)], "4"]
    path.write_text(json.dumps(data))
    assert main(["import", "--format", "du2023", str(path), "--model", "llama-3.2-3b"]) == 2
    assert "was imported with model mistral-7b; this import names llama-3.2-3b" in capsys.readouterr().err
    assert main(["import", "--format", "du2023", str(copy), "--again", "--run-id", "second"]) == 0
    with Store() as store:
        runs = run_tables.list_runs(store)
        assert len(runs) == 2 and "second" in set(runs["run_id"])


# -- point 8: the CLI --------------------------------------------------------------------------------------------
def test_label_refuses_unknown_steps_and_steps_exports_train_commands(tmp_path, capsys):
    with build_store(tmp_path / "home" / "agentark.duckdb", [message("m1", "agent_1", 1, RIGHT, True)]) as store:
        segment_runs(store, None, SegmentConfig())
        with pytest.raises(ConfigError, match="No step nonexistent-step"):
            add_human_labels(store, [HumanLabel("nonexistent-step", -1, "ana")])
    assert main(["label", "nonexistent-step", "--value", "-1", "--annotator", "ana"]) == 2
    assert "agentark steps" in capsys.readouterr().err
    assert main(["steps", "--contains", "12 - 2", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["matching"] == 1
    step = found["steps"][0]
    assert step["run_id"] == "r1" and step["idx"] == 1 and step["labels"] == {} and step["claim"] is True
    assert main(["label", step["step_id"], "--value", "1", "--annotator", "ana"]) == 0
    assert main(["autolabel"]) == 0
    capsys.readouterr()
    assert main(["steps", "--source", "human", "--json"]) == 0
    assert [s["labels"] for s in json.loads(capsys.readouterr().out)["steps"]] == [{"auto:outcome": 1.0, "human": 1.0}]
    assert main(["steps", "--run", "r1", "--limit", "2"]) == 0
    assert "2 of 3 matching steps" in capsys.readouterr().out
    out = tmp_path / "prm.parquet"
    assert main(["export", "prm", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["exports", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["kind"], e["rows"], e["path"]) for e in listed] == [("prm", 1, str(out))]
    assert listed[0]["figures"]["prm"]["negatives"] == 0 and len(listed[0]["sha256"]) == 64
    assert main(["exports"]) == 0
    assert "3 steps, 0 negative" in capsys.readouterr().out
    # train prm prints the data's figures and the balance warning before its preflight (here: no such base model).
    assert main(["train", "prm", "--export", listed[0]["export_id"], "--base-model", str(tmp_path / "none")]) == 2
    printed = capsys.readouterr()
    assert "PRM data: 1 rows (0 with a negative step), 3 steps: 3 positive, 0 negative" in printed.out
    assert "warning: Only 0 of 3 steps" in printed.err


def test_label_page_builds_a_gold_debate_and_shows_the_labeler_report():
    from tests.test_label_pages import labeling_page, open_tab

    at = labeling_page()
    open_tab(at, "Prepare")
    at.number_input(key="lab_gold_problems").set_value(3)
    at.button(key="FormSubmitter:lab_gold-Build gold debate").click().run()
    assert any("gold labels" in s.value for s in at.success), [e.value for e in at.error]
    at.button(key="lab_auto").click().run()
    assert not at.exception, at.exception
    open_tab(at, "Summary")
    assert any("How right each labeler is" in m.value for m in at.markdown)
    report = next(d.value for d in at.dataframe if "first-error acc." in d.value.columns)
    debate = report[report["source"] == "auto:debate"].iloc[0]
    assert debate["reference"] == "gold" and debate["on claim-free"] == 0 and debate["precision (neg)"] == 1.0
