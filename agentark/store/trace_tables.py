"""Trace queries: the problem list's filtered pages and the runs dashboard's aggregations.

The one design decision: per-problem summaries are materialized. ``sync_traces`` derives, once per
finished problem, one ``problem_rounds`` row per round (votes, agreement, transitions into the round) and
one ``problem_traces`` row (correction/regression totals, which agents corrected or regressed). Outcomes
are only ever inserted, never updated, so summaries never go stale; every query here first syncs whatever
is missing (a count comparison when nothing is). Aggregating those tables instead of a million messages
keeps the list under 100 ms and the dashboard under 500 ms (bench/store_scale.py). The transition
classification is the SQL twin of ``agentark.runs.traces.classify``; tests hold the two equal.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from urllib.parse import urlencode

import pandas as pd

from agentark.errors import ConfigError, StoreError
from agentark.store import Store, operation

CONSENSUS = ("any", "unanimous", "majority", "no majority")
MARK_FILTERS = ("any", "keep", "exclude", "unmarked")
SORTS = {
    "run order": "t.run_id, t.idx",
    "tokens": "t.tokens",
    "time": "t.wall_ms",
    "consensus": "t.consensus",
    "answer changes": "t.answer_changes",
    "corrections": "t.corrections",
    "regressions": "t.regressions",
}

_SYNC = """
CREATE OR REPLACE TEMP TABLE _pending AS
    SELECT run_id, problem_id FROM outcomes ANTI JOIN problem_traces USING (run_id, problem_id);
CREATE OR REPLACE TEMP TABLE _kinds AS
    WITH m AS (
        SELECT run_id, problem_id, agent, round, seq, is_correct AS ok, answer_norm,
               coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0) AS tokens
        FROM messages SEMI JOIN _pending USING (run_id, problem_id) WHERE role = 'solver'),
    t AS (
        SELECT *, lag(ok) OVER w AS prev_ok, lag(answer_norm) OVER w AS prev_norm,
               lag(round) OVER w AS prev_round
        FROM m WINDOW w AS (PARTITION BY run_id, problem_id, agent ORDER BY round, seq))
    SELECT *, CASE WHEN prev_round IS NULL OR ok IS NULL OR prev_ok IS NULL THEN NULL
                   WHEN NOT prev_ok AND ok THEN 'correction'
                   WHEN prev_ok AND NOT ok THEN 'regression'
                   WHEN prev_ok AND ok THEN 'kept_right'
                   WHEN prev_norm IS DISTINCT FROM answer_norm THEN 'wrong_to_wrong'
                   ELSE 'kept_wrong' END AS kind
    FROM t;
INSERT INTO problem_rounds
    WITH groups AS (
        SELECT run_id, problem_id, round, answer_norm, count(*) AS n, bool_or(coalesce(ok, false)) AS ok,
               min(seq) AS first_seq
        FROM _kinds WHERE answer_norm IS NOT NULL GROUP BY ALL),
    ranked AS (SELECT *, max(n) OVER (PARTITION BY run_id, problem_id, round) AS top FROM groups),
    vote AS (
        -- The plurality answer, ties to the earliest speaker: the same vote as round_accuracy; a tie is counted.
        SELECT run_id, problem_id, round, arg_max(ok, n * 100000 - first_seq) AS vote_ok, max(n) AS top,
               count(*) FILTER (WHERE n = top) > 1 AS tie
        FROM ranked GROUP BY ALL),
    per AS (
        SELECT run_id, problem_id, round, count(*) AS messages,
               count(*) FILTER (WHERE coalesce(ok, false)) AS correct,
               count(*) FILTER (WHERE kind = 'correction') AS corrections,
               count(*) FILTER (WHERE kind = 'regression') AS regressions,
               count(*) FILTER (WHERE kind = 'wrong_to_wrong') AS wrong_to_wrong,
               count(kind) AS transitions, sum(tokens) AS tokens
        FROM _kinds GROUP BY ALL)
    SELECT per.run_id, per.problem_id, per.round, per.messages, per.correct, coalesce(v.vote_ok, false),
           coalesce(v.top, 0) / per.messages, per.corrections, per.regressions, per.wrong_to_wrong,
           per.transitions, per.tokens, coalesce(v.tie, false)
    FROM per LEFT JOIN vote v USING (run_id, problem_id, round);
