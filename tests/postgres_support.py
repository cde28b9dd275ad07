"""PostgreSQL for tests: one server per test session, one fresh database per test.

The server is ``GATEWAY_TEST_POSTGRES_URL`` when set (CI exports the cluster ``.ci/run``
started), else a throwaway cluster started here (:mod:`tests.pgcluster`). When neither is
possible the tests that need PostgreSQL are skipped, with the reason, and the run's summary
says so. Databases are created from a template that already holds the migrated schema
(``CREATE DATABASE … TEMPLATE``: a few milliseconds) and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.pgcluster import Cluster, ClusterUnavailable, create_cluster

T = TypeVar("T")
URL_VARIABLE = "GATEWAY_TEST_POSTGRES_URL"
TEMPLATE = "gateway_test_template"

#: Why PostgreSQL tests were skipped in this session (None: they ran, or none was asked for).
UNAVAILABLE: list[str] = []


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@dataclass
class PostgresServer:
    """A server the tests may create databases on (superuser access)."""

    url: str
    cluster: Cluster | None = None
    _template: bool = field(default=False, repr=False)

    def admin(self, *statements: str) -> None:
        """Run statements on the maintenance database."""
        run_sync(lambda: _admin(self.url, *statements))

    def _ensure_template(self) -> None:
        if self._template:
            return
        from gateway.store.postgres import PostgresStore

        self.admin(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)",
                   f"CREATE DATABASE {TEMPLATE}")

        async def migrate() -> None:
            store = PostgresStore(with_database(self.url, TEMPLATE), pool_size=1)
            await store.open()
            await store.close()

        run_sync(migrate)
        self._template = True

    def create_database(self, *, serializable: bool = False, empty: bool = False) -> str:
        """A new database with the gateway's schema (``empty``: without it); its URL.
        ``serializable`` makes every transaction in it SERIALIZABLE by default."""
        name = f"gw_test_{uuid.uuid4().hex[:12]}"
        if empty:
            self.admin(f"CREATE DATABASE {name}")
        else:
            self._ensure_template()
            self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        if serializable:
            self.admin(f"ALTER DATABASE {name} SET default_transaction_isolation "
                       "= 'serializable'")
        return with_database(self.url, name)

    def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_SERVER: list[PostgresServer] = []


def start_server() -> PostgresServer:
    """The session's server (started on first use); skips the test when none can be had."""
    if _SERVER:
        return _SERVER[0]
    if UNAVAILABLE:
        pytest.skip(UNAVAILABLE[0])
    url = os.environ.get(URL_VARIABLE)
    if url:
        server = PostgresServer(url)
    else:
        try:
            cluster = create_cluster()
        except (ClusterUnavailable, OSError) as exc:
            UNAVAILABLE.append(f"PostgreSQL tests skipped: no server could be started "
                               f"({exc}); set {URL_VARIABLE} to use one")
            pytest.skip(UNAVAILABLE[0])
        server = PostgresServer(cluster.url(), cluster)
    _SERVER.append(server)
    return server


def stop_server() -> None:
    while _SERVER:
        server = _SERVER.pop()
        if server.cluster is not None:
            server.cluster.destroy()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (skips when none can be started)."""
    yield start_server()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database with the gateway's schema, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def private_cluster() -> Iterator[Cluster]:
    """A cluster of this test's own (it may be stopped and restarted); skips when none can
    be started."""
    try:
        cluster = create_cluster()
    except (ClusterUnavailable, OSError) as exc:
        pytest.skip(f"PostgreSQL tests skipped: no server could be started ({exc})")
    try:
        yield cluster
    finally:
        cluster.destroy()


def run_sync(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``await work()`` to completion from synchronous code, on a thread and event loop of
    its own (so that async tests may call it too)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result(timeout=120)


def query(url: str, statement: str, *args: object) -> list[tuple[object, ...]]:
    """Rows of one statement, read straight from PostgreSQL with a connection of its own."""
    async def run() -> list[tuple[object, ...]]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await conn.fetch(statement, *args)]
        finally:
            await conn.close()

    return run_sync(run)
