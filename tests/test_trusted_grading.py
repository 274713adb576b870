"""Issue 16, points 3, 4, 9 and 10: answers of cut-off messages, ambiguous finals and vote ties, problem
identity across tools (with stored problems migrated), and multiple-choice grading."""
from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from agentark.cli import main
from agentark.debate import DebateConfig, Decision, debate_job
from agentark.evaluate.metrics import metrics_from_frames
from agentark.grading import Reading, choice_options, extract_answer, read_answer
from agentark.runs.formats import import_file
from agentark.runs.formats.transcript_jsonl import export_transcripts
from agentark.store import Store, run_tables
from agentark.store.migrations import MIGRATIONS
from agentark.store.trace_tables import run_summary
from agentark.tasks import Problem, load_problems, problem_id
from tests.conftest import ROOT

# ---------------------------------------------------------------------------------------------------------
# 3. Answers from messages that were cut off
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Step 2: Calculate", "n", "Zeno + 2 = 6 6. Finally,", "18 pancakes and"])
def test_a_cut_off_message_without_an_explicit_answer_has_none(text):
    assert read_answer(text, "length") == Reading(None, "cut_off")
    # The same text from a reply that finished keeps the implicit rule, marked as such.
    finished = read_answer(text, "stop")
    assert finished.kind in ("implicit", "none") and finished.kind != "explicit"


@pytest.mark.parametrize("text, answer", [("Step 1: 3 + 3 = 6.\nThe answer is 6", "6"), ("so \\boxed{18} and", "18"),
                                          ("work\n#### 72\nmore", "72")])
def test_a_cut_off_message_keeps_an_answer_it_states(text, answer):
    assert read_answer(text, "length") == read_answer(text, "stop") == read_answer(text, None)
    assert (read_answer(text, "length").answer, read_answer(text, "length").kind) == (answer, "explicit")


def rambles(request) -> str:
    """Long working on "7" questions (cut off by max_tokens), a short explicit answer otherwise."""
    question = request.messages[-1]["content"]
    if "7 + 7" in question:
        return "Let me think. First 7 + 7, so Step 2: Calculate the sum by counting up one at a time"
    return "2 + 2 = 4.\nThe answer is 4."


def run_debate(problems: list[Problem], model: str, method: str = "cot", agents: int = 1, max_tokens: int = 12) -> str:
    cfg = DebateConfig(method=method, agents=agents, rounds=1, max_tokens=max_tokens, engine="scripted", model=model)
    run_id, _ = debate_job.create_debate_run(cfg, problems)
    debate_job.run_debate_job(run_id)
    with Store() as store:
        store.refresh()
    return run_id


def test_a_live_run_grades_a_cut_off_reply_wrong_and_the_parse_share_counts_stated_answers():
    problems = [Problem(problem_id(q), "t", "test", q, ref) for q, ref in
                (("What is 7 + 7?", "2"), ("What is 2 + 2?", "4"))]
    run_id = run_debate(problems, "tests.test_trusted_grading:rambles")
    with Store() as store:
        msgs = run_tables.messages(store, run_id).set_index("problem_id")
        cut = msgs.loc[problems[0].problem_id]
        # "Step 2: Calculate ..." would read as 2, the (deliberately matching) reference: it must not.
        assert cut["content"].endswith("Step 2: Calculate the")
        assert cut["finish_reason"] == "length" and pd.isna(cut["answer"]) and cut["answer_kind"] == "cut_off"
        assert not cut["is_correct"]
        assert run_tables.final_accuracy(store, run_id) == 0.5
        summary = run_summary(store, [run_id]).iloc[0]
        assert summary["cut_off"] == 1 and summary["ambiguous"] == 0
        from agentark.evaluate.metrics import run_metrics

        metrics = run_metrics(store, [run_id])[0]
        assert metrics.parse_rate == 0.5 and metrics.cut_off == 1


