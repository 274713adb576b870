"""The DuckDB store's core: ``Store`` (connection, transaction, migrate, refresh) and its ingester registry.

The one design decision: **nobody holds the store file between operations.** DuckDB lets one process
open a file read-write and no other process open it at all, so the app, the CLI and annotators' scripts
take turns: every operation (a query, an ingest, a migration) opens the file, does its work and closes it.
An operation that finds the file held by another process waits and retries with jittered exponential
backoff, up to ``AGENTARK_LOCK_TIMEOUT`` seconds (default 30), then raises ``StoreLockedError`` naming
the holder. Inside a process, threads share one DuckDB instance of the file (``_Instances``): the first
operation to start opens it, each operation works on a cursor of its own, and the last to end closes it, so
that threads never race each other opening and closing the same file (DuckDB's "Unique file handle conflict
... already attached"); this process's writes go one at a time. Long jobs never open the store: they write
Parquet shards into their run folder and ``Store.refresh`` runs the registered ingesters over them.

Queries are module functions ``fn(store, ...)``, each one operation, in one module per table family
(``run_tables``, ``job_tables``, ``label_tables`` ...); this module holds no query of its own.
"""
from __future__ import annotations

import random
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from functools import wraps
from typing import Callable, Iterator, TypeVar

import duckdb
import pandas as pd

from agentark import config
from agentark.clock import now
from agentark.errors import StoreError, StoreLockedError
from agentark.store.migrations import MIGRATIONS, latest_version

# Transient conflicts, retried with backoff: another process holds the file, or (should anything in this process
# open the file past ``_Instances``) DuckDB is still detaching an instance while another attaches it.
_LOCK_PATTERNS = ("could not set lock", "conflicting lock", "unique file handle conflict", "already attached")
# Backoff between attempts to open a held file: short at first (most operations take milliseconds), capped
# so that a waiter notices a released file within a fraction of a second.
_FIRST_WAIT_S = 0.005
_MAX_WAIT_S = 0.05
# The longest this process keeps the file open while its threads' operations overlap one another: after it, new
# operations wait for the ones running to end, so that the file is let go and a waiting process gets its turn
# (a busy app would otherwise hold it for as long as its sessions keep it busy). A handover pause follows, as
# long as another process's backoff, before this process opens the file again.
_MAX_HOLD_S = 0.5
_HANDOVER_S = _MAX_WAIT_S * 1.5
_TRANSACTION_WORDS = ("BEGIN", "COMMIT", "ROLLBACK", "ABORT", "END", "START")


_F = TypeVar("_F", bound=Callable)


