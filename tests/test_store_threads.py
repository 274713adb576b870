"""Threads of a process share one DuckDB instance of the store, while other processes take turns with it: no
operation fails with DuckDB's "Unique file handle conflict ... already attached" (issue 28)."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from agentark.store import Store, open_connection, run_tables

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

_WRITER = """
import sys
from pathlib import Path
from agentark.store import Store, run_tables
path = Path(sys.argv[1])
print('go', flush=True)
for i in range(int(sys.argv[2])):
    run_tables.set_run_status(Store(path), f"x{i}", "done")
"""


def test_threads_and_processes_share_the_store_without_errors(tmp_path):
    path = tmp_path / "s.duckdb"
    shared = Store(path)
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), "150"], stdout=subprocess.PIPE,
                                text=True) for _ in range(2)]
    for writer in writers:
        assert writer.stdout.readline().strip() == "go"
    errors: list[str] = []

    def work(i: int) -> None:
        store = shared if i % 2 else Store(path)
        for n in range(120):
            try:
                store.scalar("SELECT count(*) FROM runs")
                if i % 3 == 0:
                    run_tables.set_run_status(store, f"t{i}-{n}", "done")
            except Exception as exc:  # every failure counts, whatever its type
                errors.append(repr(exc)[:200])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for writer in writers:
        assert writer.wait(timeout=200) == 0
    assert errors == []
    # The last operation closed the instance: another process may open the file at once.
    open_connection(path, timeout_s=0).close()


def test_a_busy_process_lets_another_process_have_its_turn(tmp_path):
    """Threads that keep the store busy with overlapping operations let it go within a bounded time, so another
    process's operation gets in (without the bound it would wait until they stop)."""
    path = tmp_path / "s.duckdb"
    store = Store(path)
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            with store.connection() as con:
                con.execute("SELECT count(*) FROM range(200000)").fetchall()

    threads = [threading.Thread(target=busy) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        other = subprocess.run(
            [sys.executable, "-c", f"from pathlib import Path; from agentark.store import Store, run_tables; "
                                   f"run_tables.set_run_status(Store(Path({str(path)!r})), 'r', 'done'); print('ok')"],
            capture_output=True, text=True, timeout=120, env={**__import__("os").environ, "AGENTARK_LOCK_TIMEOUT": "20"})
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert other.stdout.strip() == "ok", other.stderr[-500:]
