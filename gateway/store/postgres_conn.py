"""PostgreSQL connections: the pool, counted statements, retries and error translation.

Every failure of asyncpg or the server leaves this module as a
:class:`~gateway.store.errors.StoreError` (or :class:`ConstraintViolation`) with a message
that says what to do:

- a lost connection, a server shutting down or starting, a refused connection:
  ``StoreUnavailable`` (retryable; the pool reconnects by itself on the next use);
- a lock or statement timeout, too many connections, no free pooled connection, a
  serialization failure or deadlock still failing after the bounded retries: ``StoreBusy``;
- disk full (SQLSTATE 53100): ``StorageFull``;
- integrity and data errors (classes 23 and 22): ``ConstraintViolation`` (a bug: callers
  validate first).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar, cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from gateway import metrics
from gateway.store.errors import (
    ConstraintViolation,
    StorageFull,
    StoreBusy,
    StoreError,
    StoreUnavailable,
)

T = TypeVar("T")

#: Serialization failure and deadlock: the transaction may simply be run again.
RETRYABLE_STATES = frozenset({"40001", "40P01"})
#: Attempts of a transaction or read that keeps failing with a retryable state.
MAX_ATTEMPTS = 10
#: First back-off (seconds); doubled per attempt up to MAX_BACKOFF, with full jitter.
BACKOFF = 0.005
MAX_BACKOFF = 0.5
#: Waiting longer than this for a row lock is refused (STORE_BUSY) rather than queued.
LOCK_TIMEOUT = "10s"
#: A connection left idle inside a transaction (a client that died) is closed by the server.
IDLE_IN_TRANSACTION_TIMEOUT = "60s"
#: Waiting longer than this for a pooled connection is refused (STORE_BUSY).
ACQUIRE_TIMEOUT = 10.0

SERVER_SETTINGS = {
    "application_name": "gateway",
    "lock_timeout": LOCK_TIMEOUT,
    "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_TIMEOUT,
    # Plans of these small statements never gain from JIT; it only costs latency.
    "jit": "off",
}

Record = asyncpg.Record
#: A connection of our own or one lent by the pool.
Conn = asyncpg.Connection | PoolConnectionProxy


def rows(records: list[Record]) -> Sequence[Sequence[Any]]:
    """Records as the row sequences the codec unpacks (a Record indexes and unpacks like a
    tuple; no copy)."""
    return cast(Sequence[Sequence[Any]], records)


def sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None)
    return state if isinstance(state, str) else None


def is_conflict(exc: BaseException) -> bool:
    """A serialization failure or a deadlock: retrying the transaction may succeed."""
    return sqlstate(exc) in RETRYABLE_STATES


def is_connection_loss(exc: BaseException) -> bool:
    """The connection is gone (or could not be made): the server restarted, shut down, is
    starting up, or the network failed."""
    if isinstance(exc, asyncpg.PostgresConnectionError | OSError | ConnectionError
                  | asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError):
        # InterfaceError: the connection object cannot be used any more (closed, released by
        # the pool after the server went away, or left mid-operation by an interruption).
        return True
    state = sqlstate(exc) or ""
    return state.startswith("08") or state in ("57P01", "57P02", "57P03")


def translate(exc: BaseException, where: str) -> StoreError | ConstraintViolation:
    """The backend-neutral error for a failure of PostgreSQL or of the connection to it."""
    state = sqlstate(exc) or ""
    text = str(exc).strip() or type(exc).__name__
    if state.startswith(("23", "22")):
        return ConstraintViolation(text)
    if state == "53100":
        return StorageFull(f"the PostgreSQL server at {where} has no disk space left: free "
                           "space, then retry; nothing was written", retry_after=30.0)
    if state in ("55P03", "57014"):
        return StoreBusy("another writer held the rows this write needs too long (a large "
                         "import?): retry in a moment; nothing was written", retry_after=2.0)
    if state in ("53300", "53200"):
        return StoreBusy(f"the PostgreSQL server at {where} refuses more work right now "
                         f"({text}): retry in a moment", retry_after=2.0)
    if state in RETRYABLE_STATES:
        return StoreBusy("concurrent writes kept conflicting: retry in a moment; nothing "
                         "was written", retry_after=1.0)
    if state == "3D000":
        return StoreUnavailable(f"the database {where} does not exist: create it (createdb) "
                                "or fix --db / GATEWAY_DATABASE", retry_after=30.0)
    if state.startswith("28"):
        return StoreUnavailable(f"PostgreSQL at {where} refused the credentials: {text}",
                                retry_after=30.0)
    if isinstance(exc, OSError) or state == "57P03":
        return StoreUnavailable(f"PostgreSQL at {where} cannot be reached ({text}): retry in "
                                "a moment", retry_after=2.0)
    if is_connection_loss(exc):
        return StoreUnavailable(f"the connection to PostgreSQL at {where} was lost ({text}): "
                                "retry in a moment; a write is done whole or not at all (an "
                                "order retried with the same orderId is never placed twice)",
                                retry_after=2.0)
    return StoreUnavailable(f"PostgreSQL at {where} failed: {text}", retry_after=5.0)


def _is_driver_error(exc: BaseException) -> bool:
    return isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError | OSError
                      | ConnectionError | asyncpg.exceptions.InternalClientError)


class translated:  # (lower case: used like a function, as before)
    """Re-raise failures of PostgreSQL inside the block as StoreErrors.

    A class rather than a generator-based context manager: it wraps every statement of a
    placement, and this costs a fraction of a generator's set-up and tear-down.
    """

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if (exc is not None and isinstance(exc, Exception)
                and not isinstance(exc, StoreError | ConstraintViolation)
                and _is_driver_error(exc)):
            raise translate(exc, self.where) from exc


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (full jitter, exponential)."""
    return random.uniform(0.0, min(MAX_BACKOFF, BACKOFF * 2 ** attempt))


