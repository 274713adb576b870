"""Numbered schema migrations, recorded in the database so an older store opens and upgrades.

A migration is never edited once it has shipped: change the schema by appending a new number. Each one
runs in its own transaction together with its row in ``schema_migrations``, so a crash leaves the store
at the previous version, never half-way. A migration whose data change SQL cannot express (a Unicode
normalisation) names a ``python`` step, run in the same transaction after its statements.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import duckdb

from agentark.ids import question_id


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    python: Callable[[duckdb.DuckDBPyConnection], None] | None = None


def _tables_with_problem_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every base table with a ``problem_id`` column, whichever migrations (of any number) made them."""
    rows = con.execute(
        """SELECT c.table_name FROM information_schema.columns c
           JOIN information_schema.tables t USING (table_schema, table_name)
           WHERE c.column_name = 'problem_id' AND t.table_type = 'BASE TABLE' AND t.table_schema = 'main'
             AND c.table_name <> 'problem_aliases'"""
    ).fetchall()
    return sorted(r[0] for r in rows)


def reidentify_problems(con: duckdb.DuckDBPyConnection) -> None:
    """Give every stored problem the id of its normalised question (``agentark.ids.question_id``), in every
    table that holds problem ids, and record old -> new in ``problem_aliases`` (export files and run folders
    written earlier still hold old ids).

    Problems that become one (the same question from two datasets or tools) keep one ``problems`` row; each
    run keeps the dataset and split it loaded them from (``run_problems``). A problem whose new id another
    problem of the same run already takes (one run that held the same question twice) keeps its old id, so
    no run's rows merge."""
    problems = con.execute("SELECT problem_id, question FROM problems").fetchall()
    new_of = {old: question_id(question) for old, question in problems}
    members = con.execute("SELECT run_id, problem_id, idx FROM run_problems ORDER BY run_id, idx, problem_id").fetchall()
    # Who holds each (run, new id): a problem already under its new id first, then the others in run order.
    taken: dict[tuple[str, str], str] = {(run_id, old): old for run_id, old, _ in members if new_of.get(old) == old}
    keep_old: set[str] = set()
    for run_id, old, _ in members:
        new = new_of.get(old)
        if new is None or new == old:
            continue
        if taken.setdefault((run_id, new), old) != old:
            keep_old.add(old)
    mapping = {old: new for old, new in new_of.items() if new != old and old not in keep_old}
    if not mapping:
        return
    con.execute("CREATE TEMP TABLE _reid (old_id VARCHAR PRIMARY KEY, problem_id VARCHAR NOT NULL)")
    con.executemany("INSERT INTO _reid VALUES (?, ?)", list(mapping.items()))
    con.execute("INSERT OR IGNORE INTO problem_aliases SELECT old_id, problem_id FROM _reid")
    # One problems row per new id: the first old row (by id) carries the question and reference forward.
    con.execute(
        """CREATE TEMP TABLE _moved AS
           SELECT r.problem_id, p.dataset, p.split, p.question, p.reference_answer, p.meta_json
           FROM problems p JOIN _reid r ON p.problem_id = r.old_id
           QUALIFY row_number() OVER (PARTITION BY r.problem_id ORDER BY r.old_id) = 1""")
    con.execute("DELETE FROM problems WHERE problem_id IN (SELECT old_id FROM _reid)")
    con.execute("INSERT OR IGNORE INTO problems SELECT * FROM _moved")
    for table in _tables_with_problem_ids(con):
        if table == "problems":
            continue
        con.execute(f"UPDATE {table} SET problem_id = r.problem_id FROM _reid r WHERE {table}.problem_id = r.old_id")
    con.execute("DROP TABLE _moved")
    con.execute("DROP TABLE _reid")


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "core tables: runs, problems, messages, outcomes, jobs",
        (
            """CREATE TABLE runs (
                run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, method VARCHAR, dataset VARCHAR,
                model VARCHAR, config_json VARCHAR NOT NULL, status VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL, git_commit VARCHAR, versions_json VARCHAR)""",
            """CREATE TABLE problems (
                problem_id VARCHAR PRIMARY KEY, dataset VARCHAR NOT NULL, split VARCHAR,
                question VARCHAR NOT NULL, reference_answer VARCHAR NOT NULL, meta_json VARCHAR)""",
            """CREATE TABLE messages (
                message_id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, problem_id VARCHAR NOT NULL,
                agent VARCHAR NOT NULL, round INTEGER NOT NULL, role VARCHAR NOT NULL, content VARCHAR,
                answer VARCHAR, is_correct BOOLEAN, prompt_tokens INTEGER, completion_tokens INTEGER,
                latency_ms DOUBLE)""",
            """CREATE TABLE outcomes (
                run_id VARCHAR NOT NULL, problem_id VARCHAR NOT NULL, final_answer VARCHAR,
                is_correct BOOLEAN, consensus DOUBLE, answer_changes INTEGER,
                PRIMARY KEY (run_id, problem_id))""",
            """CREATE TABLE jobs (
                job_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, config_json VARCHAR, pid INTEGER,
                status VARCHAR NOT NULL, log_path VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP)""",
        ),
    ),
    Migration(
        2,
        "message order, speaking model, errors, normalized answers; per-problem cost; run problems; shard ledger",
        (
            "ALTER TABLE messages ADD COLUMN seq INTEGER DEFAULT 0",
            "ALTER TABLE messages ADD COLUMN model VARCHAR",
            "ALTER TABLE messages ADD COLUMN error VARCHAR",
            "ALTER TABLE messages ADD COLUMN answer_norm VARCHAR",
            "ALTER TABLE outcomes ADD COLUMN prompt_tokens BIGINT DEFAULT 0",
            "ALTER TABLE outcomes ADD COLUMN completion_tokens BIGINT DEFAULT 0",
            "ALTER TABLE outcomes ADD COLUMN engine_calls INTEGER DEFAULT 0",
            "ALTER TABLE outcomes ADD COLUMN wall_ms DOUBLE DEFAULT 0",
            "ALTER TABLE jobs ADD COLUMN run_id VARCHAR",
            """CREATE TABLE run_problems (
                run_id VARCHAR NOT NULL, problem_id VARCHAR NOT NULL, idx INTEGER NOT NULL,
                PRIMARY KEY (run_id, problem_id))""",
            """CREATE TABLE ingested_shards (
                run_id VARCHAR NOT NULL, shard VARCHAR NOT NULL, n_messages INTEGER, ingested_at TIMESTAMP,
                PRIMARY KEY (run_id, shard))""",
            "CREATE INDEX messages_run_problem ON messages (run_id, problem_id)",
        ),
    ),
    Migration(
        3,
        "curation marks, steps, append-only step labels, exports, models, metrics",
        (
            # Curation marks are appended, never updated: the latest mark per target wins.
            """CREATE TABLE curation_marks (
                mark_id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, problem_id VARCHAR NOT NULL,
                message_id VARCHAR, mark VARCHAR NOT NULL, note VARCHAR, annotator VARCHAR,
                created_at TIMESTAMP NOT NULL)""",
            "CREATE INDEX curation_marks_target ON curation_marks (run_id, problem_id)",
            """CREATE TABLE steps (
                step_id VARCHAR PRIMARY KEY, message_id VARCHAR NOT NULL, idx INTEGER NOT NULL,
                text VARCHAR NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
                segmenter VARCHAR, created_at TIMESTAMP)""",
            "CREATE INDEX steps_message ON steps (message_id)",
            """CREATE TABLE step_labels (
                label_id VARCHAR PRIMARY KEY, step_id VARCHAR NOT NULL, value DOUBLE, source VARCHAR NOT NULL,
                annotator VARCHAR, confidence DOUBLE, flag BOOLEAN DEFAULT false, note VARCHAR,
                created_at TIMESTAMP NOT NULL)""",
            "CREATE INDEX step_labels_step ON step_labels (step_id)",
            """CREATE TABLE exports (
                export_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
                n_rows INTEGER, filters_json VARCHAR, created_at TIMESTAMP NOT NULL)""",
            """CREATE TABLE models (
                model_id VARCHAR PRIMARY KEY, kind VARCHAR, path VARCHAR, base_model VARCHAR, job_id VARCHAR,
                created_at TIMESTAMP)""",
            """CREATE TABLE metrics (
                job_id VARCHAR NOT NULL, step INTEGER NOT NULL, name VARCHAR NOT NULL, value DOUBLE)""",
        ),
    ),
    Migration(
        5,
        "trace summaries: per problem-round votes and transitions, per problem correction/regression totals",
        (
            # Derived from messages once per finished problem (outcomes are never updated), so the
            # dashboard and the problem list aggregate ~1/6 of the message rows instead of all of them.
            """CREATE TABLE problem_rounds (
                run_id VARCHAR NOT NULL, problem_id VARCHAR NOT NULL, round INTEGER NOT NULL,
                messages INTEGER NOT NULL, correct INTEGER NOT NULL, vote_correct BOOLEAN NOT NULL,
                agreement DOUBLE NOT NULL, corrections INTEGER NOT NULL, regressions INTEGER NOT NULL,
                wrong_to_wrong INTEGER NOT NULL, transitions INTEGER NOT NULL, tokens BIGINT NOT NULL,
                PRIMARY KEY (run_id, problem_id, round))""",
            # The list's columns are copied from outcomes/run_problems/problems so a filtered page is one
            # scan of one table; question text is joined only for the 50 rows shown.
            """CREATE TABLE problem_traces (
                run_id VARCHAR NOT NULL, problem_id VARCHAR NOT NULL, idx INTEGER NOT NULL, dataset VARCHAR,
                final_answer VARCHAR, is_correct BOOLEAN NOT NULL, consensus DOUBLE, answer_changes INTEGER,
                tokens BIGINT NOT NULL, wall_ms DOUBLE, agents VARCHAR[] NOT NULL,
                rounds INTEGER NOT NULL, corrections INTEGER NOT NULL, regressions INTEGER NOT NULL,
                wrong_to_wrong INTEGER NOT NULL, corrected_agents VARCHAR[] NOT NULL,
                regressed_agents VARCHAR[] NOT NULL, PRIMARY KEY (run_id, problem_id))""",
        ),
    ),
    Migration(
        6,
        "soft step labels (Monte-Carlo fraction) and step lookups by label source",
        (
            # value holds the hard label (+1/0/-1); soft_value the Monte-Carlo fraction in [0, 1] when a
            # source has one, so an export can pick hard or soft labels from the same row.
            "ALTER TABLE step_labels ADD COLUMN soft_value DOUBLE",
            "CREATE INDEX step_labels_source ON step_labels (source, step_id)",
        ),
    ),
    Migration(
        10,
        "models registry: what a trained checkpoint was made from, how, on what, and how it ended",
        (
            # The row is the checkpoint's provenance: a model is reproducible from its export hash and config.
            "ALTER TABLE models ADD COLUMN export_sha256 VARCHAR",
            "ALTER TABLE models ADD COLUMN config_json VARCHAR",
            "ALTER TABLE models ADD COLUMN metrics_json VARCHAR",
            "ALTER TABLE models ADD COLUMN device VARCHAR",
            "ALTER TABLE models ADD COLUMN precision VARCHAR",
            "ALTER TABLE models ADD COLUMN world_size INTEGER",
            "ALTER TABLE models ADD COLUMN peak_memory_mb DOUBLE",
            # The solve prompt the student was trained with, so evaluation prompts it the same way.
            "ALTER TABLE models ADD COLUMN prompt VARCHAR",
            "ALTER TABLE models ADD COLUMN step INTEGER",
        ),
    ),
    Migration(
        8,
        "why each message ended: stop, length (cut off at max_tokens) or error",
        (
            # NULL for messages stored before this version and for imports whose tool did not record it.
            "ALTER TABLE messages ADD COLUMN finish_reason VARCHAR",
        ),
    ),
    Migration(
        9,
        "answer kinds (cut off, ambiguous, implicit), vote ties, per-run dataset and split; problem ids follow the question",
        (
            # explicit / implicit / cut_off / ambiguous / none (grading.ANSWER_KINDS); NULL until re-graded.
            "ALTER TABLE messages ADD COLUMN answer_kind VARCHAR",
            # Whether the final answer came from a majority vote whose largest groups tied; NULL until re-graded.
            "ALTER TABLE outcomes ADD COLUMN vote_tie BOOLEAN",
            # A problem is one question whatever its source; each run records where it loaded it from.
            "ALTER TABLE run_problems ADD COLUMN dataset VARCHAR",
            "ALTER TABLE run_problems ADD COLUMN split VARCHAR",
            """UPDATE run_problems SET dataset = p.dataset, split = p.split FROM problems p
               WHERE p.problem_id = run_problems.problem_id""",
            """CREATE TABLE problem_aliases (old_id VARCHAR PRIMARY KEY, problem_id VARCHAR NOT NULL)""",
            # Whether the round's plurality vote tied (trace_tables.sync_traces); summaries made before are rebuilt.
            "ALTER TABLE problem_rounds ADD COLUMN vote_tie BOOLEAN DEFAULT false",
            "DELETE FROM problem_rounds",
            "DELETE FROM problem_traces",
        ),
        reidentify_problems,
    ),
    Migration(
        7,
        "run names and tags people choose",
        (
            # A name is unique among runs (the store checks it on rename); NULL shows the short run id.
            "ALTER TABLE runs ADD COLUMN name VARCHAR",
            "ALTER TABLE runs ADD COLUMN tags VARCHAR[] DEFAULT []",
        ),
    ),
    Migration(
        15,
        "one metric value per job, step and name (a resumed trainer logs its step-0 and replayed steps again)",
        (
            """CREATE TABLE metrics_keyed (
                job_id VARCHAR NOT NULL, step INTEGER NOT NULL, name VARCHAR NOT NULL, value DOUBLE,
                PRIMARY KEY (job_id, step, name))""",
            # Duplicates stored before this version: keep the value stored last.
            "INSERT INTO metrics_keyed SELECT job_id, step, name, last(value) FROM metrics GROUP BY job_id, step, name",
            "DROP TABLE metrics",
            "ALTER TABLE metrics_keyed RENAME TO metrics",
        ),
    ),
    Migration(
        12,
        "claim-free steps; the ledger of imported files",
        (
            # false for a step that claims nothing (an opening, the question restated): labelers skip it and the
            # first-error convention never stops at it. NULL (steps stored before, imported step sets) counts
            # as a claim.
            "ALTER TABLE steps ADD COLUMN claim BOOLEAN",
            # One row per transcript file imported, keyed by its bytes, so the same file under another name or
            # with another --model is recognised and refused instead of counted twice or silently merged.
            """CREATE TABLE imported_files (
                sha256 VARCHAR NOT NULL, path VARCHAR NOT NULL, format VARCHAR NOT NULL, run_ids VARCHAR[],
                model VARCHAR, imported INTEGER, duplicates INTEGER, imported_at TIMESTAMP NOT NULL)""",
        ),
    ),
    Migration(
        14,
        "step corrections people write: the step that should have been there, and optionally the rest",
        (
            # Append-only like step_labels. The replaced step's text and offsets are copied, so a correction
            # keeps saying what it replaced after the message is segmented again (step ids then change).
            """CREATE TABLE step_corrections (
                correction_id VARCHAR PRIMARY KEY, step_id VARCHAR NOT NULL, message_id VARCHAR NOT NULL,
                original_text VARCHAR NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
                text VARCHAR NOT NULL, rest VARCHAR, note VARCHAR, annotator VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL)""",
            "CREATE INDEX step_corrections_message ON step_corrections (message_id)",
            "CREATE INDEX step_corrections_step ON step_corrections (step_id)",
        ),
    ),
    Migration(
        16,
        "who did what: step claims and the share labelled twice per run; the history of run names and tags",
        (
            # A step an annotator's queue took: no one else's queue takes it, unless it is in its run's overlap.
            """CREATE TABLE step_claims (
                step_id VARCHAR NOT NULL, annotator VARCHAR NOT NULL, claimed_at TIMESTAMP NOT NULL,
                PRIMARY KEY (step_id, annotator))""",
            # The share of a run's steps two annotators label, for agreement; appended, the latest row is in force.
            """CREATE TABLE label_assignments (
                run_id VARCHAR NOT NULL, overlap DOUBLE NOT NULL, set_by VARCHAR, set_at TIMESTAMP NOT NULL)""",
            # Every rename and retag, with who and when (runs keep only the name and tags in force).
            """CREATE TABLE run_name_history (
                run_id VARCHAR NOT NULL, name VARCHAR, tags VARCHAR[], changed_by VARCHAR,
                changed_at TIMESTAMP NOT NULL)""",
        ),
    ),
]


def latest_version() -> int:
    return max(m.version for m in MIGRATIONS)
