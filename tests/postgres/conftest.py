"""PostgreSQL-only tests: what the shared contract suite cannot show (several processes'
stores at once, the server's own behaviour, restarts). Each test gets a fresh database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gateway.services import Services, build_services
from gateway.store.postgres import PostgresStore
from tests.support import SHOP

OpenPostgres = Callable[..., Awaitable[PostgresStore]]


@pytest.fixture
async def open_postgres(postgres_url: str) -> AsyncIterator[OpenPostgres]:
    """Opens a store on the test's database (each one stands for a replica)."""
    opened: list[PostgresStore] = []

    async def factory(url: str | None = None, **options: Any) -> PostgresStore:
        store = PostgresStore(url or postgres_url, **{"pool_size": 4, **options})
        await store.open()
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.close()


@pytest.fixture
async def replicas(open_postgres: OpenPostgres) -> list[Services]:
    """The services of three replicas on one database holding the test shop."""
    services = [build_services(await open_postgres()) for _ in range(3)]
    assert await services[0].catalog.import_document(SHOP, replace=True) == []
    return services
