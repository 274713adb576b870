"""The store is shared: nobody holds the file between operations, and a held file is waited for, not refused.

Other processes are real processes (DuckDB's file lock is per process), started with ``subprocess``.
"""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from agentark.errors import StoreError, StoreLockedError
from agentark.store import Store, open_connection, run_tables


def _hold(path, seconds: float) -> subprocess.Popen:
    """Another process that holds the file for ``seconds`` then lets go; returns once it holds it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
                               f"time.sleep({seconds}); c.close(); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_no_connection_outlives_an_operation(tmp_path):
    path = tmp_path / "s.duckdb"
    store = Store(path)
    assert store.scalar("SELECT count(*) FROM runs") == 0
    store.df("SELECT * FROM runs")
    run_tables.list_runs(store)
    # Another process opens the file at once: nothing of ours still holds it (no waiting allowed).
    open_connection(path, timeout_s=0).close()
    out = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}).close(); print('ok')"],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_an_operation_waits_for_a_short_hold(tmp_path):
    path = tmp_path / "s.duckdb"
    store = Store(path)
    holder = _hold(path, 1.0)
    try:
        started = time.monotonic()
        assert store.scalar("SELECT count(*) FROM runs") == 0  # waited for the holder instead of failing
        assert time.monotonic() - started >= 0.5
    finally:
        holder.kill()
        holder.wait()


def test_a_writer_blocked_past_the_bound_gets_the_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    store = Store(path)
    monkeypatch.setenv("AGENTARK_LOCK_TIMEOUT", "0.7")
    holder = _hold(path, 60)
    try:
        started = time.monotonic()
        with pytest.raises(StoreLockedError, match=f"held by process {holder.pid}") as err:
            run_tables.set_run_status(store, "r", "done")
        assert 0.7 <= time.monotonic() - started < 5
        assert "after waiting 0.7 s" in str(err.value)
        # The store object's own bound wins over the environment's.
        started = time.monotonic()
        with pytest.raises(StoreLockedError):
            Store(path, lock_timeout_s=0.1)
        assert time.monotonic() - started < 0.7
    finally:
        holder.kill()
        holder.wait()


def test_con_outside_an_operation_runs_one_statement_each(tmp_path):
    path = tmp_path / "s.duckdb"
    store = Store(path)
    store.con.execute("INSERT INTO runs (run_id, kind, config_json, status, created_at) "
                      "VALUES ('r', 'debate', '{}', 'done', TIMESTAMP '2026-01-01')")
    frame = store.con.execute("SELECT run_id, created_at FROM runs").df()
    assert frame["run_id"].tolist() == ["r"] and str(frame["created_at"].dtype).startswith("datetime64")
    assert store.con.execute("SELECT run_id FROM runs WHERE run_id = ?", ["r"]).fetchall() == [("r",)]
    assert store.con.execute("SELECT count(*) FROM runs WHERE run_id = $r", {"r": "r"}).fetchone() == (1,)
    open_connection(path, timeout_s=0).close()  # and nothing was left open
    with pytest.raises(StoreError, match="store.transaction"):
        store.con.execute("BEGIN TRANSACTION")
    with pytest.raises(StoreError, match="store.connection"):
        store.con.register("_x", frame)


def test_transaction_rolls_back_on_error(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    with pytest.raises(RuntimeError):
        with store.transaction() as con:
            con.execute("INSERT INTO runs (run_id, kind, config_json, status, created_at) "
                        "VALUES ('r', 'debate', '{}', 'done', now())")
            run_tables.set_run_status(store, "r", "failed")  # a nested write shares the transaction's connection
            raise RuntimeError("boom")
    assert run_tables.count(store, "runs") == 0