def operation(fn: _F) -> _F:
    """Run a store function (first argument: the ``Store``) as one operation: one connection for all its statements."""

    @wraps(fn)
    def wrapper(store: "Store", *args, **kwargs):
        with store.connection():
            return fn(store, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _holder(message: str) -> str:
    """Who holds the file, from DuckDB's lock message: the pid and, where /proc tells, its command line."""
    pid = re.search(r"PID (\d+)", message)
    if not pid:
        return "another process"
    try:
        argv = Path(f"/proc/{pid.group(1)}/cmdline").read_bytes().split(b"\0")
        command = " ".join(Path(a.decode(errors="replace")).name if i == 0 else a.decode(errors="replace")
                           for i, a in enumerate(argv) if a)
    except OSError:
        command = ""
    command = command if len(command) <= 100 else command[:97] + "..."
    return f"process {pid.group(1)}" + (f" ({command})" if command else "")


def open_connection(path: Path, read_only: bool = False, timeout_s: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, waiting out another process's hold for up to ``timeout_s`` seconds.

    Attempts back off exponentially with jitter (so that waiting writers do not retry in step); when the
    bound passes, a ``StoreLockedError`` names the holder and what to do.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout_s = config.lock_timeout_s() if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    wait = _FIRST_WAIT_S
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            text = str(exc)
            if not any(p in text.lower() for p in _LOCK_PATTERNS):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreLockedError(
                    f"The store {path} is still held by {_holder(text)} after waiting {timeout_s:g} s. Studio "
                    "commands and the app hold it only for one operation at a time, so that process is in a "
                    "long operation or is not an agentark command: let it finish or stop it, wait longer with "
                    "AGENTARK_LOCK_TIMEOUT=SECONDS, or use another store with --home DIR or AGENTARK_HOME=DIR. "
                    "Debates started from the CLI still run: they write to their run folder and the store "
                    "ingests them on its next refresh."
                ) from exc
            time.sleep(min(left, wait * random.uniform(0.5, 1.5)))
            wait = min(wait * 2, _MAX_WAIT_S)


class _Instances:
    """This process's one DuckDB instance per store file, shared by the threads whose operations overlap.

    ``acquire`` opens the file when no operation of this process has it open and otherwise hands out a cursor of
    the open instance; ``release`` closes the cursor and, after the last one, the instance, so that between
    operations the file stays free for other processes. An operation that needs to write waits (with the same
    bound as for another process) while the open instance is read-only; a read-only operation uses a writable
    instance that is open. Overlapping operations keep the file open at most ``_MAX_HOLD_S`` before it is let go
    for a turn of another process.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._open: dict[str, list] = {}  # path -> [instance, read_only, operations using it, opened at]
        self._handed_over: dict[str, float] = {}  # path -> when this process may open it again after a long hold
        self._mine = threading.local()  # held: path -> this thread's operations on it

    def acquire(self, path: Path, read_only: bool, timeout_s: float | None) -> duckdb.DuckDBPyConnection:
        key = str(path.resolve())
        bound = config.lock_timeout_s() if timeout_s is None else timeout_s
        deadline = time.monotonic() + bound
        with self._changed:
            mine = getattr(self._mine, "held", {}).get(key, 0)
            while key in self._open and not mine and (self._open[key][1] and not read_only or self._draining(key)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreLockedError(
                        f"The store {path} is still in use by a long operation of this process after waiting "
                        f"{bound:g} s; let it finish, or wait longer with AGENTARK_LOCK_TIMEOUT=SECONDS.")
                self._changed.wait(min(left, _MAX_HOLD_S))
            entry = self._open.get(key)
            if entry is None:
                pause = self._handed_over.pop(key, 0.0) - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                # Opened under the condition: threads wanting the same file would wait for this instance anyway.
                entry = self._open[key] = [open_connection(path, read_only, timeout_s), read_only, 0,
                                           time.monotonic()]
            entry[2] += 1
            held = self._mine.__dict__.setdefault("held", {})
            held[key] = held.get(key, 0) + 1
            try:
                return entry[0].cursor()
            except BaseException:
                self._release(key)
                raise

    def release(self, path: Path, cursor: duckdb.DuckDBPyConnection) -> None:
        key = str(path.resolve())
        with self._changed:
            try:
                cursor.close()
            finally:
                self._release(key)

    def _draining(self, key: str) -> bool:
        """Whether the open instance has been held past ``_MAX_HOLD_S``, so new operations wait for it to close
        (``acquire`` skips the wait for a thread that holds an operation already: it would wait for itself)."""
        return time.monotonic() - self._open[key][3] > _MAX_HOLD_S

    def _release(self, key: str) -> None:
        entry = self._open[key]
        entry[2] -= 1
        self._mine.held[key] -= 1
        if entry[2] == 0:
            del self._open[key]
            entry[0].close()
            if time.monotonic() - entry[3] > _MAX_HOLD_S:
                self._handed_over[key] = time.monotonic() + _HANDOVER_S
            self._changed.notify_all()


_INSTANCES = _Instances()


class _Result:
    """A statement's rows, fetched before its connection closed; read them the way a DuckDB result reads."""

    def __init__(self, relation: duckdb.DuckDBPyRelation | None) -> None:
        self._table = relation.to_arrow_table() if relation is not None else None
        self._rows: list[tuple] | None = None

    def _relation(self) -> duckdb.DuckDBPyRelation:
        if self._table is None:
            raise StoreError("That statement returned no rows to fetch.")
        return duckdb.connect().from_arrow(self._table)

    def df(self) -> pd.DataFrame:
        return self._relation().df()

    fetchdf = df

    def fetchall(self) -> list[tuple]:
        if self._rows is None:
            self._rows = self._relation().fetchall()
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple | None:
        if self._rows is None:
            self._rows = self._relation().fetchall()
        return self._rows.pop(0) if self._rows else None

    def arrow(self):
        return self._table


class _OneStatement:
    """``Store.con`` outside an operation: every ``execute`` is its own operation (open, run, fetch, close).

    Statements that only make sense together on one connection (a transaction, a registered DataFrame)
    are refused with the way to do them: ``with store.connection() as con`` or ``store.transaction()``.
    """

    def __init__(self, store: "Store") -> None:
        self._store = store

    def execute(self, sql: str, params: list | tuple | dict | None = None) -> _Result:
        first_word = (sql.split(None, 1) or [""])[0].upper().rstrip(";")
        if first_word in _TRANSACTION_WORDS:
            raise StoreError(
                "A transaction needs one connection for all its statements: use `with store.transaction() as con:`."
            )
        with self._store.connection() as con:
            return _Result(con.sql(sql, params=params or None))

    def register(self, *_args) -> None:
        raise StoreError("A registered DataFrame lives on one connection: use `with store.connection() as con:`.")

    unregister = register


class _WriteOperation:
    """This process's writers one at a time, each on one connection held for the whole write.

    Reentrant, so a write may call another store write (say, inside ``Store.transaction``).
    """

    def __init__(self, store: "Store") -> None:
        self._store = store
        self._lock = threading.RLock()
        self._open = threading.local()

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self._lock.acquire()
        try:
            operation = self._store.connection()
            connection = operation.__enter__()
        except BaseException:
            self._lock.release()
            raise
        self._open.__dict__.setdefault("stack", []).append(operation)
        return connection

    def __exit__(self, *exc) -> None:
        try:
            self._open.stack.pop().__exit__(*exc)
        finally:
            self._lock.release()



@contextmanager
def frame_view(con, name: str, frame) -> Iterator[None]:
    """``frame`` visible to SQL as ``name`` for the block: a batch's rows are read by name, then let go."""
    con.register(name, frame)
    try:
        yield
    finally:
        con.unregister(name)

class Store:
    """The studio's database. Cheap to keep (it holds no connection between operations); share it across threads."""

    def __init__(self, path: Path | str | None = None, read_only: bool = False,
                 lock_timeout_s: float | None = None) -> None:
        self.path = Path(path) if path else config.store_path()
        self.read_only = read_only
        # None: read AGENTARK_LOCK_TIMEOUT at each operation, so a long-lived store (the app's) follows it.
        self.lock_timeout_s = lock_timeout_s
        self._local = threading.local()
        self._write_lock = _WriteOperation(self)
        if read_only:
            with self.connection():
                pass  # fail now, not at the first query, when the file cannot be opened
        else:
            self.migrate()

    # -- connection -------------------------------------------------------------------------------------
    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One operation: this thread's cursor of the process's instance of the file, taken on entry and closed
        when the outermost block ends (the instance closes with the process's last operation).

        Nested blocks (a method calling another) share the connection, so an operation opens the file once.
        """
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            self._local.connection = _INSTANCES.acquire(self.path, self.read_only, self.lock_timeout_s)
        self._local.depth = depth + 1
        try:
            yield self._local.connection
        finally:
            self._local.depth -= 1
            if self._local.depth == 0:
                connection, self._local.connection = self._local.connection, None
                _INSTANCES.release(self.path, connection)

    def write(self) -> _WriteOperation:
        """A write without a transaction of its own (one statement, or a step inside an enclosing
        ``transaction()``): ``with store.write() as con``. This process's writes go one at a time."""
        return self._write_lock

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write in one transaction: committed when the block ends, rolled back if it raises."""
        with self._write_lock as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    @property
    def con(self) -> duckdb.DuckDBPyConnection | _OneStatement:
        """Inside ``with store.connection()`` (or a write), that connection; outside, one operation per statement."""
        connection = getattr(self._local, "connection", None)
        return connection if connection is not None else _OneStatement(self)

    def close(self) -> None:
        """Nothing stays open between operations; kept so ``with Store() as store`` reads naturally."""

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def df(self, sql: str, params: list | tuple | dict | None = None) -> pd.DataFrame:
        with self.connection() as con:
            return con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list | tuple | dict | None = None):
        with self.connection() as con:
            # fetchall, not fetchone: DuckDB refuses new work on a cursor with an unfinished result.
            rows = con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    # -- schema -----------------------------------------------------------------------------------------
    def schema_version(self) -> int:
        exists = self.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        )
        if not exists:
            return 0
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    def migrate(self, target: int | None = None) -> int:
        """Apply every migration above the stored version (up to ``target``); return the new version."""
        target = latest_version() if target is None else target
        with self._write_lock as con:
            return self._migrate(con, target)

    def _migrate(self, con: duckdb.DuckDBPyConnection, target: int) -> int:
        con.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
        applied = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
        for migration in sorted(MIGRATIONS, key=lambda m: m.version):
            if migration.version in applied or migration.version > target:
                continue
            with self.transaction() as tx:
                for statement in migration.statements:
                    tx.execute(statement)
                if migration.python is not None:
                    migration.python(tx)
                tx.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [migration.version, migration.name, now()])
        return self.schema_version()

    # -- refresh ----------------------------------------------------------------------------------------
    @operation
    def refresh(self) -> int:
        """Run every registered ingester (each job kind's, trained models'): new run and job folders are
        registered and their finished shards ingested, once. Returns how many shards or rows came in.

        One operation: the store is opened once for every folder checked and every shard ingested. The store
        imports no job module: ``import agentark.jobs.builtin`` registers the built-in kinds.
        """
        found = registered()
        if not found:
            raise StoreError(
                "No ingesters are registered, so refresh would find nothing: import agentark.jobs.builtin first "
                "(the app and the CLI do)."
            )
        return sum(ingest(self) for ingest in found.values())



# -- the ingester registry ------------------------------------------------------------------------------------
# The store is the lowest layer and imports no job module: each job kind registers its ingester here when its
# module is imported (``import agentark.jobs.builtin`` registers the built-in kinds), and ``Store.refresh``
# calls whatever is registered, so the store never needs to know which kinds exist.
_INGESTERS: dict[str, Callable[[Store], int]] = {}


def register_ingester(name: str, ingest: Callable[[Store], int]) -> None:
    """Make ``refresh`` call ``ingest(store)`` (returning how many shards or rows it took in) under ``name``
    (a job kind, or ``models``); registering a name again replaces its function."""
    _INGESTERS[name] = ingest


def registered() -> dict[str, Callable[[Store], int]]:
    """Every registered ingester by name, in registration order."""
    return dict(_INGESTERS)
