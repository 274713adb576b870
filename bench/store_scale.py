"""The trace browser at scale: a store with 1,000,000 messages against scanning the same data as JSONL.

The benchmark generates, in this process, 4 debate runs of 3 agents x 2 rounds (166,667 problems,
1,000,002 messages) straight into a fresh DuckDB store, and writes the same debates as one JSONL file per
run, one line per problem with every round's messages nested, which is how the reference debate scripts
keep their results. It then times, side by side:
  - the problem list: filtered, sorted, paginated pages (``agentark.store.trace_tables.problem_page``) against
    reading the run's JSONL, classifying every agent's transitions with ``agentark.runs.traces`` and filtering;
  - the dashboard (``agentark.store.trace_tables.dashboard``) against the same aggregations over the JSONL;
  - what opening the store per operation costs: the problem list opening the file for every page (what the
    app and the CLI do, so neither keeps the other out) against one connection held open.
The last line prints the p95 latencies and the ratios.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Runnable as `python bench/NAME.py` from a checkout, without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import json
import statistics
import tempfile
import time
from collections import Counter

import duckdb

from agentark.runs.curation import Mark, mark_targets
from agentark.store import Store, run_tables
from agentark.store.trace_tables import ProblemFilter, dashboard, problem_page, sync_traces
from agentark.runs.traces import count_transitions
from bench import smoke

RUNS = 4
AGENTS = 3
ROUNDS = 2


def build(store: Store, problems: int) -> None:
    """Synthetic debates: later rounds are more often right, so corrections outnumber regressions."""
    with store.transaction() as con:
        _build(con, problems)


def _build(con: duckdb.DuckDBPyConnection, problems: int) -> None:
    con.execute(f"""INSERT INTO runs (run_id, kind, method, dataset, model, config_json, status, created_at)
        SELECT 'run-' || i, 'debate', CASE WHEN i % 2 = 0 THEN 'debate' ELSE 'cot' END, 'synthetic',
               'model-' || (i % 2), '{{}}', 'done', TIMESTAMP '2026-01-01' + INTERVAL (i) HOUR FROM range({RUNS}) t(i)""")
    con.execute(f"""INSERT INTO problems (problem_id, dataset, split, question, reference_answer, meta_json)
        SELECT 'p' || i, 'synthetic', 'test',
               'Problem ' || i || ': a farmer has ' || (i % 89) || ' rows of ' || (i % 13) || ' plants. How many?',
               (i % 97)::VARCHAR, '{{}}' FROM range({problems}) t(i)""")
    con.execute(f"""INSERT INTO run_problems (run_id, problem_id, idx, dataset, split)
        SELECT 'run-' || (i % {RUNS}), 'p' || i, i // {RUNS}, 'synthetic', 'test' FROM range({problems}) t(i)""")
    con.execute(f"""INSERT INTO messages (message_id, run_id, problem_id, agent, round, role, content, answer,
                                          is_correct, prompt_tokens, completion_tokens, latency_ms, seq, model, answer_norm)
        WITH m AS (
            SELECT i, r + 1 AS round, a, (hash(i, r, a) % 100) < 45 + 25 * r AS ok,
                   ('w' || hash(i, a, r) % 4) AS wrong FROM range({problems}) t(i), range({ROUNDS}) u(r), range({AGENTS}) v(a))
        SELECT 'run-' || (i % {RUNS}) || ':p' || i || ':' || ((round - 1) * {AGENTS} + a), 'run-' || (i % {RUNS}), 'p' || i,
               'agent_' || (a + 1), round, 'solver',
               'Step 1: count the rows. Step 2: multiply by the plants per row, checking the other agents. '
                   || 'The answer is ' || CASE WHEN ok THEN (i % 97)::VARCHAR ELSE wrong END || '.',
               CASE WHEN ok THEN (i % 97)::VARCHAR ELSE wrong END, ok, 120 * round, 40 + (hash(i, a) % 200)::INT, 50.0,
               (round - 1) * {AGENTS} + a, 'model', CASE WHEN ok THEN (i % 97)::VARCHAR ELSE wrong END
        FROM m""")
    con.execute(f"""INSERT INTO outcomes (run_id, problem_id, final_answer, is_correct, consensus, answer_changes,
                                          prompt_tokens, completion_tokens, engine_calls, wall_ms)
        SELECT run_id, problem_id, mode(answer) FILTER (WHERE round = {ROUNDS}),
               count(*) FILTER (WHERE round = {ROUNDS} AND is_correct) * 2 > {AGENTS},
               greatest(count(*) FILTER (WHERE round = {ROUNDS} AND is_correct),
                        {AGENTS} - count(*) FILTER (WHERE round = {ROUNDS} AND is_correct))::DOUBLE / {AGENTS},
               0, sum(prompt_tokens), sum(completion_tokens), {AGENTS * ROUNDS}, sum(latency_ms)
        FROM messages GROUP BY run_id, problem_id""")


def write_jsonl(store: Store, folder: Path) -> list[Path]:
    """One JSONL per run, one line per problem with its rounds' messages nested (the reference layout)."""
    paths = []
    for i in range(RUNS):
        path = folder / f"run-{i}.jsonl"
        store.con.execute(f"""COPY (
            SELECT o.run_id, o.problem_id, any_value(p.question) AS question,
                   any_value(p.reference_answer) AS reference_answer, any_value(o.final_answer) AS final_answer,
                   any_value(o.is_correct) AS is_correct, any_value(o.consensus) AS consensus,
                   any_value(o.prompt_tokens + o.completion_tokens) AS tokens,
                   list(struct_pack(agent := m.agent, round := m.round, role := m.role, content := m.content,
                                    answer := m.answer, answer_norm := m.answer_norm, is_correct := m.is_correct)
                        ORDER BY m.seq) AS messages
            FROM outcomes o JOIN problems p USING (problem_id) JOIN messages m USING (run_id, problem_id)
            WHERE o.run_id = 'run-{i}' GROUP BY o.run_id, o.problem_id ORDER BY o.problem_id
        ) TO '{path}' (FORMAT json)""")
        paths.append(path)
    return paths


