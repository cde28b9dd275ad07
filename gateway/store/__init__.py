"""Persistence behind one Protocol. All SQL, transactions and locking live in this package.

:func:`open_store` is the one place a backend is chosen from the settings (``--db`` /
``GATEWAY_DATABASE``): a SQLite file, or a PostgreSQL database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from gateway.store.errors import DatabaseNotFound
from gateway.store.protocol import Store
from gateway.store.url import DatabaseKind, DatabaseUrl

__all__ = ["DatabaseNotFound", "Store", "StoreSettings", "create_store", "open_store"]


class StoreSettings(Protocol):
    """What choosing and opening a store needs from the configuration (the application's
    ``Settings`` has these; the store does not depend on where they come from)."""

    @property
    def database_url(self) -> DatabaseUrl: ...
    @property
    def postgres_pool_size(self) -> int: ...
    @property
    def postgres_poll_interval(self) -> float: ...
    @property
    def sqlite_synchronous(self) -> str: ...


def create_store(settings: StoreSettings) -> Store:
    """The store the settings name, not opened yet."""
    url = settings.database_url
    if url.kind is DatabaseKind.POSTGRESQL:
        from gateway.store.postgres import PostgresStore

        return PostgresStore(url.target, pool_size=settings.postgres_pool_size,
                             poll_interval=settings.postgres_poll_interval)
    from gateway.store.sqlite import SqliteStore

    return SqliteStore(url.target, synchronous=settings.sqlite_synchronous)


def _prepare_file(path: Path, *, must_exist: bool) -> None:
    if must_exist and not path.is_file():
        raise DatabaseNotFound(f"there is no database at {path} (check --db or "
                               "GATEWAY_DATABASE; `gateway import FILE --db PATH` creates one)")
    path.parent.mkdir(parents=True, exist_ok=True)


async def open_store(settings: StoreSettings, *, must_exist: bool = False) -> Store:
    """The store the settings name, opened (schema created or migrated).

    ``must_exist`` (read-only commands): a database that does not exist yet — no SQLite file,
    or a PostgreSQL database without the gateway's schema — is refused with
    :class:`DatabaseNotFound` and nothing is created; a typo must not create an empty shop.
    """
    url = settings.database_url
    if url.kind is DatabaseKind.SQLITE:
        _prepare_file(Path(url.target), must_exist=must_exist)
        store = create_store(settings)
        await store.open()
        return store
    from gateway.store.postgres import PostgresStore

    postgres = create_store(settings)
    assert isinstance(postgres, PostgresStore)
    await postgres.open(create=not must_exist)
    return postgres
