"""The rule that grades a stored message: read as a choice when the reference is a choice letter, otherwise
as mathematics; either way the reading says how the answer was found (its *kind*, ``ANSWER_KINDS``)."""
from __future__ import annotations

from agentark.grading.choices import read_choice
from agentark.grading.extract import Reading, read_free_answer


def read_answer(text: str | None, finish_reason: str | None = "stop",
                choices: dict[str, str] | None = None) -> Reading:
    """The answer a message gives, by the rule that grades stored messages.

    ``finish_reason`` "length" (cut off at the token limit) allows explicit answers only; "stop" and None
    (a file that does not say why a message ended) fall back to the last number, marked ``implicit``.
    ``choices`` (the options of a multiple-choice question, ``choice_options``; ``{}`` when the reference
    is a letter but the options are not listed) reads the answer as a choice letter instead.
    """
    if not text:
        return Reading(None, "none")
    if choices is not None:
        return read_choice(text, finish_reason, choices)
    return read_free_answer(text, finish_reason)
