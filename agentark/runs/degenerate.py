"""Degenerate text: messages no student should learn from, whatever their grade.

A small model in a long debate sometimes emits token salad, loops on a phrase, or pastes another agent's
message; the grader only reads the final answer, so such a message can be graded correct ("confirm the answer:
52") and would enter R-SFT, DA and (as all positive steps) PRM data. Three tests, each a plain measure of the
text: a repetition loop (few distinct word 4-grams, or text that compresses far below prose), non-words (a
large share of tokens that are neither words, numbers nor mathematics), and a copy of another agent's message
of the same problem (nearly every word 5-gram of it found in one earlier message of another agent).

A message can also go bad part-way (a small model that drifts into random words, loops on a sentence, or
switches to another language after a sound start): ``first_degenerate_step`` finds the first such step, and the
PRM export cuts the message before it (or leaves it out when nothing before it is known good), so no degenerate
step is ever exported as good.

Design decision: the thresholds are loose enough that ordinary solutions, including terse arithmetic and LaTeX,
pass (the tests check both sides), and every rule is a reason string counted in the export's figures, so a
person sees how many messages each one left out and can keep them (``--keep-degenerate``).
"""
from __future__ import annotations

import re
import zlib

import pandas as pd

REPEATING = "degenerate: a repetition loop"
NON_WORDS = "degenerate: mostly non-words (token salad)"
COPIED = "degenerate: a copy of another agent's message"
MIN_WORDS = 20  # shorter texts carry too little evidence for any of the rules
_TOKEN = re.compile(r"\S+")
_WORDISH = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
_MATHISH = re.compile(r"[\d$€£%+\-*/=×÷^().,:;<>\[\]{}\\_|!?~'\"`#&]+|\\[A-Za-z]+(?:\{[^}]*\})*")
_VOWEL = re.compile(r"[aeiouyAEIOUY]")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _ngrams(words: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def repetition(text: str) -> bool:
    """A loop: under a third of the word 4-grams are distinct, or the text compresses to under 15% of its size."""
    words = _words(text)
    if len(words) < MIN_WORDS:
        return False
    grams = _ngrams(words, 4)
    distinct = len(set(grams)) / len(grams)
    raw = text.encode()
    return distinct < 0.34 or (len(raw) > 400 and len(zlib.compress(raw, 9)) / len(raw) < 0.15)


def _token_ok(token: str) -> bool:
    core = token.strip("\"'“”‘’()[]{}.,;:!?*_`")
    if not core:
        return True  # punctuation alone (a dash, a bullet) is layout, not salad
    if _MATHISH.fullmatch(core):
        return True
    if _WORDISH.fullmatch(core):
        # An ASCII word needs a vowel (or is short, like "km"); other scripts are taken as words.
        return len(core) <= 3 or not core.isascii() or bool(_VOWEL.search(core))
    return False


def non_word_share(text: str) -> float:
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return 0.0
    return sum(not _token_ok(t) for t in tokens) / len(tokens)


def token_salad(text: str) -> bool:
    """Over 40% of at least MIN_WORDS tokens are neither words, numbers nor mathematics."""
    return len(_TOKEN.findall(text or "")) >= MIN_WORDS and non_word_share(text) > 0.4


def copied(text: str, others: list[str]) -> bool:
    """90% or more of the message's word 5-grams appear in one of ``others``."""
    words = _words(text)
    if len(words) < MIN_WORDS:
        return False
    mine = set(_ngrams(words, 5))
    return any(len(mine & set(_ngrams(_words(o), 5))) / len(mine) >= 0.9 for o in others if o)


def degenerate_reason(text: str, others: list[str] | None = None) -> str | None:
    """Why ``text`` is degenerate (one of REPEATING, NON_WORDS, COPIED), or None."""
    if repetition(text or ""):
        return REPEATING
    if token_salad(text or ""):
        return NON_WORDS
    if others and copied(text or "", others):
        return COPIED
    return None


def degenerate_messages(messages: pd.DataFrame) -> pd.Series:
    """The reason each message is degenerate (None when it is not), indexed like ``messages``.

    A copy is judged against the other agents' messages of the same run and problem in earlier rounds, which
    is all a copying agent could have seen.
    """
    reasons = pd.Series([None] * len(messages), index=messages.index, dtype=object)
    for _, g in messages.groupby(["run_id", "problem_id"], sort=False):
        rows = list(g.itertuples())
        for r in rows:
            others = [str(o.content or "") for o in rows if o.agent != r.agent and o.round < r.round]
            reasons[r.Index] = degenerate_reason(str(r.content or ""), others)
    return reasons


SALAD_STEP = "degenerate step: word salad"
LOOP_STEP = "degenerate step: a repetition loop"
LANGUAGE_STEP = "degenerate step: another language mid-answer"
STEP_MIN_WORDS = 12  # a step shorter than this (a line of arithmetic) is judged by no word-level rule
# Words every English sentence leans on; random words have almost none of them.
FUNCTION_WORDS = frozenset("""a an the of to in on at by for from with and or but so if then than that this these
those is are was were be been has have had do does did will would can could should it its he she they we you i his
her their our your each per which what how many much there here as not no all some any more less""".split())


def _letters_outside_latin(text: str) -> tuple[int, int]:
    letters = [c for c in text if c.isalpha()]
    return sum(ord(c) > 0x24F for c in letters), len(letters)


def degenerate_step_reason(text: str, earlier: list[str], question: str = "") -> str | None:
    """Why one step of a message is degenerate (SALAD_STEP, LOOP_STEP, LANGUAGE_STEP), or None: at least
    STEP_MIN_WORDS words of which under 8% are function words, or a third of its tokens non-words; a step that
    loops on itself, or whose text the message already wrote twice; over 30% of its letters in another script
    than the question's (Latin)."""
    words = re.findall(r"[^\W\d_]+", text or "")
    foreign, letters = _letters_outside_latin(text or "")
    q_foreign, q_letters = _letters_outside_latin(question or "")
    if letters >= 6 and foreign / letters > 0.3 and (not q_letters or q_foreign / q_letters < 0.1):
        return LANGUAGE_STEP
    tokens = _TOKEN.findall(text or "")
    if len(words) >= STEP_MIN_WORDS and sum(w.lower() in FUNCTION_WORDS for w in words) / len(words) < 0.08:
        return SALAD_STEP
    if len(tokens) >= STEP_MIN_WORDS and non_word_share(text) > 0.4:
        return SALAD_STEP
    normal = " ".join(_words(text))
    if len(normal.split()) >= 4 and sum(" ".join(_words(e)) == normal for e in earlier) >= 2:
        return LOOP_STEP
    grams = _ngrams(_words(text), 4)
    if len(_words(text)) >= STEP_MIN_WORDS and len(set(grams)) / len(grams) < 0.34:
        return LOOP_STEP
    return None


def first_degenerate_step(texts: list[str], question: str = "") -> tuple[int, str] | None:
    """The index of a message's first degenerate step and why, or None."""
    for i, text in enumerate(texts):
        reason = degenerate_step_reason(text, texts[:i], question)
        if reason:
            return i, reason
    return None
