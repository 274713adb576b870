"""Store: migrations from an older schema, lock errors that say what to do, idempotent ingestion."""
from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from agentark.errors import StoreLockedError
from agentark.store import Store
from agentark.store.migrations import MIGRATIONS, latest_version


def test_new_store_is_at_latest_version(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        assert store.schema_version() == latest_version()
        tables = set(store.df("SELECT table_name FROM information_schema.tables")["table_name"])
        assert {"runs", "problems", "messages", "outcomes", "jobs", "run_problems", "ingested_shards"} <= tables


def test_store_created_at_version_1_opens_and_upgrades(tmp_path):
    path = tmp_path / "old.duckdb"
    # Build a store exactly as schema version 1 left it, with data in it.
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    from agentark.store.migrations import MIGRATIONS

    for statement in MIGRATIONS[0].statements:
        con.execute(statement)
    con.execute("INSERT INTO schema_migrations VALUES (1, 'core', now())")
    con.execute(
        "INSERT INTO messages (message_id, run_id, problem_id, agent, round, role, content, answer, is_correct,"
        " prompt_tokens, completion_tokens, latency_ms) VALUES ('m1', 'r1', 'p1', 'agent_1', 1, 'solver',"
        " 'The answer is 4.', '4', true, 10, 5, 12.5)"
    )
    con.close()

    with Store(path) as store:
        assert store.schema_version() == latest_version() >= 2
        row = store.df("SELECT * FROM messages").iloc[0]
        assert row["content"] == "The answer is 4." and row["answer"] == "4"
        assert "model" in row.index and "error" in row.index and "answer_norm" in row.index
        applied = store.df("SELECT version FROM schema_migrations ORDER BY version")["version"].tolist()
        # Versions are reserved per branch, so the list may have gaps until every branch is merged.
        assert applied == sorted(m.version for m in MIGRATIONS)
    # Opening again applies nothing twice.
    with Store(path) as store:
        assert store.scalar("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)


def test_locked_store_names_the_fix(tmp_path):
    path = tmp_path / "locked.duckdb"
    Store(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(StoreLockedError) as err:
            Store(path, lock_timeout_s=0.5)
        waited = time.monotonic() - started
        message = str(err.value)
        assert f"process {holder.pid} (python -c import duckdb" in message  # the holder, by pid and command
        assert "after waiting 0.5 s" in message and 0.5 <= waited < 5
        assert "AGENTARK_HOME" in message and "--home" in message and "AGENTARK_LOCK_TIMEOUT" in message
    finally:
        holder.kill()
        holder.wait()


def test_threads_get_their_own_connection(tmp_path):
    import threading

    store = Store(tmp_path / "t.duckdb")
    seen, errors = [], []
    barrier = threading.Barrier(4)

    def work():
        try:
            with store.connection() as con:
                barrier.wait(timeout=10)  # all four hold a connection at once
                seen.append(con)
                assert store.con is con
                store.scalar("SELECT 1")
        except Exception as exc:  # surfaced below: a thread's assertion does not fail the test by itself
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len({id(c) for c in seen}) == 4
