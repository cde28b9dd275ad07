"""The PostgreSQL schema (versioned migrations, applied once under a lock) and every `gateway`
command on a postgresql:// URL, including moving a shop between backends with a pipe."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from gateway.store.errors import DatabaseNotFound
from gateway.store.postgres import PostgresStore
from gateway.store.postgres_schema import SCHEMA_VERSION, SchemaError
from tests.postgres_support import PostgresServer, query
from tests.servers import GATEWAY, ROOT, running_server

DEMO = ROOT / "data" / "demo-catalog.json"


def gateway(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*GATEWAY, *args], input=stdin, capture_output=True, timeout=120,
                          cwd=ROOT, check=False)


def tables(url: str) -> set[str]:
    return {str(row[0]) for row in query(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


async def test_replicas_starting_together_migrate_once(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database(empty=True)
    stores = [PostgresStore(url, pool_size=1) for _ in range(6)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        versions = query(url, "SELECT version FROM schema_version ORDER BY version")
        assert [row[0] for row in versions] == list(range(1, SCHEMA_VERSION + 1))
        assert query(url, "SELECT id, data_version FROM meta") == [(1, 0)]
        assert {await store.data_version() for store in stores} == {0}
    finally:
        for store in stores:
            await store.close()
    postgres_server.drop_database(url)


async def test_a_database_with_a_newer_schema_is_refused(postgres_url: str) -> None:
    query(postgres_url, "INSERT INTO schema_version (version) VALUES ($1) RETURNING version",
          SCHEMA_VERSION + 1)
    store = PostgresStore(postgres_url, pool_size=1)
    with pytest.raises(SchemaError, match=f"version {SCHEMA_VERSION + 1}"):
        await store.open()
    await store.close()


async def test_opening_read_only_creates_nothing(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database(empty=True)
    store = PostgresStore(url, pool_size=1)
    with pytest.raises(DatabaseNotFound, match="holds no gateway data"):
        await store.open(create=False)
    await store.close()
    assert tables(url) == set()
    postgres_server.drop_database(url)


@pytest.mark.parametrize("command", [["export"], ["explain", "JKT-SUMMIT-M", "--channel", "eu"],
                                     ["lint"], ["compact-reservations"]])
def test_commands_that_read_refuse_a_database_without_the_schema(
        postgres_server: PostgresServer, command: list[str]) -> None:
    url = postgres_server.create_database(empty=True)
    result = gateway(*command, "--db", url)
    assert result.returncode == 2, result.stderr
    assert b"holds no gateway data" in result.stderr and b"Traceback" not in result.stderr
    assert tables(url) == set()  # nothing was created
    postgres_server.drop_database(url)


def test_every_command_works_on_postgresql(postgres_server: PostgresServer,
                                           tmp_path: Path) -> None:
    url = postgres_server.create_database(empty=True)
    imported = gateway("import", str(DEMO), "--db", url)
    assert imported.returncode == 0, imported.stderr
    assert b"imported the global configuration, 6 sources, 2 stocks" in imported.stdout
    exported = gateway("export", "--db", url)
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert document["products"] == json.loads(DEMO.read_text())["products"]
    explained = gateway("explain", "JKT-SUMMIT-M", "--channel", "eu_website", "--db", url)
    assert explained.returncode == 0, explained.stderr
    assert b"IN_STOCK, salable qty 6, physical" in explained.stdout
    lint = gateway("lint", "--channel", "eu_website", "--db", url)
    assert lint.returncode == 1  # the demo shop's deliberate findings
    assert b"CORD-ACCESSORY-5MM\teu_website\tFRACTIONAL_MIN_WITHOUT_DECIMALS" in lint.stdout
    compacted = gateway("compact-reservations", "--db", url)
    assert compacted.returncode == 0, compacted.stderr
    assert compacted.stdout.startswith(b"removed ")
    with running_server(url, log=tmp_path / "serve.log") as server:
        import httpx

        answer = httpx.post(f"{server.base}/graphql", json={
            "query": '{ availability(channel: "eu_website", skus: ["JKT-SUMMIT-M"]) '
                     "{ sku salableQty } }"}, timeout=10)
        assert answer.json()["data"] == {"availability": [
            {"sku": "JKT-SUMMIT-M", "salableQty": 6.0}]}
        assert httpx.get(f"{server.base}/readyz", timeout=10).status_code == 200
    # The data really is in PostgreSQL.
    assert query(url, "SELECT count(*) FROM products") == [(len(document["products"]),)]
    postgres_server.drop_database(url)


def test_a_shop_moves_between_backends_with_a_pipe(postgres_server: PostgresServer,
                                                   tmp_path: Path) -> None:
    """gateway export --db A | gateway import - --db B, both ways: the same shop."""
    sqlite = str(tmp_path / "shop.sqlite3")
    assert gateway("import", str(DEMO), "--db", sqlite, "--quiet").returncode == 0
    original = gateway("export", "--db", sqlite).stdout
    url = postgres_server.create_database(empty=True)
    to_postgres = gateway("import", "-", "--db", url, "--quiet", stdin=original)
    assert to_postgres.returncode == 0, to_postgres.stderr
    from_postgres = gateway("export", "--db", url).stdout
    assert from_postgres == original  # byte for byte
    back = str(tmp_path / "back.sqlite3")
    assert gateway("import", "-", "--db", back, "--quiet", stdin=from_postgres).returncode == 0
    assert gateway("export", "--db", back).stdout == original
    postgres_server.drop_database(url)
