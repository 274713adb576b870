"""Numbered schema migrations, recorded in the database so an older store opens and upgrades.

A migration is never edited once it has shipped: change the schema by appending a new number. Each one
runs in its own transaction together with its row in ``schema_migrations``, so a crash leaves the store
at the previous version, never half-way.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


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
        7,
        "run names and tags people choose",
        (
            # A name is unique among runs (the store checks it on rename); NULL shows the short run id.
            "ALTER TABLE runs ADD COLUMN name VARCHAR",
            "ALTER TABLE runs ADD COLUMN tags VARCHAR[] DEFAULT []",
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
]


def latest_version() -> int:
    return max(m.version for m in MIGRATIONS)
