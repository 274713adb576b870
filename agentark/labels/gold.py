"""Gold debates: real-style Du et al. transcripts with a known first error in every wrong answer, and their labels.

A labeler is only as useful as it is right, and rightness needs an answer key. ``gold_debate`` writes the
kind of file other tools make (agents that open with a persona paragraph, restate the problem, then write
"Step k:" lines on single line breaks; critiques that quote the wrong number; agents that correct themselves
or stay wrong) where each wrong answer has its error planted at a known step. ``store_gold_run`` imports it
through the ordinary du2023 importer, segments it with the default segmenter and writes the key as labels of
source ``gold``: +1 on every claim step of a right answer, and for a wrong one +1 on the claim steps before
its first error and -1 on that step (PRM800K's convention: nothing after it). The labeler report
(``agentark.labels.labeler_report``) measures every automatic source against them.

Design decision: the key names a step by its "Step k" marker, never by its position, so it stays right
whatever the segmenter does with the persona paragraph in front of it.
"""
from __future__ import annotations

import json
import random
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agentark.clock import now
from agentark.errors import ConfigError
from agentark.labels.labelers import Labeler, register_labeler
from agentark.options import ConfigBase, check_bounds
from agentark.store import Store
from agentark.store import label_tables as q

SOURCE = "gold"
PERSONAS = (
    "As a meticulous mathematician, I will work through this carefully. Let's break down the problem step by step:",
    "I am a patient teacher who explains every detail. Here is how I would approach this:",
    "Thinking like an accountant who double-checks everything, let me lay out my reasoning.",
    "As an engineer, I like to be systematic. Let's solve it one step at a time:",
    "I'm a puzzle enthusiast and I love problems like this one. Let me think it through.",
    "Speaking as a careful economist, I will reason about the quantities involved.",
    "As a friendly tutor, I'll walk you through the solution:",
)



@dataclass
class GoldConfig(ConfigBase):
    """A gold debate to build: how many problems and agents, and the seed that plants the errors."""

    problems: int = field(default=20, metadata={"help": "problems in the gold debate", "min": 1, "max": 5000})
    agents: int = field(default=3, metadata={"help": "agents per problem", "min": 2, "max": 7})
    seed: int = field(default=0, metadata={"help": "seed of the problems and the planted errors", "min": 0})

    def __post_init__(self) -> None:
        check_bounds(GoldConfig, self)


REVISED_OPENING = "Having read the other agents' solutions, I went through the problem again."


@dataclass(frozen=True)
class GoldProblem:
    """One problem: its question, the steps of a right solution (text, result) and the GSM8K-style answer cell."""

    question: str
    steps: list[tuple[str, int]]
    reference: str

    @property
    def answer(self) -> int:
        return self.steps[-1][1]


def _problem(rng: random.Random) -> GoldProblem:
    """A three-step word problem with its worked solution (GSM8K ``<<a*b=c>>`` annotations in the answer cell)."""
    a, b, c = rng.randint(3, 9), rng.randint(4, 12), rng.randint(2, 6)
    trees, apples = a * b, a * b * c
    d = rng.randint(5, apples - 1)
    left = apples - d
    question = (f"A farmer has {a} rows of {b} apple trees. Each tree gives {c} apples. He sells {d} apples at the "
                "market. How many apples does he have left?")
    steps = [
        (f"There are {a} rows of {b} trees, so {a} * {b} = {{}} trees.", trees),
        (f"Each tree gives {c} apples, so the trees give {{t}} * {c} = {{}} apples.", apples),
        (f"He sells {d}, so {{t}} - {d} = {{}} apples are left.", left),
    ]
    reference = (f"He has {a}*{b} = <<{a}*{b}={trees}>>{trees} trees.\nThey give {trees}*{c} = "
                 f"<<{trees}*{c}={apples}>>{apples} apples.\nHe has {apples}-{d} = <<{apples}-{d}={left}>>{left} "
                 f"left.\n#### {left}")
    return GoldProblem(question, steps, reference)


