"""Reading the reference final answer out of a dataset's answer cell (GSM8K, MATH, MetaMathQA layouts).

Design decision: this is separate from ``agentark.grading`` on purpose: loading data never depends on the
grader, so changing how model answers are graded cannot change which reference answers a dataset yields.
"""
from __future__ import annotations

import re

__all__ = ["extract_reference"]

_ANSWER_IS = re.compile(r"The answer is:?[ \t]*(.+)", re.IGNORECASE)
_BOXED = re.compile(r"\\(?:boxed|fbox)")
_NUMBER_WITH_COMMAS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _after_hashes(text: str) -> str:
    # Same rule as grading.gsm8k_final_answer; kept local so loading data never depends on grading.
    return text.rsplit("####", 1)[-1].strip().replace(",", "")


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
        return _after_hashes(text), True, f"nothing after '####' in '{column}'"
    if _BOXED.search(text):
        return _last_boxed(text), True, f"unbalanced \\boxed{{...}} in '{column}'"
    if _ANSWER_IS.search(text) and "\n" in text.strip():
        return _answer_is(text), True, f"no answer after 'The answer is' in '{column}'"
    bare = text.strip()
    if _NUMBER_WITH_COMMAS.fullmatch(bare):  # "1,000" and "1000" are the same answer
        bare = bare.replace(",", "")
    return bare, False, f"empty '{column}'"
