"""Failures of PostgreSQL as the gateway reports them: typed, retryable where it helps, and
never a driver's own exception."""

from __future__ import annotations

import asyncpg
import pytest

from gateway.store import postgres
from gateway.store.errors import (
    ConstraintViolation,
    StorageFull,
    StoreBusy,
    StoreError,
    StoreUnavailable,
)
from gateway.store.postgres_conn import translate
from tests.postgres.conftest import OpenPostgres


def server_error(sqlstate: str) -> asyncpg.PostgresError:
    error = asyncpg.PostgresError.new({"C": sqlstate, "M": f"failure {sqlstate}",
                                       "S": "ERROR"})
    assert error.sqlstate == sqlstate
    return error


@pytest.mark.parametrize(("state", "kind"), [
    ("53100", StorageFull),  # disk full
    ("55P03", StoreBusy),  # lock_timeout
    ("57014", StoreBusy),  # statement timeout
    ("53300", StoreBusy),  # too many connections
    ("40001", StoreBusy),  # serialization failure, after the retries
    ("40P01", StoreBusy),  # deadlock, after the retries
    ("57P01", StoreUnavailable),  # server shutting down (admin_shutdown)
    ("57P03", StoreUnavailable),  # cannot connect now (starting)
    ("08006", StoreUnavailable),  # connection failure
    ("3D000", StoreUnavailable),  # no such database
    ("28P01", StoreUnavailable),  # bad password
])
def test_server_errors_become_store_errors(state: str, kind: type[StoreError]) -> None:
    translated = translate(server_error(state), "db:5432/shop")
    assert type(translated) is kind
    assert isinstance(translated, StoreError) and translated.retry_after
    assert "db:5432/shop" in translated.message or kind is StoreBusy


@pytest.mark.parametrize("state", ["23505", "23503", "23514", "22P02", "22003"])
def test_integrity_and_data_errors_are_constraint_violations(state: str) -> None:
    assert isinstance(translate(server_error(state), "db"), ConstraintViolation)


@pytest.mark.parametrize("failure", [
    ConnectionRefusedError(111, "Connect call failed"),
    OSError(-2, "Name or service not known"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
    asyncpg.InterfaceError("connection is closed"),
    asyncpg.exceptions.InternalClientError("cannot switch to state 12"),
])
def test_lost_connections_are_unavailable_and_retryable(failure: Exception) -> None:
    translated = translate(failure, "db:5432/shop")
    assert isinstance(translated, StoreUnavailable)
    assert translated.retry_after is not None and "retry" in translated.message


async def test_waiting_too_long_for_a_pooled_connection_is_store_busy(
        open_postgres: OpenPostgres, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every connection of the pool held: the next transaction waits ACQUIRE_TIMEOUT, then is
    refused with STORE_BUSY (not a driver's TimeoutError); the pool still works after."""
    monkeypatch.setattr(postgres, "ACQUIRE_TIMEOUT", 0.2)
    store = await open_postgres(pool_size=1)
    async with store.transaction() as held:
        await held.get_order("nobody")  # holds the only connection until the block ends
        with pytest.raises(StoreBusy, match="connections of this process stayed busy"):
            async with store.transaction() as tx:
                await tx.get_order("nobody")
    async with store.transaction() as tx:
        assert await tx.get_order("nobody") is None
