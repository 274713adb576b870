"""Reading the reference final answer out of a dataset's answer cell (GSM8K, MATH, MetaMathQA layouts), and a
GSM8K worked solution's parts: its final answer and the results of its calculator annotations.

Design decision: this is separate from ``agentark.grading`` on purpose: loading data never depends on the
grader, so changing how model answers are graded cannot change which reference answers a dataset yields.
"""
from __future__ import annotations

import re

__all__ = ["extract_reference", "gsm8k_final_answer", "intermediate_results", "reference_solution"]

_ANSWER_IS = re.compile(r"The answer is:?[ \t]*(.+)", re.IGNORECASE)
_BOXED = re.compile(r"\\(?:boxed|fbox)")
_NUMBER_WITH_COMMAS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_CALCULATOR = re.compile(r"<<([^<>]*)>>")
# Where a problem's metadata keeps its worked reference solution: loaders store ``solution``; older imports
# kept the raw ground-truth cell under the name of the field they read it from.
_SOLUTION_KEYS = ("solution", "reference", "gt", "answer")


def gsm8k_final_answer(solution: str) -> str:
    """The text after the last ``####`` of a GSM8K solution, stripped, commas removed ("1,234" -> "1234")."""
    return solution.rsplit("####", 1)[-1].strip().replace(",", "")


def reference_solution(meta: dict) -> str:
    """The worked reference solution in a problem's metadata: the first field that carries calculator
    annotations (``<<a*b=c>>``), else ``solution``, else ""."""
    texts = [meta.get(k) for k in _SOLUTION_KEYS if isinstance(meta.get(k), str)]
    return next((t for t in texts if _CALCULATOR.search(t)), meta.get("solution") if isinstance(meta.get("solution"), str) else "")


def intermediate_results(solution: str) -> list[str]:
    """Results of a GSM8K solution's calculator annotations, in order: ``<<48/2=24>>`` gives "24"."""
    results = []
    for expr in _CALCULATOR.findall(solution):
        if "=" in expr:
            result = expr.rsplit("=", 1)[1].strip()
            if result:
                results.append(result)
    return results


def _last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}``, braces nested inside it included; None if there is none."""
    for match in reversed(list(_BOXED.finditer(text))):
        i = match.end()
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] != "{":
            # "\boxed 5" is legal LaTeX: the argument is the next token.
            token = re.match(r"[^\s$]+", text[i:])
            if token:
                return token.group(0)
            continue
        depth, start = 0, i + 1
        for j in range(i, len(text)):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[start:j].strip()
    return None


def _answer_is(text: str) -> str | None:
    found = _ANSWER_IS.findall(text)
    if not found:
        return None
    value = found[-1].strip()
    return value[:-1].rstrip() if value.endswith(".") and len(value) > 1 else value


def extract_reference(text: str, mode: str, column: str) -> tuple[str | None, bool, str]:
    """(final answer or None, whether ``text`` was a full solution, reason when None)."""
    if mode == "boxed":
        value = _last_boxed(text)
        return value, True, f"no \\boxed{{...}} final answer in '{column}'"
    if mode == "answer_is":
        value = _answer_is(text)
        return value, True, f"no 'The answer is: ...' in '{column}'"
    if "####" in text:
        return gsm8k_final_answer(text), True, f"nothing after '####' in '{column}'"
    if _BOXED.search(text):
        return _last_boxed(text), True, f"unbalanced \\boxed{{...}} in '{column}'"
    if _ANSWER_IS.search(text) and "\n" in text.strip():
        return _answer_is(text), True, f"no answer after 'The answer is' in '{column}'"
    bare = text.strip()
    if _NUMBER_WITH_COMMAS.fullmatch(bare):  # "1,000" and "1000" are the same answer
        bare = bare.replace(",", "")
    return bare, False, f"empty '{column}'"