def scan_lines(paths: list[Path]):
    for path in paths:
        with open(path) as fh:
            for line in fh:
                yield json.loads(line)


def jsonl_list_page(paths: list[Path], regressed: bool, correct: bool | None, page: int, size: int = 50) -> list:
    matches = []
    for row in scan_lines(paths):
        counts = count_transitions(row["messages"])
        if regressed and not counts["regression"]:
            continue
        if correct is not None and bool(row["is_correct"]) != correct:
            continue
        matches.append((row["run_id"], row["problem_id"]))
    return matches[page * size : (page + 1) * size]


def jsonl_dashboard(paths: list[Path]) -> dict:
    per_round: dict[tuple[int, str], Counter] = {}
    for row in scan_lines(paths):
        for m in row["messages"]:
            c = per_round.setdefault((m["round"], m["agent"]), Counter())
            c["messages"] += 1
            c["correct"] += bool(m["is_correct"])
        counts = count_transitions(row["messages"])
        for r in range(1, ROUNDS + 1):
            answers = Counter(m["answer_norm"] for m in row["messages"] if m["round"] == r)
            top = answers.most_common(1)[0][1] if answers else 0
            per_round.setdefault((r, "vote"), Counter())["agreement"] += top
        per_round.setdefault((0, "all"), Counter()).update(counts)
    return per_round


def p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(round(0.95 * len(samples))) - 1)]


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    args = smoke.parse(smoke.sized(__doc__, messages=(1_000_000, 2400), repeats=(20, 2), baseline_repeats=(3, 1)))
    problems = -(-args.messages // (AGENTS * ROUNDS))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store(folder / "bench.duckdb")
        started = time.perf_counter()
        build(store, problems)
        n_messages = run_tables.count(store, "messages")
        print(f"built {n_messages:,} messages in {problems:,} problems over {RUNS} runs "
              f"in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        sync_traces(store)
        print(f"summarized every problem (once, incremental afterwards) in {time.perf_counter() - started:.1f} s")
        paths = write_jsonl(store, folder)
        print(f"wrote the same debates as JSONL: {sum(p.stat().st_size for p in paths) / 1e6:.0f} MB")

        filters = [
            (ProblemFilter(runs=("run-0",), regressed=True, correct=False), 0),
            (ProblemFilter(runs=("run-1",), corrected=True), 3),
            (ProblemFilter(runs=("run-0", "run-2"), consensus="no majority", sort="tokens", descending=True), 1),
            (ProblemFilter(agent="agent_2", corrected=True, sort="regressions", descending=True), 0),
            (ProblemFilter(runs=("run-3",)), 100),
        ]
        # Each problem_page is one store operation: it opens the file, queries and closes it, as the app does.
        list_ms = [t for flt, page in filters for t in timed(lambda: problem_page(store, flt, page), args.repeats)]
        with store.connection():  # the old way, side by side: one connection kept open, caches warm
            problem_page(store, *filters[0])
            held_ms = [t for flt, page in filters for t in timed(lambda: problem_page(store, flt, page), args.repeats)]
        open_ms = timed(lambda: store.scalar("SELECT 1"), args.repeats)
        # A write is an operation too; closing the file after it also checkpoints DuckDB's write-ahead log.
        marks = iter(range(10**6))
        mark_ms = timed(lambda: mark_targets(store, [Mark("run-0", f"p{4 * next(marks)}", "keep", annotator="bench")]),
                        args.repeats)
        search_ms = timed(lambda: problem_page(store, ProblemFilter(runs=("run-0",), text="farmer has 42 rows")),
                          max(3, args.repeats // 4))
        dashboard(store, ["run-0", "run-1"])
        board_ms = timed(lambda: dashboard(store, ["run-0", "run-1"]), args.repeats)
        store.close()

        one_run = [paths[0]]
        base_list_ms = timed(lambda: jsonl_list_page(one_run, True, False, 0), args.baseline_repeats)
        base_board_ms = timed(lambda: jsonl_dashboard(paths[:2]), args.baseline_repeats)

    print(f"problem list  p95 {p95(list_ms):7.1f} ms  (median {statistics.median(list_ms):.1f}, {len(list_ms)} queries, "
          "each opening the store)")
    print(f"store per operation: open+query+close of SELECT 1 p95 {p95(open_ms):.1f} ms; problem list p95 "
          f"{p95(list_ms):.1f} ms opening per page vs {p95(held_ms):.1f} ms on one held connection "
          f"= {p95(list_ms) / p95(held_ms):.2f}x; mark one problem (a checked write) p95 {p95(mark_ms):.1f} ms")
    print(f"text search   p95 {p95(search_ms):7.1f} ms  (questions and messages of one run, ILIKE)")
    print(f"dashboard     p95 {p95(board_ms):7.1f} ms  (2 runs, every aggregation)")
    print(f"JSONL list    p95 {p95(base_list_ms):7.1f} ms ; JSONL dashboard p95 {p95(base_board_ms):.1f} ms")
    print(f"p95 list {p95(list_ms):.1f} ms vs JSONL {p95(base_list_ms):.0f} ms = {p95(base_list_ms) / p95(list_ms):.0f}x; "
          f"p95 dashboard {p95(board_ms):.1f} ms vs JSONL {p95(base_board_ms):.0f} ms = "
          f"{p95(base_board_ms) / p95(board_ms):.0f}x faster")


if __name__ == "__main__":
    main()