def _solution(problem: GoldProblem, persona: str, error_at: int | None, delta: int, restate: bool) -> tuple[str, int]:
    """A message: the persona paragraph, optionally the question restated, then "Step k:" lines on single line
    breaks; with ``error_at`` (1-based among the computing steps) that step's result is off by ``delta`` and every
    later step computes from it. Returns the text and the final answer it commits to."""
    lines, previous, k = [], None, 1
    if restate:
        first = problem.question.split(". ")[0]
        lines.append(f"Step {k}: We are told that {first[0].lower() + first[1:]}.")
        k += 1
    value = 0
    for i, (template, _) in enumerate(problem.steps, start=1):
        value = eval_step(problem, i, previous)
        if error_at == i:
            value += delta
        lines.append(f"Step {k}: " + template.replace("{t}", str(previous)).replace("{}", str(value)))
        previous, k = value, k + 1
    return f"{persona}\n\n" + "\n".join(lines) + f"\nThe answer is {value}.", value


def eval_step(problem: GoldProblem, i: int, previous: int | None) -> int:
    """Step ``i``'s result computed from the previous step's (possibly wrong) result, as the template says."""
    numbers = [int(n) for n in re.findall(r"\d+", problem.question)]
    a, b, c, d = numbers[0], numbers[1], numbers[2], numbers[3]
    if i == 1:
        return a * b
    if i == 2:
        return (previous if previous is not None else a * b) * c
    return (previous if previous is not None else a * b * c) - d


def _marker(error_at: int, restate: bool) -> int:
    """The "Step k" number of the computing step ``error_at`` (a restated question shifts the numbering)."""
    return error_at + (1 if restate else 0)


def gold_debate(n_problems: int = 20, agents: int = 3, seed: int = 0) -> tuple[dict, list[dict]]:
    """A du2023 document (question -> [agent contexts, answer cell]) of two-round debates, and its key: one record
    per (question, agent, round) with ``first_error``, the "Step k" number of the planted error (None: right).

    In round 1 one or two agents err at a random step; in round 2 another agent critiques ("your step k is
    wrong: X should be Y", quoting the wrong number) and the wrong agents correct themselves, except about
    one in four, who keep their answer.
    """
    if n_problems < 1 or agents < 2:
        raise ConfigError(f"A gold debate needs at least one problem and two agents (got {n_problems}, {agents}).")
    rng = random.Random(seed)
    document: dict = {}
    key: list[dict] = []
    for _ in range(n_problems):
        problem = _problem(rng)
        while problem.question in document:
            problem = _problem(rng)
        wrong = set(rng.sample(range(agents), rng.randint(1, min(2, agents - 1))))
        plans = {a: (rng.randint(1, 3), rng.choice([-7, -3, 2, 5, 10]), rng.random() < 0.5) for a in wrong}
        stubborn = {a for a in wrong if rng.random() < 0.25}
        personas = rng.sample(PERSONAS, agents) if agents <= len(PERSONAS) else [PERSONAS[a % len(PERSONAS)]
                                                                                 for a in range(agents)]
        contexts = []
        for a in range(agents):
            error_at, delta, restate = plans.get(a, (None, 0, rng.random() < 0.5))
            first, _ = _solution(problem, personas[a], error_at, delta, restate)
            key.append({"question": problem.question, "agent": f"agent_{a + 1}", "round": 1,
                        "first_error": _marker(error_at, restate) if error_at else None})
            if a in wrong and a not in stubborn:
                # A real agent rewrites its opening too: the old debate rule took that for the revised step.
                again, _ = _solution(problem, REVISED_OPENING, None, 0, restate)
                key.append({"question": problem.question, "agent": f"agent_{a + 1}", "round": 2, "first_error": None})
            elif a in wrong:
                again = first + "\nI stand by my answer."
                key.append({"question": problem.question, "agent": f"agent_{a + 1}", "round": 2,
                            "first_error": _marker(error_at, restate)})
            else:
                target = min(wrong)
                t_error, t_delta, t_restate = plans[target]
                right = eval_step(problem, t_error, None if t_error == 1 else _true_result(problem, t_error - 1))
                critique = (f"agent_{target + 1}, your step {_marker(t_error, t_restate)} is wrong: "
                            f"{right + t_delta} should be {right}.")
                again, _ = _solution(problem, critique + " " + REVISED_OPENING, None, 0, restate)
                key.append({"question": problem.question, "agent": f"agent_{a + 1}", "round": 2, "first_error": None})
            contexts.append([
                {"role": "user", "content": f"Can you solve the following math problem? {problem.question} Explain "
                                            "your reasoning. Your final answer should be a single numerical number."},
                {"role": "assistant", "content": first},
                {"role": "user", "content": "These are the solutions to the problem from other agents. Using their "
                                            "reasoning as additional advice, can you provide an updated answer?"},
                {"role": "assistant", "content": again},
            ])
        document[problem.question] = [contexts, problem.reference]
    return document, key


