"""Answer extraction and equivalence for math answers: one module per concern, the public names here.

A debate message is free text; grading needs the one answer it commits to and a way to tell whether two
answers mean the same thing. ``extract_answer`` finds the answer (last ``\\boxed{}``, then ``####``, then
"The answer is ...", then the last number), ``normalize_answer`` gives it a canonical form, and
``answers_equal`` / ``is_correct`` / ``majority_vote`` compare and group answers with that form, asking
Hugging Face's math-verify (agentark.grading.symbolic) only about mathematics that form cannot decide.

``read_answer`` is what grading a stored message uses: it also says how the answer was found (its *kind*).
A message cut off at the token limit has an answer only if it states one explicitly (``\\boxed{}``,
``####``, "The answer is"); a final that does not give one answer ("14 or 15", a hedge between options, a
value that is no option, a boxed calculation, sentence or template placeholder, boxes answering different
things) is ambiguous and has none, the reading keeping the reason; and when the reference is a choice
letter, the answer is read as a choice (a letter, "(B)", "Answer: C", Du et al.'s "(X) B) ...", or the
option's text), never as the last number of the text. docs/grading.md lists the rules.

The modules: ``text`` (numbers, LaTeX and markdown cleaning, the answer a span commits to; model output is
never executed), ``extract`` (explicit answers, ambiguity, the last-number fallback), ``choices`` (multiple
choice), ``reading`` (``read_answer``), ``equality`` (normal form, ``answers_equal``, ``is_correct``,
``gradable``), ``vote`` (majority votes) and ``symbolic`` (the math-verify helper process). A GSM8K
solution's final answer and calculator results are the dataset's business: ``agentark.tasks.answers``.
"""
from __future__ import annotations

from agentark.grading.choices import answer_choices, choice_letter, choice_options
from agentark.grading.equality import answers_equal, gradable, is_correct, normalize_answer
from agentark.grading.extract import ANSWER_KINDS, Reading, explicit_answer, extract_answer
from agentark.grading.reading import read_answer
from agentark.grading.text import to_number
from agentark.grading.vote import Vote, majority_vote, vote

__all__ = [
    "ANSWER_KINDS",
    "Reading",
    "Vote",
    "answer_choices",
    "answers_equal",
    "choice_letter",
    "choice_options",
    "explicit_answer",
    "extract_answer",
    "gradable",
    "is_correct",
    "majority_vote",
    "normalize_answer",
    "read_answer",
    "to_number",
    "vote",
]
