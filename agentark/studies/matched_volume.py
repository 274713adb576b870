"""Matched volume: which of the base model's own correct answers make a training set as large as the debate arm's.

The single-agent arm answers the question "is it the debate, or just more data?": its rows are the same base
model's correct single-agent answers on the same training problems, as many rows as the debate arm has and as
close to its token count as the pool allows. Design decision: the choice is a pure function of the candidates'
problems and token counts (no store, no model), so it is tested on hand-made pools; problems are covered
round-robin first (the debate arm's rows cover many problems, so the matched arm should too), then single swaps
with rows left out bring the token total towards the target while the row count stays fixed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

VOLUME_TOLERANCE = 0.05  # how far the matched arm's tokens may be from the debate arm's


@dataclass(frozen=True)
class Matched:
    """The rows picked (indices into the candidates) and how close they come to the target."""

    picked: list[int]
    rows: int
    tokens: int
    target_rows: int
    target_tokens: int

    @property
    def row_ratio(self) -> float:
        return self.rows / self.target_rows if self.target_rows else 1.0

    @property
    def token_ratio(self) -> float:
        return self.tokens / self.target_tokens if self.target_tokens else 1.0

    def to_dict(self) -> dict:
        return {"rows": self.rows, "tokens": self.tokens, "target_rows": self.target_rows,
                "target_tokens": self.target_tokens, "row_ratio": self.row_ratio, "token_ratio": self.token_ratio}


def volume_matched(figures: dict, tolerance: float = VOLUME_TOLERANCE) -> bool:
    """Whether a pick (``Matched.to_dict()``) has the target's rows and its tokens within ``tolerance``."""
    return figures["rows"] == figures["target_rows"] and abs(figures["token_ratio"] - 1) <= tolerance


def enough(problems: Sequence[str], tokens: Sequence[int], target_rows: int, target_tokens: int,
           tolerance: float = VOLUME_TOLERANCE) -> bool:
    """Whether the pool can give ``target_rows`` rows whose tokens come within ``tolerance`` of ``target_tokens``:
    its longest rows must reach the target and its shortest must not overshoot it. A pool of exactly as many rows
    as the target, all longer than the debate arm's, has the rows but not the volume; sampling goes on."""
    if len(problems) < target_rows:
        return False
    ordered = sorted(tokens)
    longest, shortest = sum(ordered[len(ordered) - target_rows:]), sum(ordered[:target_rows])
    return longest >= (1 - tolerance) * target_tokens and shortest <= (1 + tolerance) * target_tokens


def match_volume(problems: Sequence[str], tokens: Sequence[int], target_rows: int, target_tokens: int,
                 max_swaps: int = 10_000) -> Matched:
    """Pick ``target_rows`` candidates (all of them when there are fewer) whose token total is closest to
    ``target_tokens`` that single swaps reach, covering as many problems as possible first."""
    if len(problems) != len(tokens):
        raise ValueError("one token count per candidate")
    by_problem: dict[str, list[int]] = {}
    for i, p in enumerate(problems):
        by_problem.setdefault(p, []).append(i)
    # Round-robin over problems, each problem's rows nearest the target's mean row length first.
    mean = target_tokens / target_rows if target_rows else 0
    queues = [sorted(ids, key=lambda i: (abs(tokens[i] - mean), i)) for _, ids in sorted(by_problem.items())]
    order: list[int] = []
    depth = 0
    while len(order) < len(problems):
        order += [q[depth] for q in queues if depth < len(q)]
        depth += 1
    picked, rest = order[:target_rows], order[target_rows:]
    total = sum(tokens[i] for i in picked)
    for _ in range(max_swaps):
        gap = target_tokens - total
        if gap == 0 or not rest:
            break
        # The swap (one in, one out) that brings the total closest to the target.
        best = None
        for a, i in enumerate(picked):
            for b, j in enumerate(rest):
                after = abs(gap - (tokens[j] - tokens[i]))
                if after < abs(gap) and (best is None or after < best[0]):
                    best = (after, a, b)
        if best is None:
            break
        _, a, b = best
        total += tokens[rest[b]] - tokens[picked[a]]
        picked[a], rest[b] = rest[b], picked[a]
    return Matched(sorted(picked), len(picked), total, target_rows, target_tokens)