def test_the_parse_share_counts_explicit_answers_only():
    messages = pd.DataFrame({
        "role": ["solver"] * 4, "error": [None] * 4, "content": ["x"] * 4, "answer": ["4", "2", None, None],
        "answer_kind": ["explicit", "implicit", "cut_off", "ambiguous"]})
    outcomes = pd.DataFrame({"is_correct": [True], "prompt_tokens": [1], "completion_tokens": [1],
                             "engine_calls": [4], "wall_ms": [1.0], "vote_tie": [True]})
    m = metrics_from_frames({"run_id": "r", "config": {}}, outcomes, messages)
    assert m.parse_rate == 0.25 and (m.cut_off, m.ambiguous, m.ties) == (1, 1, 1)


def test_imports_without_finish_reasons_keep_the_implicit_rule_marked_implicit(tmp_path):
    path = tmp_path / "du.json"
    chat = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "So she has 18 left"}]
    path.write_text(json.dumps({"How many are left?": [[chat], "18"]}))
    with Store() as store:
        report = import_file(store, "du2023", path)
        row = run_tables.messages(store, report.run_id).iloc[0]
    assert (row["answer"], row["answer_kind"], bool(row["is_correct"])) == ("18", "implicit", True)
    assert pd.isna(row["finish_reason"])


def _store_old_grades(store: Store, run_id: str) -> None:
    """Grade a run's messages as the old rule did (the last number, no kinds, no ties) and drop summaries."""
    with store.transaction() as con:
        con.execute("UPDATE messages SET answer = '2', answer_norm = '2', is_correct = true, answer_kind = NULL "
                    "WHERE run_id = ? AND finish_reason = 'length'", [run_id])
        con.execute("UPDATE outcomes SET final_answer = '2', is_correct = true, vote_tie = NULL WHERE run_id = ?",
                    [run_id])
        con.execute("DELETE FROM problem_traces WHERE run_id = ?", [run_id])
        con.execute("DELETE FROM problem_rounds WHERE run_id = ?", [run_id])