INSERT INTO problem_traces
    WITH agg AS (
        SELECT run_id, problem_id, list(DISTINCT agent ORDER BY agent) AS agents, max(round) AS rounds,
               count(*) FILTER (WHERE kind = 'correction') AS corrections,
               count(*) FILTER (WHERE kind = 'regression') AS regressions,
               count(*) FILTER (WHERE kind = 'wrong_to_wrong') AS wrong_to_wrong,
               list(DISTINCT agent ORDER BY agent) FILTER (WHERE kind = 'correction') AS corrected_agents,
               list(DISTINCT agent ORDER BY agent) FILTER (WHERE kind = 'regression') AS regressed_agents
        FROM _kinds GROUP BY ALL)
    SELECT p.run_id, p.problem_id, coalesce(rp.idx, 0), pr.dataset, o.final_answer, coalesce(o.is_correct, false),
           o.consensus, o.answer_changes, coalesce(o.prompt_tokens, 0) + coalesce(o.completion_tokens, 0), o.wall_ms,
           coalesce(a.agents, []::VARCHAR[]), coalesce(a.rounds, 0),
           coalesce(a.corrections, 0), coalesce(a.regressions, 0), coalesce(a.wrong_to_wrong, 0),
           coalesce(a.corrected_agents, []::VARCHAR[]), coalesce(a.regressed_agents, []::VARCHAR[])
    FROM _pending p JOIN outcomes o USING (run_id, problem_id)
    LEFT JOIN run_problems rp USING (run_id, problem_id) LEFT JOIN problems pr USING (problem_id)
    LEFT JOIN agg a USING (run_id, problem_id)
    ORDER BY p.run_id, rp.idx;