def _true_result(problem: GoldProblem, i: int) -> int:
    previous = None
    for j in range(1, i + 1):
        previous = eval_step(problem, j, previous)
    return previous


def write_gold_debate(folder: Path, n_problems: int = 20, agents: int = 3, seed: int = 0) -> tuple[Path, Path]:
    """Write the document (``gold-debate-SEED.json``) and its key (``gold-debate-SEED.key.jsonl``) into ``folder``."""
    document, key = gold_debate(n_problems, agents, seed)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"gold-debate-{seed}.json"
    path.write_text(json.dumps(document))
    key_path = folder / f"gold-debate-{seed}.key.jsonl"
    key_path.write_text("".join(json.dumps(k) + "\n" for k in key))
    return path, key_path


_STEP_MARK = re.compile(r"^\s*(?:\*\*)?step\s*(\d+)", re.IGNORECASE)


def gold_label_rows(steps: pd.DataFrame, messages: pd.DataFrame, key: list[dict]) -> pd.DataFrame:
    """Label rows (step_id, value) of source ``gold`` for the stored steps of the keyed messages.

    ``messages`` has message_id, question, agent and round; ``steps`` has step_id, message_id, idx, text and
    claim. A keyed error whose "Step k" is not among the message's steps raises: the key would be wrong.
    """
    by_key = {(k["question"], k["agent"], int(k["round"])): k["first_error"] for k in key}
    out = []
    for m in messages.itertuples():
        wanted = (str(m.question), str(m.agent), int(m.round))
        if wanted not in by_key:
            continue
        first_error = by_key[wanted]
        mine = steps[steps["message_id"] == m.message_id].sort_values("idx")
        marks = [(int(mm.group(1)) if (mm := _STEP_MARK.match(str(t))) else None) for t in mine["text"]]
        if first_error is not None and first_error not in marks:
            raise ConfigError(f"The key names step {first_error} of {m.agent}, round {m.round}, but its message has no "
                              "such step; segment with the default (auto) segmenter.")
        for sid, claim, mark in zip(mine["step_id"], mine["claim"], marks):
            if first_error is not None and mark == first_error:
                out.append((sid, -1.0))
                break
            if claim:
                out.append((sid, 1.0))
    return pd.DataFrame(out, columns=["step_id", "value"])


def store_gold_run(store: Store, folder: Path, cfg: GoldConfig, run_id: str | None = None) -> tuple[str, int]:
    """Write a gold debate into ``folder``, import it as a run, segment it (auto) and store its key as ``gold``
    labels; return the run id and the gold labels written."""
    from agentark.labels.segment import SegmentConfig, segment_runs
    from agentark.runs.formats import import_file

    seed = cfg.seed
    path, key_path = write_gold_debate(folder, cfg.problems, cfg.agents, seed)
    report = import_file(store, "du2023", path, run_id=run_id or f"gold-debate-{seed}", dataset=f"gold:seed{seed}",
                         model="gold-builder", again=True)
    run = report.run_id
    segment_runs(store, [run], SegmentConfig())
    key = [json.loads(line) for line in key_path.read_text().splitlines() if line.strip()]
    rows = gold_label_rows(q.steps_in_context(store, [run]), q.transcript_messages(store, [run]), key)
    rows["label_id"] = [f"{SOURCE}:{secrets.token_hex(10)}" for _ in range(len(rows))]
    rows["source"] = SOURCE
    rows["annotator"] = key_path.name
    rows["confidence"] = 1.0
    rows["flag"] = False
    rows["created_at"] = now()
    return run, q.append_labels(store, rows)


GOLD = register_labeler(Labeler(
    SOURCE, "gold", "a gold debate's key: the planted first errors of a real-style debate (`labels gold`)",
    config=GoldConfig, automatic=False, reference=True, order=95))