def test_regrade_command_fixes_stored_runs_and_the_summaries_follow(capsys):
    problems = [Problem(problem_id(q), "t", "test", q, ref) for q, ref in
                (("What is 7 + 7?", "2"), ("What is 2 + 2?", "4"))]
    run_id = run_debate(problems, "tests.test_trusted_grading:rambles")
    with Store() as store:
        _store_old_grades(store, run_id)
        before = run_summary(store, [run_id]).iloc[0]
        assert before["accuracy"] == 1.0 and pd.isna(before["cut_off"]) and pd.isna(before["ties"])
    assert main(["regrade", run_id, "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done[0]["accuracy_before"] == 1.0 and done[0]["accuracy_after"] == 0.5
    assert done[0]["answers_changed"] == 1 and done[0]["cut_off"] == 1
    with Store() as store:
        after = run_summary(store, [run_id]).iloc[0]
        assert after["accuracy"] == 0.5 and after["cut_off"] == 1 and after["ties"] == 0
        cut = run_tables.messages(store, run_id).set_index("problem_id").loc[problems[0].problem_id]
        assert pd.isna(cut["answer"]) and cut["answer_kind"] == "cut_off" and not cut["is_correct"]
        assert run_tables.list_runs(store).set_index("run_id").loc[run_id, "accuracy"] == 0.5


# ---------------------------------------------------------------------------------------------------------
# 4. Ambiguous finals and majority ties
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["\\boxed{14 or 15}", "So it is \\boxed{14} or \\boxed{15}.",
                                  "The answer is 14 or 15 apples.", "The answer is (B) or (C)."])
def test_ambiguous_finals_have_no_answer(text):
    assert read_answer(text, "stop").answer is None and read_answer(text, "stop").kind == "ambiguous"
    assert extract_answer(text) is None


def test_one_value_said_twice_is_not_ambiguous():
    assert read_answer("The answer is 5 (or 5.0).").answer == "5"
    assert read_answer("\\boxed{72} dollars or more").answer == "72"


def test_vote_ties_are_reported():
    assert Decision.by_vote(["1", "2", "3"]) == Decision(None, tie=True)  # no majority: no final answer
    assert Decision.by_vote(["1", "2", "3"], first_agent_tie_break=True) == Decision("1", tie=True)
    assert Decision.by_vote(["1", "2", "2"]) == Decision("2", tie=False)
    assert Decision.by_vote(["1", None, None]) == Decision("1", tie=False)


_CALLS = itertools.count(1)


def _tied_answers(request) -> str:
    """Any three consecutive requests get three different answers to "1 + 2" (a three-way tie), and "4"
    twice and one ambiguous final to "2 + 2"; the requests of a round come in one batch, agent by agent."""
    n = next(_CALLS)
    if "2 + 2" in request.messages[-1]["content"]:
        return "I get \\boxed{4 or 5}." if n % 3 == 0 else "The answer is 4."
    return f"The answer is {n % 3 + 1}."


def test_a_tied_vote_and_an_ambiguous_final_show_in_the_runs_figures_and_on_the_dashboard():
    problems = [Problem(problem_id(q), "t", "test", q, ref) for q, ref in
                (("What is 1 + 2?", "3"), ("What is 2 + 2?", "4"))]
    run_id = run_debate(problems, "tests.test_trusted_grading:_tied_answers", method="self_consistency",
                        agents=3, max_tokens=64)
    with Store() as store:
        outcomes = store.df("SELECT problem_id, vote_tie, final_answer FROM outcomes WHERE run_id = ?", [run_id])
        ties = outcomes.set_index("problem_id")["vote_tie"].to_dict()
        assert ties == {problems[0].problem_id: True, problems[1].problem_id: False}
        summary = run_summary(store, [run_id]).iloc[0]
        assert summary["ties"] == 1 and summary["ambiguous"] == 1
        assert run_tables.list_runs(store).set_index("run_id").loc[run_id, "ties"] == 1
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.switch_page("pages/3_dashboard.py")
    at.query_params["runs"] = run_id
    at.run()
    assert not at.exception, at.exception
    assert any("1 of 2 final answers came from a tied vote" in w.value for w in at.warning)
    table = next(d.value for d in at.dataframe if "ties" in d.value.columns)
    assert int(table["ties"].iloc[0]) == 1 and int(table["ambiguous"].iloc[0]) == 1


# ---------------------------------------------------------------------------------------------------------
# 9. Problem identity follows the normalised question
# ---------------------------------------------------------------------------------------------------------

QUESTIONS = {
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many "
    "clips did Natalia sell altogether in April and May?": "72",
    "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did "
    "she earn?": "10",
}


def _write_sources(folder: Path, questions: dict[str, str]) -> dict[str, Path]:
    """The same questions as a GSM8K-layout file, a Du et al. file (whitespace differs), a MASLab file."""
    folder.mkdir(parents=True, exist_ok=True)
    gsm = folder / "gsm" / "test.jsonl"
    gsm.parent.mkdir(exist_ok=True)
    gsm.write_text("".join(json.dumps({"question": q, "answer": f"work\n#### {a}"}) + "\n" for q, a in questions.items()))
    du = {}
    for q, a in questions.items():
        persona = "You are a careful mathematician who checks every step."
        chats = [[{"role": "system", "content": persona}, {"role": "user", "content": f"Solve: {q}"},
                  {"role": "assistant", "content": f"Thinking it over, the answer is \\boxed{{{a}}}."}]
                 for _ in range(2)]
        du["  " + q.replace(" ", "  ", 2) + "\n"] = [chats, f"work\n#### {a}"]
    (folder / "du.json").write_text(json.dumps(du))
    (folder / "maslab.jsonl").write_text("".join(
        json.dumps({"query": q, "gt": a, "response": f"===== Solution 1 =====\nThe answer is {a}.",
                    "token_stats": {"m": {"num_llm_calls": 1, "prompt_tokens": 5, "completion_tokens": 5}}}) + "\n"
        for q, a in questions.items()))
    return {"gsm": gsm.parent, "du": folder / "du.json", "maslab": folder / "maslab.jsonl"}


def answers_right(request) -> str:
    question = request.messages[-1]["content"]
    return "The answer is " + next(a for q, a in QUESTIONS.items() if q in question) + "."


def _lines_up(questions: dict[str, str], folder: Path, monkeypatch, gsm_dir: Path | None = None) -> None:
    sources = _write_sources(folder, questions)
    monkeypatch.setenv("AGENTARK_GSM8K_DIR", str(gsm_dir or sources["gsm"]))
    loaded = load_problems("gsm8k", split="test", limit=len(questions) if gsm_dir is None else None).problems
    loaded = [p for p in loaded if p.question in questions]
    assert len(loaded) == len(questions)
    ids = {p.question: p.problem_id for p in loaded}
    with Store() as store:
        du = import_file(store, "du2023", sources["du"], dataset="import:du")
        mas = import_file(store, "maslab", sources["maslab"], dataset="import:maslab")
        out = folder / "transcripts.jsonl"
        export_transcripts(store, du.run_id, out)
        copied = out.read_text().replace(du.run_id, "copied-run")
        (folder / "copy.jsonl").write_text(copied)
        tr = import_file(store, "transcripts", folder / "copy.jsonl")
        finished = {}
        for run_id in (du.run_id, mas.run_id, tr.run_id):
            finished[run_id] = set(store.df("SELECT problem_id FROM outcomes WHERE run_id = ?", [run_id])["problem_id"])
            assert finished[run_id] == set(ids.values()), run_id
        # Each run still records the dataset and split it took the problem from.
        recorded = store.df("SELECT run_id, dataset, split FROM run_problems").drop_duplicates()
        assert set(map(tuple, recorded.values)) >= {(du.run_id, "import:du", "imported"),
                                                     (mas.run_id, "import:maslab", "imported")}
        assert store.scalar("SELECT count(*) FROM problems") == len(questions)
        from agentark.evaluate.compare import compare

        compared = compare(store, [du.run_id, mas.run_id])
        assert compared is not None
    run_id = run_debate(loaded, "tests.test_trusted_grading:answers_right", max_tokens=64)
    with Store() as store:
        live = set(store.df("SELECT problem_id FROM outcomes WHERE run_id = ?", [run_id])["problem_id"])
        assert live == set(ids.values())
        assert store.df("SELECT DISTINCT dataset, split FROM run_problems WHERE run_id = ?", [run_id]).values.tolist() \
            == [["gsm8k", "test"]]


def test_the_same_question_from_four_sources_is_one_problem(tmp_path, monkeypatch):
    _lines_up(QUESTIONS, tmp_path, monkeypatch)


def test_real_gsm8k_questions_line_up_across_tools(tmp_path, monkeypatch, gsm8k_dir):
    rows = [json.loads(line) for line in (gsm8k_dir / "test.jsonl").read_text().splitlines()[:2]]
    questions = {r["question"]: r["answer"].rsplit("####", 1)[-1].strip().replace(",", "") for r in rows}
    monkeypatch.setattr(f"{__name__}.QUESTIONS", questions)
    _lines_up(questions, tmp_path, monkeypatch, gsm_dir=gsm8k_dir)


def _old_id(dataset: str, question: str) -> str:
    return hashlib.sha1(f"{dataset}\n{question}".encode()).hexdigest()[:16]


def test_stored_problems_are_migrated_to_question_ids(tmp_path):
    """A store at every version but 9 (ids were sha1(dataset + question)) opens with ids that follow the question."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for m in sorted(MIGRATIONS, key=lambda m: m.version):
        if m.version != 9:
            for statement in m.statements:
                con.execute(statement)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [m.version, m.name])
    q = "What is 2+2?"
    rows = [("gsm8k", "test", q, "a", 0), ("import:du", "imported", "  what is  2+2? ", "b", 0),
            ("import:du", "imported", "Other?", "b", 1), ("import:du", "imported", "WHAT IS 2+2?", "b", 2)]
    for dataset, split, question, run, idx in rows:
        pid = _old_id(dataset, question)
        con.execute("INSERT OR IGNORE INTO problems VALUES (?, ?, ?, ?, '4', '{}')", [pid, dataset, split, question])
        con.execute("INSERT OR IGNORE INTO runs (run_id, kind, config_json, status, created_at) "
                    "VALUES (?, 'import', '{}', 'done', now())", [run])
        con.execute("INSERT INTO run_problems VALUES (?, ?, ?)", [run, pid, idx])
        con.execute("INSERT INTO outcomes (run_id, problem_id, final_answer, is_correct) VALUES (?, ?, '4', true)",
                    [run, pid])
        con.execute("INSERT INTO messages (message_id, run_id, problem_id, agent, round, role) "
                    "VALUES (?, ?, ?, 'agent_1', 1, 'solver')", [f"{run}:{pid}", run, pid])
        con.execute("INSERT INTO curation_marks VALUES (?, ?, ?, NULL, 'keep', NULL, NULL, now())",
                    [f"m-{run}-{idx}", run, pid])
    con.close()
    with Store(path) as store:
        new = problem_id(q)
        assert store.schema_version() >= 9
        assert set(store.df("SELECT problem_id FROM outcomes WHERE run_id = 'a'")["problem_id"]) == {new}
        b = store.df("SELECT problem_id, idx, dataset, split FROM run_problems WHERE run_id = 'b' ORDER BY idx")
        # Run b held the question twice (two spellings): the first takes the new id, the second keeps its own.
        assert b["problem_id"].tolist() == [new, problem_id("Other?"), _old_id("import:du", "WHAT IS 2+2?")]
        assert set(b["dataset"]) == {"import:du"} and set(b["split"]) == {"imported"}
        assert store.scalar("SELECT dataset FROM run_problems WHERE run_id = 'a'") == "gsm8k"
        for table in ("messages", "outcomes", "curation_marks"):
            ids = set(store.df(f"SELECT problem_id FROM {table}")["problem_id"])
            assert ids == {new, problem_id("Other?"), _old_id("import:du", "WHAT IS 2+2?")}, table
        assert store.scalar("SELECT count(*) FROM problems WHERE problem_id = ?", [new]) == 1
        aliases = dict(store.con.execute("SELECT old_id, problem_id FROM problem_aliases").fetchall())
        assert aliases[_old_id("gsm8k", q)] == new and aliases[_old_id("import:du", "  what is  2+2? ")] == new


# ---------------------------------------------------------------------------------------------------------
# 10. Multiple choice
# ---------------------------------------------------------------------------------------------------------

MMLU = ("Can you answer the following question as accurately as possible? What is 5 * 9?: A) 40, B) 42, C) 44, "
        "D) 45 Explain your answer, putting the answer in the form (X) at the end of your response.")


def test_options_are_read_from_the_question():
    assert choice_options(MMLU) == {"A": "40", "B": "42", "C": "44", "D": "45"}
    assert choice_options("Pick one:\n(A) red\n(B) blue\n(C) green") == {"A": "red", "B": "blue", "C": "green"}
    assert choice_options("What is 2 + 2?") == {}


@pytest.mark.parametrize("text", ["Five nines are 45. (D)", "D) 45", "The answer is (D) 45.", "Answer: D",
                                  "The answer is 45.", "\\boxed{D}", "so **(D)**"])
def test_choice_answers_are_read_as_choices(text):
    assert read_answer(text, "stop", choice_options(MMLU)).answer == "D"


def test_a_multiple_choice_file_is_graded_by_choice_and_unjudgeable_references_are_warned(tmp_path, capsys):
    answers = ["Five nines: 45. (D)", "D) 45", "The answer is 45.", "I think it is (C)", "Answer: D"]
    du = {MMLU.replace("5 * 9", f"5 * 9 (v{i})"): [[[{"role": "user", "content": "q"},
                                                    {"role": "assistant", "content": a}]], "D"]
          for i, a in enumerate(answers)}
    du["Which city is the capital of France?"] = [[[{"role": "user", "content": "q"},
                                                   {"role": "assistant", "content": "Paris"}]], "Paris"]
    du["Which letter? Choose well."] = [[[{"role": "user", "content": "q"},
                                          {"role": "assistant", "content": "(B)"}]], "B"]
    path = tmp_path / "mmlu.json"
    path.write_text(json.dumps(du))
    assert main(["import", "--format", "du2023", str(path)]) == 0
    captured = capsys.readouterr()
    with Store() as store:
        run_id = run_tables.list_runs(store)["run_id"].iloc[0]
        rows = run_tables.run_problems(store, run_id).set_index("question")
        mc = rows.loc[[q for q in rows.index if "5 * 9" in q]]
        assert mc["final_answer"].tolist() == ["D", "D", "D", "C", "D"]
        assert mc["is_correct"].tolist() == [True, True, True, False, True]
    assert "2 with a reference the grader cannot judge" in captured.out
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert any("capital of France" in w and "'Paris' cannot be graded" in w for w in warnings)
    assert any("Which letter?" in w and "lists no options" in w for w in warnings)
