"""The ``maslab`` format: MASLab / AgentArk-reference JSONL, one problem per line.

A line has ``query``, ``gt`` (the ground truth), ``response`` (several ``===== Solution i =====`` blocks, one
per agent) and ``token_stats`` (``{model: {num_llm_calls, prompt_tokens, completion_tokens}}``). Design
decision: the token stats are the problem's cost (its outcome's tokens and engine calls), and the models
they name are who spoke unless the caller names the model.
"""
from __future__ import annotations

import re

from agentark.runs.formats.import_writer import (
    ImportReport,
    ImportRequest,
    RunWriter,
    add_problem,
    reference_answer,
    single_run,
)
from agentark.runs.import_io import FieldError, Unreadable, int_field, iter_json_lines, object_field, text_field
from agentark.tasks import Problem, problem_id

SOLUTION_HEADER = re.compile(r"^=+\s*Solution\s+(\d+)\s*=+\s*$", re.MULTILINE | re.IGNORECASE)


def _split_solutions(response: str) -> list[str]:
    heads = list(SOLUTION_HEADER.finditer(response))
    if not heads:
        return [response.strip()] if response.strip() else []
    bodies = [response[h.end(): nxt.start() if nxt else len(response)].strip()
              for h, nxt in zip(heads, heads[1:] + [None])]
    return [b for b in bodies if b]


def _token_stats(row: dict) -> dict[str, dict[str, int]]:
    stats = object_field(row, "token_stats")
    counts = {}
    for name, entry in stats.items():
        if not isinstance(entry, dict):
            raise FieldError(f"'token_stats.{name}' is not {{num_llm_calls, prompt_tokens, completion_tokens}}")
        counts[name] = {k: int_field(entry, k, required=False, where=f"token_stats.{name}.") or 0
                        for k in ("num_llm_calls", "prompt_tokens", "completion_tokens")}
    return counts


# How the file's records are read, for the digest that recognises an import made before (``records_sha256``).
records = iter_json_lines


def read(request: ImportRequest, report: ImportReport) -> dict[str, RunWriter]:
    """Read a maslab file into one run, a line (a problem) at a time."""
    writer = single_run(request)
    dataset = writer.run["dataset"]
    for line_no, row in iter_json_lines(request.path):
        if isinstance(row, Unreadable):
            report.rejected.append((line_no, row.reason))
            continue
        try:
            question = text_field(row, "query", nonempty=True).strip()
            response = text_field(row, "response", nonempty=True)
            reference = reference_answer(row.get("gt"), "gt")
            stats = _token_stats(row)
        except FieldError as exc:
            report.rejected.append((line_no, str(exc)))
            continue
        solutions = _split_solutions(response)
        speaker = request.model or ", ".join(stats)
        extra = {
            "prompt_tokens": sum(v["prompt_tokens"] for v in stats.values()),
            "completion_tokens": sum(v["completion_tokens"] for v in stats.values()),
            "engine_calls": sum(v["num_llm_calls"] for v in stats.values()) or len(solutions),
        }
        problem = Problem(problem_id(question), dataset, "imported", question, reference,
                          {"gt": str(row.get("gt"))})
        turns = [(f"agent_{i + 1}", 1, "solver", body, speaker) for i, body in enumerate(solutions)]
        add_problem(writer, report, problem, turns, extra, line=line_no)
    return {writer.run["run_id"]: writer}
