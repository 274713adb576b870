"""The ``du2023`` format: Du et al.'s llm_multiagent_debate JSON, ``{question: [agent_contexts, answer]}``.

Each agent's context is a chat (an optional system prompt, then user and assistant turns) and its assistant
turns are that agent's answers, round by round. Design decision: roles are read, never assumed from
positions, so a context with a system prompt or a missing turn is read right or rejected with its reason.
The file is one JSON object, streamed member by member (``import_io.iter_json_object``), so a whole file is
often one line: rejections and warnings name the problem (its place in the file and the start of its question)
as well as the line. A problem whose agents' contexts stop at different rounds is imported (the last round's
vote counts the agents that reached it) with a warning that names it. ``export_du2023`` writes a stored debate
in the same format, so the studio's own debates can be shared (and read back) as Du et al.'s.
"""
from __future__ import annotations

import json
from pathlib import Path

from agentark.debate.prompts import DEBATE_PROMPT, format_others, solve_messages
from agentark.runs.formats.import_writer import (
    ImportReport,
    ImportRequest,
    RunWriter,
    Turns,
    add_problem,
    reference_answer,
    single_run,
)
from agentark.runs.import_io import FieldError, Unreadable, iter_json_object
from agentark.store import Store
from agentark.store import run_tables
from agentark.tasks import Problem, problem_id

ROLES = ("system", "user", "assistant")


def _turns(contexts: object, model: str) -> Turns:
    """Each agent's assistant turns as (agent, round, role, content, model), in round order, reading roles."""
    if not isinstance(contexts, list) or not contexts:
        raise FieldError("agent_contexts is not a non-empty list of chats (one per agent)")
    turns = []
    for a, context in enumerate(contexts):
        agent = f"agent_{a + 1}"
        if not isinstance(context, list):
            raise FieldError(f"{agent}'s context is a {type(context).__name__}, expected a list of messages")
        asked, answers = False, 0
        for i, message in enumerate(context):
            if not isinstance(message, dict):
                raise FieldError(f"{agent} message {i} is a {type(message).__name__}, expected {{role, content}}")
            role, content = message.get("role"), message.get("content")
            if role not in ROLES:
                raise FieldError(f"{agent} message {i} has role {role!r}; expected one of {', '.join(ROLES)}")
            if not isinstance(content, str):
                raise FieldError(f"{agent} message {i} ({role}) has no text content")
            if role == "user":
                asked = True
            elif role == "assistant":
                if not asked:
                    raise FieldError(f"{agent} message {i} is an assistant answer before any user message")
                answers += 1
                turns.append((agent, answers, "solver", content, model))
        if not answers:
            raise FieldError(f"{agent} has no assistant message (no answer)")
    return sorted(turns, key=lambda t: (t[1], int(t[0].split("_")[1])))


def problem_place(index: int, question: str | None, line: int) -> str:
    """How a report names a problem of the file: its place, the start of its question and its line."""
    text = " ".join((question or "").split())
    excerpt = f" '{text[:60]}…'" if len(text) > 60 else (f" '{text}'" if text else "")
    return f"problem {index}{excerpt} (line {line})"


def missing_rounds(turns: Turns) -> str | None:
    """Why a problem's debate is cut short (agents with fewer rounds than the others), or None."""
    rounds: dict[str, int] = {}
    for agent, rnd, _, _, _ in turns:
        rounds[agent] = max(rounds.get(agent, 0), rnd)
    most = max(rounds.values(), default=0)
    short = {a: r for a, r in rounds.items() if r < most}
    if not short:
        return None
    who = ", ".join(f"{a} has {r} of {most}" for a, r in sorted(short.items(), key=lambda x: int(x[0].split("_")[1])))
    return (f"rounds missing ({who}): its context is cut short, so round {most}'s vote counts "
            f"{len(rounds) - len(short)} of {len(rounds)} agents")


# How the file's records are read, for the digest that recognises an import made before (``records_sha256``).
records = iter_json_object


def read(request: ImportRequest, report: ImportReport) -> dict[str, RunWriter]:
    """Read a du2023 file into one run, a question at a time."""
    writer = single_run(request)
    dataset = writer.run["dataset"]
    index = 0
    for item in iter_json_object(request.path):
        index += 1
        if isinstance(item[1], Unreadable):
            # Before the first member nothing names a problem (the file is no JSON object at all).
            named = item[1].key is not None or index > 1
            where = f"{problem_place(index, item[1].key, item[0])}: " if named else ""
            report.rejected.append((item[0], f"{where}{item[1].reason}"))
            continue
        line, question, value = item
        where = problem_place(index, question, line)
        try:
            if not isinstance(value, list) or len(value) != 2:
                raise FieldError("value is not [agent_contexts, answer]")
            if not question.strip():
                raise FieldError("empty question")
            reference = reference_answer(value[1], "answer")
            turns = _turns(value[0], request.model)
        except FieldError as exc:
            report.rejected.append((line, f"{where}: {exc}"))
            continue
        short = missing_rounds(turns)
        if short:
            report.cut_short.append((line, f"{where}: {short}"))
        problem = Problem(problem_id(question.strip()), dataset, "imported", question.strip(),
                          reference, {"reference": str(value[1])})
        add_problem(writer, report, problem, turns, line=line)
    return {writer.run["run_id"]: writer}


def du2023_debates(store: Store, run_id: str) -> dict[str, list]:
    """A stored debate as Du et al.'s JSON object: per question, each agent's chat (the solve prompt, its answer
    round by round, and before each later round the debate prompt with the others' previous answers, as the
    studio's debate asked it) and the reference answer. Only the solvers' turns are written (an aggregator's or a
    judge's has no place in the format)."""
    messages = run_tables.messages(store, run_id)
    messages = messages[messages["role"] == "solver"]
    out: dict[str, list] = {}
    for p in run_tables.run_problems(store, run_id).itertuples():
        mine = messages[messages["problem_id"] == p.problem_id].sort_values(["round", "seq"])
        if mine.empty:
            continue
        by_round = {rnd: g for rnd, g in mine.groupby("round", sort=True)}
        contexts = []
        for agent in sorted(mine["agent"].unique(), key=lambda a: (len(a), a)):
            chat = list(solve_messages(p.question))
            for rnd, g in by_round.items():
                own = g[g["agent"] == agent]
                if own.empty:
                    break
                if rnd > 1:
                    before = by_round[rnd - 1]
                    others = format_others({"agent": r.agent, "content": r.content or ""}
                                           for r in before[before["agent"] != agent].itertuples())
                    chat.append({"role": "user", "content": DEBATE_PROMPT.format(others=others,
                                                                                 question=p.question)})
                chat.append({"role": "assistant", "content": own.iloc[0]["content"] or ""})
            contexts.append(chat)
        out[p.question] = [contexts, p.reference_answer]
    return out


def export_du2023(store: Store, run_id: str, out: str | Path) -> int:
    """Write a stored debate as a du2023 JSON file (:func:`du2023_debates`); return the number of problems."""
    debates = du2023_debates(store, run_id)
    Path(out).expanduser().write_text(json.dumps(debates, indent=1, ensure_ascii=False), encoding="utf-8")
    return len(debates)
