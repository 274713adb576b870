"""Import labeled step data: PRM800K JSONL (ratings -1/0/1 per step) and Math-Shepherd (``ки`` tags, ``+``/``-``).

An imported file becomes a run of kind ``import`` whose messages (role ``solution``) are the solutions,
already split into their labeled steps, with labels of source ``import:prm800k`` or
``import:math-shepherd``; so they show up in the labeling queue, can be relabeled by people, and mix
with the studio's own labels in a PRM export. Design decision: the run id is a hash of the file's
bytes and every other id derives from it, so importing the same file twice adds nothing.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from agentark.errors import ImportFormatError
from agentark.grading import extract_answer, is_correct, normalize_answer
from agentark.steps import Step, step_ids
from agentark.store import Store, now
from agentark.store import labels as q

FORMATS = ("prm800k", "math-shepherd")
STEP_TAG = "ки"


@dataclass
class ParsedSolution:
    question: str
    reference_answer: str
    steps: list[str]
    ratings: list[int | None]
    annotator: str
    flags: list[bool]
    solution: str = ""


def parse_prm800k(record: dict) -> ParsedSolution:
    """One PRM800K line: the chosen completion of each step (or the one rated where the labeler stopped)."""
    try:
        question = record["question"]["problem"]
        reference = str(record["question"].get("ground_truth_answer") or "")
        raw_steps = record["label"]["steps"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"missing {exc}; a PRM800K line has question.problem and label.steps") from exc
    texts, ratings, flags = [], [], []
    for step in raw_steps:
        completions = step.get("completions") or []
        chosen = step.get("chosen_completion")
        if chosen is not None and 0 <= chosen < len(completions):
            pick = completions[chosen]
        elif step.get("human_completion"):
            human = step["human_completion"]
            pick = human if isinstance(human, dict) else {"text": str(human), "rating": None}
        elif completions:
            # No completion chosen: the labeler stopped here; keep the one rated wrong if there is one.
            pick = next((c for c in completions if c.get("rating") == -1), completions[0])
        else:
            continue
        texts.append(str(pick.get("text") or "").strip())
        rating = pick.get("rating")
        ratings.append(int(rating) if rating in (-1, 0, 1) else None)
        flags.append(bool(pick.get("flagged")))
        if chosen is None:
            break
    if not texts:
        raise ValueError("label.steps has no completion")
    solution = record["question"].get("ground_truth_solution")
    return ParsedSolution(question, reference, texts, ratings, str(record.get("labeler") or "prm800k"), flags,
                          solution if isinstance(solution, str) else "")


def parse_math_shepherd(record: dict) -> ParsedSolution:
    """One Math-Shepherd line: ``input`` has a ``ки`` after each step, ``label`` the same text with + or -."""
    try:
        text, labeled = record["input"], record["label"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"missing {exc}; a Math-Shepherd line has 'input' and 'label'") from exc
    pieces = text.split(STEP_TAG)
    if len(pieces) < 2:
        raise ValueError(f"'input' has no {STEP_TAG} step tag")
    ratings, pos = [], 0
    for piece in pieces[:-1]:
        pos += len(piece)
        mark = labeled[pos : pos + 1]
        if mark not in ("+", "-"):
            raise ValueError(f"'label' has {mark!r} where a step tag is; expected + or -")
        ratings.append(1 if mark == "+" else -1)
        pos += 1
    first = pieces[0]
    cut = first.find("Step 1:")
    question = first[:cut].strip() if cut > 0 else ""
    steps = [first[cut:].strip() if cut > 0 else first.strip()] + [p.strip() for p in pieces[1:-1]]
    if not question:
        raise ValueError("cannot find where the question ends ('Step 1:' is missing)")
    return ParsedSolution(question, "", steps, ratings, "math-shepherd", [False] * len(steps))


def import_steps(store: Store, path: Path | str, fmt: str) -> dict:
    """Import a labeled step file into the store as a run; return the run id and what was read and skipped."""
    if fmt not in FORMATS:
        raise ImportFormatError(f"Unknown step format '{fmt}'; choose one of: {', '.join(FORMATS)}.")
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ImportFormatError(f"{path} does not exist; pass the path of a {fmt} .jsonl file.")
    data = path.read_bytes()
    parse = parse_prm800k if fmt == "prm800k" else parse_math_shepherd
    parsed: list[ParsedSolution] = []
    rejected: list[tuple[int, str]] = []
    for n, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            parsed.append(parse(json.loads(line)))
        except (ValueError, TypeError) as exc:
            rejected.append((n, str(exc)))
    if not parsed:
        first = f" (line {rejected[0][0]}: {rejected[0][1]})" if rejected else ""
        raise ImportFormatError(f"{path} has no usable {fmt} line{first}; check the format you chose.")
    run_id = f"import-{fmt}-{hashlib.sha256(data).hexdigest()[:12]}"
    dataset, source = f"import:{fmt}", f"import:{fmt}"
    problems, messages, steps, labels = {}, [], [], []
    for i, sol in enumerate(parsed):
        pid = hashlib.sha1(f"{dataset}\n{sol.question}".encode()).hexdigest()[:16]
        problems.setdefault(pid, {"problem_id": pid, "dataset": dataset, "split": "import", "question": sol.question,
                                  "reference_answer": sol.reference_answer,
                                  "meta_json": json.dumps({"solution": sol.solution} if sol.solution else {})})
        content, spans = "", []
        for text in sol.steps:
            if content:
                content += "\n"
            spans.append(Step(len(spans), text, len(content), len(content) + len(text)))
            content += text
        message_id = f"{run_id}:{i:06d}"
        answer = extract_answer(content)
        messages.append({"message_id": message_id, "run_id": run_id, "problem_id": pid, "agent": sol.annotator,
                         "round": 1, "role": "solution", "seq": 0, "content": content, "answer": answer,
                         "answer_norm": normalize_answer(answer),
                         "is_correct": is_correct(answer, sol.reference_answer) if sol.reference_answer else None})
        for sid, s, rating, flag in zip(step_ids(message_id, spans), spans, sol.ratings, sol.flags):
            steps.append({"step_id": sid, "message_id": message_id, "idx": s.idx, "text": s.text,
                          "char_start": s.char_start, "char_end": s.char_end, "segmenter": fmt, "created_at": now()})
            if rating is not None:
                labels.append({"label_id": f"{run_id}:{sid}", "step_id": sid, "value": float(rating),
                               "source": source, "annotator": sol.annotator, "confidence": 1.0, "flag": flag,
                               "created_at": now()})
    meta = {"run_id": run_id, "kind": "import", "method": fmt, "dataset": f"file:{path}", "model": None,
            "config": {"format": fmt, "path": str(path)}, "status": "done",
            "created_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat()}
    q.insert_imported(store, meta, pd.DataFrame(list(problems.values())), pd.DataFrame(messages),
                      pd.DataFrame(steps), pd.DataFrame(labels))
    return {"run_id": run_id, "solutions": len(parsed), "steps": len(steps), "labels": len(labels),
            "rejected": rejected}
