"""Storage trouble, as the rest of the gateway sees it: clear, typed and (mostly) retryable.

Every backend translates its own failures (SQLite's "database is locked" or "disk is full",
PostgreSQL's lost connections and serialization failures) into these, so the API can answer
with a stable code and a message that says what to do, never "Unexpected error.".
"""

from __future__ import annotations

from enum import StrEnum


class StoreErrorCode(StrEnum):
    """``extensions.code`` of a request refused because of the store."""

    STORE_BUSY = "STORE_BUSY"  # another writer held the store too long: retry shortly
    STORAGE_FULL = "STORAGE_FULL"  # no space left for writes: free disk space, then retry
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"  # the database cannot be reached: retry later


class StoreError(Exception):
    """The store could not do what was asked; nothing was written.

    ``retry_after`` is a hint in seconds for clients (``Retry-After``) when retrying may work.
    """

    code: StoreErrorCode = StoreErrorCode.STORE_UNAVAILABLE

    def __init__(self, message: str, retry_after: float | None = 1.0) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class StoreBusy(StoreError):
    code = StoreErrorCode.STORE_BUSY


class StorageFull(StoreError):
    code = StoreErrorCode.STORAGE_FULL


class StoreUnavailable(StoreError):
    code = StoreErrorCode.STORE_UNAVAILABLE


class ConstraintViolation(Exception):
    """The schema refused a write the caller should have validated first (a foreign key, a
    CHECK): a bug of the gateway, not the client's fault and not worth retrying. Nothing was
    written."""


class WriteConflict(Exception):
    """A write lost a race with another writer after its checks were made: nothing was
    written. The caller re-runs its check on fresh data (backends that serialise writers, like
    SQLite, never raise it)."""


class StockConflict(WriteConflict):
    """A placement's guarded reservation found too little stock left for ``keys`` (sku, stock)
    once concurrent placements committed: nothing was written; the check, re-run on fresh
    data, answers INSUFFICIENT_STOCK (or another refusal)."""

    def __init__(self, keys: list[tuple[str, int]]) -> None:
        super().__init__(f"not enough stock left for {keys}")
        self.keys = keys


class DatabaseNotFound(Exception):
    """A read-only command named a database that does not exist (no file, or a PostgreSQL
    database without the gateway's schema); nothing was created."""