DROP TABLE _kinds;
DROP TABLE _pending;
"""


@operation
def sync_traces(store: Store) -> int:
    """Summarize every finished problem not summarized yet; return how many were added."""
    con = store.con
    missing = con.execute(
        "SELECT (SELECT count(*) FROM outcomes) - (SELECT count(*) FROM problem_traces)"
    ).fetchall()[0][0]
    if not missing:
        return 0
    with store.transaction() as con:
        before = con.execute("SELECT count(*) FROM problem_traces").fetchall()[0][0]
        for statement in filter(str.strip, _SYNC.split(";\n")):
            con.execute(statement)
        after = con.execute("SELECT count(*) FROM problem_traces").fetchall()[0][0]
    return int(after - before)


@dataclass(frozen=True)
class ProblemFilter:
    """What the problem list shows; the same fields travel as query parameters and CLI options.

    ``agent`` narrows the list to problems that agent spoke in, and narrows ``corrected`` and
    ``regressed`` to that agent's own corrections and regressions. ``transition_round`` narrows the three
    change filters to transitions into that round (a click on the dashboard's transitions chart).
    """

    runs: tuple[str, ...] = ()
    dataset: str | None = None
    correct: bool | None = None
    consensus: str = "any"
    corrected: bool = False
    regressed: bool = False
    wrong_to_wrong: bool = False
    transition_round: int | None = None
    agent: str | None = None
    text: str = ""
    mark: str = "any"
    tokens_min: int | None = None
    tokens_max: int | None = None
    sort: str = "run order"
    descending: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "runs", tuple(self.runs))
        if self.consensus not in CONSENSUS:
            raise ConfigError(f"Unknown consensus filter '{self.consensus}'; use one of: {', '.join(CONSENSUS)}.")
        if self.mark not in MARK_FILTERS:
            raise ConfigError(f"Unknown mark filter '{self.mark}'; use one of: {', '.join(MARK_FILTERS)}.")
        if self.sort not in SORTS:
            raise ConfigError(f"Unknown sort '{self.sort}'; use one of: {', '.join(SORTS)}.")
        if self.tokens_min is not None and self.tokens_max is not None and self.tokens_min > self.tokens_max:
            raise ConfigError(f"tokens_min ({self.tokens_min}) is above tokens_max ({self.tokens_max}); swap them.")

    def to_params(self) -> dict[str, str]:
        """The non-default fields as query parameters (strings), for stable links."""
        default = ProblemFilter()
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            out[f.name] = ",".join(value) if f.name == "runs" else str(value)
        return out

    def viewer_link(self, run_id: str, problem_id: str) -> str:
        """The debate viewer's address for one problem under this filter, every value URL-encoded."""
        return "transcript?" + urlencode({**self.to_params(), "run": run_id, "problem": problem_id})

    @classmethod
    def from_params(cls, params: dict) -> "ProblemFilter":
        """Rebuild a filter from query parameters; unknown keys are ignored (they belong to the page)."""
        kw: dict = {}
        for f in fields(cls):
            if f.name not in params or params[f.name] in ("", None):
                continue
            raw = params[f.name]
            if f.name == "runs":
                kw["runs"] = tuple(r for r in str(raw).split(",") if r)
            elif f.name == "correct":
                kw["correct"] = str(raw) == "True"
            elif f.type in ("bool",):
                kw[f.name] = str(raw) == "True"
            elif f.name in ("transition_round", "tokens_min", "tokens_max"):
                try:
                    kw[f.name] = int(float(raw))
                except ValueError as exc:
                    raise ConfigError(f"Query parameter {f.name}={raw!r} is not a whole number.") from exc
            else:
                kw[f.name] = str(raw)
        return cls(**kw)

    def replace(self, **changes) -> "ProblemFilter":
        return ProblemFilter(**{**asdict(self), **changes})


_LATEST_PROBLEM_MARKS = """SELECT run_id, problem_id, arg_max(mark, (created_at, mark_id)) AS mark,
           arg_max(note, (created_at, mark_id)) AS note
    FROM curation_marks WHERE message_id IS NULL GROUP BY run_id, problem_id"""


def _where(flt: ProblemFilter) -> tuple[str, dict]:
    """The filter as a WHERE clause over problem_traces t and the latest problem marks mk."""
    clauses, params = ["TRUE"], {}
    if flt.runs:
        clauses.append("list_contains($runs, t.run_id)")
        params["runs"] = list(flt.runs)
    if flt.dataset:
        clauses.append("t.dataset = $dataset")
        params["dataset"] = flt.dataset
    if flt.correct is not None:
        clauses.append("t.is_correct = $correct")
        params["correct"] = flt.correct
    clauses.append({
        "any": "TRUE", "unanimous": "t.consensus >= 1", "majority": "t.consensus > 0.5 AND t.consensus < 1",
        "no majority": "t.consensus <= 0.5",
    }[flt.consensus])
    if flt.agent:
        clauses.append("list_contains(t.agents, $agent)")
        params["agent"] = flt.agent
    if flt.transition_round is None:
        if flt.corrected:
            clauses.append("list_contains(t.corrected_agents, $agent)" if flt.agent else "t.corrections > 0")
        if flt.regressed:
            clauses.append("list_contains(t.regressed_agents, $agent)" if flt.agent else "t.regressions > 0")
        if flt.wrong_to_wrong:
            clauses.append("t.wrong_to_wrong > 0")
    else:
        wanted = [c for c, on in (("corrections", flt.corrected), ("regressions", flt.regressed),
                                  ("wrong_to_wrong", flt.wrong_to_wrong)) if on] or ["transitions"]
        clauses.append(
            "(t.run_id, t.problem_id) IN (SELECT run_id, problem_id FROM problem_rounds WHERE round = $tround AND ("
            + " OR ".join(f"{c} > 0" for c in wanted) + "))"
        )
        params["tround"] = flt.transition_round
        if flt.agent and flt.corrected:
            clauses.append("list_contains(t.corrected_agents, $agent)")
        if flt.agent and flt.regressed:
            clauses.append("list_contains(t.regressed_agents, $agent)")
    if flt.text.strip():
        # The text is matched literally: %, _ and the escape character itself lose their LIKE meaning.
        literal = re.sub(r"([\\%_])", r"\\\1", flt.text.strip())
        params["text"] = f"%{literal}%"
        run_clause = "list_contains($runs, run_id) AND " if flt.runs else ""
        clauses.append(
            "(t.problem_id IN (SELECT problem_id FROM problems WHERE question ILIKE $text ESCAPE '\\') "
            "OR (t.run_id, t.problem_id) IN (SELECT run_id, problem_id FROM messages "
            f"WHERE {run_clause}content ILIKE $text ESCAPE '\\'))"
        )
    if flt.mark == "unmarked":
        clauses.append("mk.mark IS NULL")
    elif flt.mark != "any":
        clauses.append("mk.mark = $mark")
        params["mark"] = flt.mark
    if flt.tokens_min is not None:
        clauses.append("t.tokens >= $tmin")
        params["tmin"] = flt.tokens_min
    if flt.tokens_max is not None:
        clauses.append("t.tokens < $tmax")
        params["tmax"] = flt.tokens_max
    return " AND ".join(clauses), params


_FROM = f"""FROM problem_traces t
    LEFT JOIN ({_LATEST_PROBLEM_MARKS}) mk ON mk.run_id = t.run_id AND mk.problem_id = t.problem_id"""


@dataclass
class ProblemPage:
    rows: pd.DataFrame
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@operation
def problem_page(store: Store, flt: ProblemFilter, page: int = 0, page_size: int = 50) -> ProblemPage:
    """One page of the filtered, sorted problem list, with the total count of matches."""
    if page < 0 or page_size < 1:
        raise ConfigError(f"page must be 0 or more and page_size 1 or more (got {page}, {page_size}).")
    sync_traces(store)
    where, params = _where(flt)
    order = SORTS[flt.sort] + (" DESC" if flt.descending else "")
    rows = store.con.execute(
        f"""SELECT t.run_id, t.idx, t.problem_id, t.dataset, t.final_answer, t.is_correct, t.consensus,
                   t.answer_changes, t.corrections, t.regressions, t.wrong_to_wrong, t.tokens, t.wall_ms,
                   mk.mark, mk.note
            {_FROM} WHERE {where}
            ORDER BY {order}, t.run_id, t.idx LIMIT $limit OFFSET $offset""",
        {**params, "limit": page_size, "offset": page * page_size},
    ).df()
    # The page's texts by primary-key lookups: joining first would hash every problem's question.
    ids = list(dict.fromkeys(rows["problem_id"]))
    texts = store.con.execute(
        f"SELECT problem_id, question, reference_answer FROM problems WHERE problem_id IN ({', '.join('?' * len(ids))})",
        ids,
    ).df() if ids else pd.DataFrame(columns=["problem_id", "question", "reference_answer"])
    rows = rows.merge(texts, on="problem_id", how="left")
    columns = ["run_id", "idx", "problem_id", "dataset", "question", "reference_answer"]
    rows = rows[columns + [c for c in rows.columns if c not in columns]]
    return ProblemPage(rows, count_problems(store, flt), page, page_size)


@operation
def count_problems(store: Store, flt: ProblemFilter) -> int:
    sync_traces(store)
    where, params = _where(flt)
    return int(store.con.execute(f"SELECT count(*) {_FROM} WHERE {where}", params).fetchall()[0][0])


@operation
def problem_keys(store: Store, flt: ProblemFilter) -> pd.DataFrame:
    """(run_id, problem_id) of every match in list order: what bulk curation marks."""
    sync_traces(store)
    where, params = _where(flt)
    order = SORTS[flt.sort] + (" DESC" if flt.descending else "")
    return store.con.execute(
        f"SELECT t.run_id, t.problem_id {_FROM} WHERE {where} ORDER BY {order}, t.run_id, t.idx", params
    ).df()


@operation
def neighbours(store: Store, flt: ProblemFilter, run_id: str, problem_id: str) -> dict:
    """Position of a problem in the filtered list and its previous/next (run_id, problem_id), or None."""
    sync_traces(store)
    where, params = _where(flt)
    order = SORTS[flt.sort] + (" DESC" if flt.descending else "")
    rows = store.con.execute(
        f"""WITH ranked AS (
                SELECT t.run_id, t.problem_id, row_number() OVER (ORDER BY {order}, t.run_id, t.idx) AS pos
                {_FROM} WHERE {where}),
            here AS (SELECT pos FROM ranked WHERE run_id = $run AND problem_id = $problem)
            SELECT r.run_id, r.problem_id, r.pos - h.pos AS delta, h.pos, (SELECT count(*) FROM ranked) AS total
            FROM ranked r, here h WHERE r.pos BETWEEN h.pos - 1 AND h.pos + 1""",
        {**params, "run": run_id, "problem": problem_id},
    ).fetchall()
    out: dict = {"prev": None, "next": None, "position": None, "total": None}
    for run, problem, delta, pos, total in rows:
        out["position"], out["total"] = int(pos), int(total)
        if delta == -1:
            out["prev"] = (run, problem)
        elif delta == 1:
            out["next"] = (run, problem)
    return out


# -- dashboard ------------------------------------------------------------------------------------------

def _runs_clause(runs: tuple[str, ...] | list[str], alias: str) -> tuple[str, dict]:
    if not runs:
        return "TRUE", {}
    return f"list_contains($runs, {alias}.run_id)", {"runs": list(runs)}


@operation
def round_stats(store: Store, runs: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Per run and round: agents' accuracy, majority-vote accuracy, agreement, transitions into the round."""
    sync_traces(store)
    where, params = _runs_clause(runs, "r")
    return store.con.execute(
        f"""SELECT run_id, round, count(*) AS problems, sum(messages) AS messages,
                   sum(correct) / sum(messages) AS agent_accuracy, avg(vote_correct::INT) AS vote_accuracy,
                   count(*) FILTER (WHERE vote_tie) AS vote_ties,
                   avg(agreement) AS agreement, sum(transitions)::BIGINT AS transitions,
                   sum(corrections)::BIGINT AS corrections, sum(regressions)::BIGINT AS regressions,
                   sum(wrong_to_wrong)::BIGINT AS wrong_to_wrong
            FROM problem_rounds r WHERE {where} GROUP BY run_id, round ORDER BY run_id, round""",
        params,
    ).df()


@operation
def run_summary(store: Store, runs: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Per run: final accuracy, consensus, transition totals, and tokens and time per problem; and what
    grading could not decide: ``ties`` (finished problems whose final answer came from a tied vote, the
    first-seen answer winning), ``cut_off`` (messages that hit the token limit without stating an answer)
    and ``ambiguous`` (messages whose final names alternatives, "14 or 15"), both counted wrong."""
    sync_traces(store)
    where, params = _runs_clause(runs, "t")
    return store.con.execute(
        f"""WITH graded AS (
                -- NULL (unknown) for a run graded before answer kinds were recorded, until it is re-graded.
                SELECT m.run_id, count(*) FILTER (WHERE m.answer_kind IS NULL AND m.error IS NULL) AS ungraded,
                       count(*) FILTER (WHERE m.answer_kind = 'cut_off') AS cut_off,
                       count(*) FILTER (WHERE m.answer_kind = 'ambiguous') AS ambiguous
                FROM messages m SEMI JOIN (SELECT DISTINCT run_id FROM problem_traces t WHERE {where}) USING (run_id)
                GROUP BY m.run_id),
            tied AS (
                SELECT o.run_id, CASE WHEN bool_or(o.vote_tie IS NULL) THEN NULL
                                      ELSE count(*) FILTER (WHERE o.vote_tie) END AS ties,
                       -- A file that did not record tokens or time (an import) has them unknown, not 0.
                       bool_or(o.prompt_tokens IS NULL AND o.completion_tokens IS NULL) AS tokens_unknown,
                       bool_or(o.wall_ms IS NULL) AS time_unknown FROM outcomes o
                SEMI JOIN (SELECT DISTINCT run_id FROM problem_traces t WHERE {where}) USING (run_id)
                GROUP BY o.run_id)
            SELECT t.run_id, any_value(r.method) AS method, any_value(r.model) AS model,
                   any_value(r.dataset) AS dataset, count(*) AS problems,
                   avg(t.is_correct::INT) AS accuracy,
                   any_value(ti.ties) AS ties,
                   CASE WHEN any_value(g.ungraded) > 0 THEN NULL ELSE coalesce(any_value(g.cut_off), 0) END AS cut_off,
                   CASE WHEN any_value(g.ungraded) > 0 THEN NULL ELSE coalesce(any_value(g.ambiguous), 0) END
                       AS ambiguous,
                   avg((t.consensus >= 1)::INT) AS unanimous,
                   sum(t.corrections)::BIGINT AS corrections, sum(t.regressions)::BIGINT AS regressions,
                   sum(t.wrong_to_wrong)::BIGINT AS wrong_to_wrong,
                   count(*) FILTER (WHERE t.corrections > 0) AS problems_with_correction,
                   count(*) FILTER (WHERE t.regressions > 0) AS problems_with_regression,
                   CASE WHEN any_value(ti.tokens_unknown) THEN NULL ELSE avg(t.tokens) END AS tokens_per_problem,
                   CASE WHEN any_value(ti.tokens_unknown) THEN NULL ELSE quantile_cont(t.tokens, 0.9) END AS tokens_p90,
                   CASE WHEN any_value(ti.time_unknown) THEN NULL ELSE avg(t.wall_ms) / 1000 END AS seconds_per_problem,
                   CASE WHEN any_value(ti.time_unknown) THEN NULL ELSE quantile_cont(t.wall_ms, 0.9) / 1000 END
                       AS seconds_p90
            FROM problem_traces t JOIN runs r USING (run_id)
            LEFT JOIN graded g USING (run_id) LEFT JOIN tied ti USING (run_id)
            WHERE {where} GROUP BY t.run_id ORDER BY t.run_id""",
        params,
    ).df()


GROUPINGS = ("method", "model", "dataset")


@operation
def accuracy_by(store: Store, by: str, runs: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Final accuracy grouped by the runs' method, model or dataset."""
    if by not in GROUPINGS:
        raise ConfigError(f"Cannot group by '{by}'; use one of: {', '.join(GROUPINGS)}.")
    sync_traces(store)
    where, params = _runs_clause(runs, "t")
    return store.con.execute(
        f"""SELECT r.{by} AS "group", count(DISTINCT t.run_id) AS runs, count(*) AS problems,
                   avg(t.is_correct::INT) AS accuracy
            FROM problem_traces t JOIN runs r USING (run_id) WHERE {where}
            GROUP BY r.{by} ORDER BY r.{by}""",
        params,
    ).df()


@operation
def token_histogram(store: Store, runs: list[str] | tuple[str, ...] = (), bins: int = 20) -> pd.DataFrame:
    """Problems per bin of total tokens, per run; bins share edges across runs ([lo, hi))."""
    if bins < 1:
        raise ConfigError(f"bins must be at least 1 (got {bins}).")
    sync_traces(store)
    where, params = _runs_clause(runs, "t")
    return store.con.execute(
        f"""WITH x AS (SELECT t.run_id, t.tokens FROM problem_traces t WHERE {where}),
            edges AS (SELECT min(tokens) AS lo, greatest(ceil((max(tokens) + 1 - min(tokens)) / $bins), 1) AS width FROM x)
            SELECT x.run_id, (lo + width * floor((tokens - lo) / width))::BIGINT AS tokens_min,
                   (lo + width * (floor((tokens - lo) / width) + 1))::BIGINT AS tokens_max, count(*) AS problems
            FROM x, edges GROUP BY ALL ORDER BY x.run_id, tokens_min""",
        {**params, "bins": bins},
    ).df()


@dataclass
class Dashboard:
    """Everything the runs dashboard shows, computed in one call (and timed as one in the benchmark)."""

    runs: list[str]
    summary: pd.DataFrame
    rounds: pd.DataFrame
    by: dict[str, pd.DataFrame] = field(default_factory=dict)
    tokens: pd.DataFrame | None = None

    def to_json(self) -> dict:
        def records(frame: pd.DataFrame) -> list[dict]:
            return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                    for row in frame.to_dict("records")]

        return {
            "runs": self.runs,
            "summary": records(self.summary),
            "rounds": records(self.rounds),
            "by": {k: records(v) for k, v in self.by.items()},
        }


@operation
def dashboard(store: Store, runs: list[str] | tuple[str, ...] = ()) -> Dashboard:
    """The dashboard's numbers for some runs (all runs when none are named)."""
    runs = list(runs)
    known = {r[0] for r in store.con.execute("SELECT run_id FROM runs").fetchall()}
    unknown = [r for r in runs if r not in known]
    if unknown:
        raise StoreError(f"No run {', '.join(unknown)} in {store.path}; list runs with `python -m agentark runs`.")
    return Dashboard(
        runs=runs,
        summary=run_summary(store, runs),
        rounds=round_stats(store, runs),
        by={g: accuracy_by(store, g, runs) for g in GROUPINGS},
        tokens=token_histogram(store, runs),
    )


def agent_order(agents: Iterable[str]) -> list[str]:
    """Agents in column order: agent_1, agent_2, ... agent_10 numerically, the aggregator last."""
    def key(a: str) -> tuple:
        m = re.fullmatch(r"agent_(\d+)", a)
        return (0, int(m.group(1)), a) if m else (1, 0, a)

    return sorted(set(agents), key=key)



@operation
def run_agents(store: Store, runs: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The agents that spoke in some runs, in column order."""
    sync_traces(store)
    where, params = _runs_clause(runs, "t")
    rows = store.con.execute(f"SELECT DISTINCT unnest(agents) FROM problem_traces t WHERE {where}", params).fetchall()
    return agent_order(r[0] for r in rows)


def corrected_problems(store: Store, runs: list[str] | tuple[str, ...] | None = None) -> set[tuple[str, str]]:
    """(run, problem) pairs whose debate has a correction: some agent's answer went from wrong to right."""
    sync_traces(store)
    where, params = _runs_clause(runs or (), "t")
    rows = store.con.execute(
        f"SELECT run_id, problem_id FROM problem_traces t WHERE {where} AND corrections > 0", params
    ).fetchall()
    return {(r, p) for r, p in rows}


@operation
def first_round_vs_final(store: Store, run_id: str) -> pd.DataFrame:
    """One row per finished problem of a run, in run order: its solvers' first answers against the final one.

    ``first_answers`` / ``first_right`` / ``first_failed`` / ``first_cut_off`` count the round-1 solver
    messages (each agent alone, before it saw the others), ``first_tokens`` their prompt + completion tokens
    (NULL when the run recorded none); ``final_right`` is the outcome, ``tokens`` every message of the
    problem; ``corrections`` and ``regressions`` are the problem's transitions (``problem_traces``). Problems
    without a round-1 solver message are left out, so both sides are read from the same problems.
    """
    sync_traces(store)
    return store.con.execute(
        """WITH first AS (
               SELECT problem_id, count(*) AS first_answers,
                      count(*) FILTER (WHERE is_correct) AS first_right,
                      count(*) FILTER (WHERE is_correct IS NULL) AS first_failed,
                      count(*) FILTER (WHERE finish_reason = 'length') AS first_cut_off,
                      CASE WHEN count(prompt_tokens + completion_tokens) = count(*)
                           THEN sum(prompt_tokens + completion_tokens) END AS first_tokens
               FROM messages WHERE run_id = $run AND role = 'solver' AND round = 1 GROUP BY problem_id),
           spent AS (
               SELECT problem_id, CASE WHEN count(prompt_tokens + completion_tokens) = count(*)
                                       THEN sum(prompt_tokens + completion_tokens) END AS tokens
               FROM messages WHERE run_id = $run GROUP BY problem_id)
           SELECT o.problem_id, f.first_answers, f.first_right, f.first_failed, f.first_cut_off, f.first_tokens,
                  coalesce(o.is_correct, false) AS final_right, s.tokens,
                  coalesce(t.corrections, 0) AS corrections, coalesce(t.regressions, 0) AS regressions
           FROM outcomes o JOIN first f USING (problem_id) LEFT JOIN spent s USING (problem_id)
           LEFT JOIN problem_traces t ON t.run_id = o.run_id AND t.problem_id = o.problem_id
           LEFT JOIN run_problems rp ON rp.run_id = o.run_id AND rp.problem_id = o.problem_id
           WHERE o.run_id = $run ORDER BY rp.idx, o.problem_id""",
        {"run": run_id},
    ).df()
