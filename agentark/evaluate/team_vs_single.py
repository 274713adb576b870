"""One agent against the team, read from a single run: the question every debate run answers on its own.

Design decision: the single agent is not another run. In a debate (and in critique and self-consistency) every
agent's round-1 message answers the studio's solve prompt alone, before it has seen anyone else: that is a
single-agent answer to the same problem, from the same model, settings and sampling. So "one agent" is the
mean accuracy of those first answers (the chance that one agent picked at random is right), "the team" is the
run's final answer, and both are read from the same finished problems (``trace_tables.first_round_vs_final``).
Intervals are percentile bootstraps over problems (a problem's agents move together), the difference is
paired per problem. Which runs qualify is the method's record (``Method.team`` and ``Method.solo_first_round``):
methods whose first turn is not the solve prompt (mad's affirmative is told to defend a side) or that have no
team (cot) get no comparison.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from agentark.debate.methods import method_of
from agentark.evaluate.stats import bootstrap_ci
from agentark.store import Store, run_tables, trace_tables


def has_both_sides(method: str | None) -> bool:
    """Whether a run of ``method`` holds one agent and the team: a team whose round-1 solvers each answer the
    plain solve prompt alone."""
    record = method_of(method)
    return record is not None and record.team and record.solo_first_round


def team_words(method: str) -> str:
    """How a caption names the team's way of deciding (``Method.team_words``), else the method's name."""
    record = method_of(method)
    return (record.team_words if record is not None else "") or method


@dataclass(frozen=True)
class Side:
    """Accuracy of one side on the shared problems, its 95% interval and its tokens per problem."""

    accuracy: float
    low: float
    high: float
    tokens_per_problem: float | None


@dataclass(frozen=True)
class TeamVsSingle:
    """The comparison, on ``problems`` finished problems of ``run_id`` (see the module docstring)."""

    run_id: str
    method: str
    agents: int
    rounds: int
    problems: int
    first_answers: int
    single: Side
    team: Side
    difference: float
    difference_low: float
    difference_high: float
    corrections: int
    regressions: int
    first_cut_off: int
    first_failed: int
    corrected_problem: str | None
    regressed_problem: str | None
    example_problem: str

    @property
    def verdict(self) -> str:
        """"better", "worse" or "same" on these problems (whatever the interval says)."""
        if abs(self.difference) < 1e-12:
            return "same"
        return "better" if self.difference > 0 else "worse"

    @property
    def sure(self) -> bool:
        """Whether the paired interval of the difference leaves out zero."""
        return self.difference_low > 0 or self.difference_high < 0

    def headline(self) -> str:
        """One plain sentence: who did better, by how much, and whether the problems are enough to tell."""
        n = f"{self.problems} problem{'s' if self.problems != 1 else ''}"
        points = abs(self.difference) * 100
        if self.verdict == "same":
            text = f"The team did as well as one agent on these {n} ({pct(self.team.accuracy)} each)."
        else:
            text = (f"The team did {self.verdict} than one agent on these {n}: {pct(self.team.accuracy)} "
                    f"against {pct(self.single.accuracy)}, {points:.0f} points {self.verdict}.")
        if self.sure:
            return text + " The paired 95% interval of the difference leaves out zero."
        return text + (" The paired 95% interval of the difference "
                       f"({signed(self.difference_low)} to {signed(self.difference_high)} points) includes zero: "
                       "more problems are needed to tell.")

    def details(self) -> list[str]:
        """The supporting lines, each saying what it is computed on."""
        lines = [
            f"One agent: {pct(self.single.accuracy)} {interval(self.single)}, the mean over {self.first_answers} "
            f"first answers ({self.agents} agents x {self.problems} problems), each given alone before the "
            "agent saw the others.",
            f"The team ({self.agents} agents, {team_words(self.method)}"
            + (f", {self.rounds} rounds" if self.rounds > 1 else "")
            + f"): {pct(self.team.accuracy)} {interval(self.team)}, the run's final answers on the same problems.",
        ]
        if self.rounds > 1:
            lines.append(f"Between rounds, {self.corrections} answer(s) went from wrong to right (corrections) and "
                         f"{self.regressions} from right to wrong (regressions).")
        if self.single.tokens_per_problem and self.team.tokens_per_problem:
            ratio = self.team.tokens_per_problem / self.single.tokens_per_problem
            lines.append(f"Tokens per problem (prompt + completion): one agent {self.single.tokens_per_problem:,.0f}, "
                         f"the team {self.team.tokens_per_problem:,.0f} ({ratio:.1f}x).")
        else:
            lines.append("Tokens per problem: — (the run recorded no token counts).")
        if self.first_cut_off:
            lines.append(f"{self.first_cut_off} of {self.first_answers} first answers stopped at the token limit "
                         "before finishing (raise max tokens to give them room).")
        if self.first_failed:
            lines.append(f"{self.first_failed} first answers failed (engine errors) and count as wrong.")
        return lines


def pct(x: float) -> str:
    return "—" if x is None or x != x else f"{x:.0%}" if abs(x * 100 - round(x * 100)) < 1e-9 else f"{x:.1%}"


def signed(x: float) -> str:
    return "—" if x != x else f"{x * 100:+.0f}"


def interval(side: Side) -> str:
    if side.low != side.low:
        return "(no interval on one problem)"
    return f"[{side.low:.0%}, {side.high:.0%}]"


def compare_sides(frame: pd.DataFrame, run_id: str, method: str, agents: int, rounds: int) -> TeamVsSingle | None:
    """The comparison from ``trace_tables.first_round_vs_final``'s rows; None without a finished problem."""
    if frame.empty:
        return None
    first_share = frame["first_right"] / frame["first_answers"]
    final = frame["final_right"].astype(float)
    diff = final - first_share
    single_tokens = _per_problem(frame["first_tokens"] / frame["first_answers"])
    team_tokens = _per_problem(frame["tokens"])
    first_low, first_high = bootstrap_ci(first_share)
    team_low, team_high = bootstrap_ci(final)
    diff_low, diff_high = bootstrap_ci(diff)
    corrected = frame.loc[frame["corrections"] > 0, "problem_id"]
    regressed = frame.loc[frame["regressions"] > 0, "problem_id"]
    return TeamVsSingle(
        run_id=run_id, method=method, agents=agents, rounds=rounds, problems=len(frame),
        first_answers=int(frame["first_answers"].sum()),
        single=Side(float(first_share.mean()), first_low, first_high, single_tokens),
        team=Side(float(final.mean()), team_low, team_high, team_tokens),
        difference=float(diff.mean()), difference_low=diff_low, difference_high=diff_high,
        corrections=int(frame["corrections"].sum()), regressions=int(frame["regressions"].sum()),
        first_cut_off=int(frame["first_cut_off"].sum()), first_failed=int(frame["first_failed"].sum()),
        corrected_problem=None if corrected.empty else str(corrected.iloc[0]),
        regressed_problem=None if regressed.empty else str(regressed.iloc[0]),
        example_problem=str(frame["problem_id"].iloc[0]),
    )


def _per_problem(values: pd.Series) -> float | None:
    """The mean, or None when any problem has no recorded tokens (an import without usage figures)."""
    if values.isna().any():
        return None
    mean = float(values.mean())
    return None if math.isnan(mean) else mean


def team_vs_single(store: Store, run_id: str) -> TeamVsSingle | None:
    """One agent against the team on a run's finished problems; None for a method without both sides."""
    run = run_tables.get_run(store, run_id)
    config = run.get("config") or {}
    method = run.get("method") or config.get("method")
    if not has_both_sides(method):
        return None
    frame = trace_tables.first_round_vs_final(store, run_id)
    agents = int(config.get("agents") or (frame["first_answers"].max() if not frame.empty else 0))
    rounds = int(config.get("rounds") or 1)
    return compare_sides(frame, run_id, method, agents, rounds)
