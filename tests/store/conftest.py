"""Backend fixtures: every test in this package runs against each store backend.

Following strawberry's pattern, the backend is a fixture parameter, so adding PostgreSQL later
is one more entry in ``BACKENDS`` (and a branch in ``_make``), not a copy of the tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from gateway.store.protocol import Store
from gateway.store.sqlite import SqliteStore

BACKENDS = ["sqlite"]

OpenStore = Callable[[], Awaitable[Store]]


def _make(backend: str, tmp_path: Path) -> Store:
    if backend == "sqlite":
        return SqliteStore(tmp_path / "gateway.sqlite3")
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def open_store(backend: str, tmp_path: Path) -> AsyncIterator[OpenStore]:
    """Opens another store on the same database (a second process, or a restart)."""
    opened: list[Store] = []

    async def factory() -> Store:
        store = _make(backend, tmp_path)
        await store.open()
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: OpenStore) -> Store:
    """An opened, empty store; closed at teardown."""
    return await open_store()