class Meter:
    """Instrumentation: how many statements were sent (tests and benchmarks read it)."""

    def __init__(self) -> None:
        self.statements = 0


class Session:
    """Statements on one connection, counted and timed; the unit read/write code works on."""

    __slots__ = ("conn", "meter")

    def __init__(self, conn: Conn, meter: Meter) -> None:
        self.conn = conn
        self.meter = meter

    async def fetch(self, statement: str, *args: Any) -> list[Record]:
        self.meter.statements += 1
        started = metrics.statement_started()
        rows: list[Record] = await self.conn.fetch(statement, *args)
        metrics.statement_done(started)
        return rows

    async def fetchrow(self, statement: str, *args: Any) -> Record | None:
        self.meter.statements += 1
        started = metrics.statement_started()
        row: Record | None = await self.conn.fetchrow(statement, *args)
        metrics.statement_done(started)
        return row

    async def fetchval(self, statement: str, *args: Any) -> Any:
        self.meter.statements += 1
        started = metrics.statement_started()
        value = await self.conn.fetchval(statement, *args)
        metrics.statement_done(started)
        return value

    async def execute(self, statement: str, *args: Any) -> str:
        self.meter.statements += 1
        started = metrics.statement_started()
        status: str = await self.conn.execute(statement, *args)
        metrics.statement_done(started)
        return status

    async def many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for every row (pipelined); nothing when there are no rows."""
        if rows:
            self.meter.statements += 1
            started = metrics.statement_started()
            await self.conn.executemany(statement, rows)
            metrics.statement_done(started)


async def _no_session_state(conn: Conn) -> None:
    """Nothing to reset on release: the store never changes session state (no SET, LISTEN or
    advisory lock on pooled connections); asyncpg still rolls back an open transaction. This
    saves the default reset query, one round trip per use."""


async def create_pool(dsn: str, size: int) -> asyncpg.Pool:
    """A pool of at most ``size`` connections (one is opened now, to fail early)."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=size,
                                     max_inactive_connection_lifetime=300.0,
                                     reset=_no_session_state,
                                     server_settings=SERVER_SETTINGS)
    assert pool is not None
    return pool


async def retrying(where: str, work: Callable[[], Awaitable[T]], *,
                   reconnect: bool = True) -> T:
    """``work()`` with the bounded retries: on a serialization failure or deadlock (and, with
    ``reconnect``, once on a lost connection: the pool hands out a fresh one), with jittered
    back-off. Only for work that is safe to run again (reads, or whole transactions)."""
    lost = False
    for attempt in range(MAX_ATTEMPTS):
        try:
            return await work()
        except StoreError:
            raise
        except Exception as exc:
            if is_conflict(exc) and attempt + 1 < MAX_ATTEMPTS:
                await asyncio.sleep(backoff(attempt))
                continue
            if reconnect and not lost and is_connection_loss(exc):
                lost = True
                continue
            if _is_driver_error(exc):
                raise translate(exc, where) from exc
            raise
    raise AssertionError("unreachable")  # pragma: no cover
