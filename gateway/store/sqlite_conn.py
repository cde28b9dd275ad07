"""SQLite connections: one dedicated thread per writer connection, and error translation.

A :class:`SqliteWorker` owns one ``sqlite3`` connection and runs *functions* on its thread:
a whole unit of work (several statements, the commit) costs one thread hop instead of one per
statement. (aiosqlite offers only a hop per statement; its function-call hook is private.)
Every connection runs in autocommit mode (transactions are explicit), with WAL, foreign keys
and a busy timeout. SQLite's own failures leave this module as
:class:`~gateway.store.errors.StoreError` subclasses with a message that says what to do.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from gateway import metrics
from gateway.store.errors import (
    ConstraintViolation,
    StorageFull,
    StoreBusy,
    StoreError,
    StoreUnavailable,
)

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
# Larger page cache and memory-mapped reads: the storefront's hot rows stay in memory.
CACHE_KIB = 64 * 1024
MMAP_BYTES = 256 * 1024 * 1024


def connect(path: Path, synchronous: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS
            ) -> sqlite3.Connection:
    """A configured connection (usable from any one thread at a time)."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise translate(exc, path) from None
    try:
        # busy_timeout first, so that switching to WAL waits for other processes' locks.
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    except sqlite3.Error as exc:
        conn.close()
        raise translate(exc, path) from None
    return conn


def translate(exc: sqlite3.Error, path: Path | str) -> StoreError | ConstraintViolation:
    """The backend-neutral error for a failure of SQLite (by its primary result code)."""
    if isinstance(exc, sqlite3.IntegrityError):
        return ConstraintViolation(str(exc))
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return StoreBusy("another writer holds the database (a large import?): retry in a "
                         "moment", retry_after=1.0)
    # A full disk shows as SQLITE_FULL when a page cannot be written, and as an I/O error
    # when the shared-memory index (-shm) cannot be grown: opening a database on a full disk.
    if (primary == sqlite3.SQLITE_FULL or "disk is full" in text
            or code == sqlite3.SQLITE_IOERR_SHMSIZE):
        return StorageFull(f"no space left for {path}: free disk space, then retry; nothing "
                           "was written", retry_after=30.0)
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
                   sqlite3.SQLITE_PERM, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return StoreUnavailable(f"the database {path} cannot be used: {text}",
                                retry_after=30.0)
    return StoreUnavailable(f"the database {path} failed: {text}", retry_after=5.0)


@contextmanager
def translated(path: Path | str) -> Iterator[None]:
    """Re-raise SQLite failures inside the block as :class:`StoreError`."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc


class Meter:
    """Instrumentation: how many statements were sent, and how many functions were run on the
    writer thread (hops), for tests and benchmarks."""

    def __init__(self) -> None:
        self.statements = 0
        self.hops = 0


class SqliteWorker:
    """One connection and the one thread that uses it; :meth:`call` runs a function there."""

    def __init__(self, path: Path, synchronous: str, meter: Meter | None = None) -> None:
        self.path = path
        self._synchronous = synchronous
        self._meter = meter or Meter()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None

    async def open(self) -> None:
        self._conn = await self.call_raw(lambda: connect(self.path, self._synchronous))

    async def call_raw(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn)

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` on the worker thread; SQLite failures become StoreErrors.

        Guarantee: ``fn`` runs to completion even when the awaiting task is cancelled (the
        thread cannot be interrupted), so a unit of work is never left half-applied.
        """
        conn = self._conn
        if conn is None:
            raise RuntimeError("the store is not open: call open() first")

        self._meter.hops += 1

        def run() -> T:
            with translated(self.path):
                return fn(conn)

        future = asyncio.get_running_loop().run_in_executor(self._executor, run)
        # Shielded: cancelling the caller must not drop the result of a function that ran.
        return await asyncio.shield(future)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)


Row = tuple[Any, ...]


class Session:
    """Statements on one connection, counted; used by the synchronous read/write functions."""

    __slots__ = ("conn", "meter")

    def __init__(self, conn: sqlite3.Connection, meter: Meter) -> None:
        self.conn = conn
        self.meter = meter

    def run(self, statement: str, params: Sequence[object] = ()) -> list[Row]:
        """Execute one statement and return all its rows (none for DDL/DML)."""
        self.meter.statements += 1
        started = metrics.statement_started()
        rows = self.conn.execute(statement, params).fetchall()
        metrics.statement_done(started)
        return rows

    def many(self, statement: str, rows: Iterable[Sequence[object]]) -> None:
        """Execute one DML statement for every row (one statement); nothing when no rows."""
        batch = list(rows)
        if batch:
            self.meter.statements += 1
            started = metrics.statement_started()
            self.conn.executemany(statement, batch)
            metrics.statement_done(started)
