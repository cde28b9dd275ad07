"""Storage trouble against real server processes: a full disk and a second writer holding the
SQLite write lock. Every refusal is a clear, retryable GraphQL error (STORAGE_FULL,
STORE_BUSY) with Retry-After, never INTERNAL_ERROR; nothing is half-written; once the cause is
gone everything works again without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import GATEWAY, ROOT, free_port, running_server

TOKEN = "storage-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
#: The size of the small filesystem (the database is ~150 KiB; /readyz wants 4 MiB free).
DISK = "16m"

CATALOG: dict[str, Any] = {
    "format": "availability-catalog/1",
    "sources": [{"code": "src", "name": "Main"}],
    "stocks": [{"id": 1, "name": "Web", "channels": ["web"],
                "sources": [{"code": "src", "priority": 1}]}],
    "products": [{"sku": f"SKU-{n}", "name": f"Product {n}"} for n in range(10)],
    "source_items": [{"sku": f"SKU-{n}", "source": "src", "quantity": 1000,
                      "status": "in_stock"} for n in range(10)],
}

PLACE = """mutation($id: String!, $sku: String!) {
  placeOrder(orderId: $id, channel: "web", lines: [{sku: $sku, quantity: 1}]) {
    ok status replayed } }"""
SET_PRODUCT = """mutation($sku: String!, $config: JSON!) {
  setProductConfig(sku: $sku, config: $config) { ok errors { code message } } }"""
SET_ITEMS = """mutation($sku: String!, $qty: Float!) {
  setSourceItems(items: [{sku: $sku, source: "src", quantity: $qty, status: IN_STOCK}]) {
    ok errors { code message } } }"""
AVAILABILITY = """query($skus: [String!]!) {
  availability(channel: "web", skus: $skus) { sku salableQty } }"""
ORDER = """query($id: String!) { order(orderId: $id) { orderId status
  reservations { sku quantity } } }"""
PRODUCT = """query($sku: String!) { product(sku: $sku) { settings { name value }
  sourceItems { quantity } } }"""


async def post(http: httpx.AsyncClient, query: str, **variables: Any) -> httpx.Response:
    return await http.post("/graphql", json={"query": query, "variables": variables},
                           headers=HEADERS)


async def data(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await post(http, query, **variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


def refused_with(response: httpx.Response, code: str) -> dict[str, Any]:
    """The answer is one GraphQL error with ``code``, a retry hint and Retry-After."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code, error
    seconds = error["extensions"]["retryAfter"]
    assert isinstance(seconds, int) and seconds >= 1
    assert response.headers["retry-after"] == str(seconds)
    assert "Unexpected error" not in error["message"]
    result: dict[str, Any] = error
    return result


def assert_clean_log(log: str) -> None:
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]


async def salable(http: httpx.AsyncClient, skus: list[str]) -> dict[str, float]:
    found = await data(http, AVAILABILITY, skus=skus)
    return {entry["sku"]: entry["salableQty"] for entry in found["availability"]}


# -- a full disk ---------------------------------------------------------------------------

@contextlib.contextmanager
def small_disk(where: Path) -> Iterator[Path]:
    """A tmpfs of :data:`DISK` mounted at ``where`` (this needs root, as in CI); skips with
    the reason when the machine does not allow it."""
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs",
                              str(where)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the filesystem has not one byte left; return it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (1 << 20, 1 << 16, 1 << 12, 1):
            chunk = b"\0" * size
            try:
                while True:
                    out.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


def gateway_import(db: Path, document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GATEWAY, "import", str(document), "--db", str(db), "--quiet"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)


async def test_a_full_disk_refuses_writes_clearly_and_recovers_without_restart(
        tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps(CATALOG))
        db = disk / "gateway.sqlite3"
        assert gateway_import(db, catalog).returncode == 0
        skus = [f"SKU-{n}" for n in range(10)]
        with running_server(db, token=TOKEN) as server:
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
                placed = await data(http, PLACE, id="before", sku="SKU-0")
                assert placed["placeOrder"]["ok"] is True
                before = await salable(http, skus)
                version = (await http.get("/healthz")).json()["data_version"]

                filler = fill(disk)
                # 15 writes of every kind: each refused, cleanly.
                answers = []
                for n in range(5):
                    answers.append(await post(http, PLACE, id=f"full-{n}", sku=f"SKU-{n}"))
                    answers.append(await post(http, SET_PRODUCT, sku=f"SKU-{n}",
                                              config={"min_sale_qty": 2}))
                    answers.append(await post(http, SET_ITEMS, sku=f"SKU-{n}", qty=1.0))
                errors = [refused_with(a, "STORAGE_FULL") for a in answers]
                assert len(errors) == 15
                assert all("free disk space" in e["message"] for e in errors), errors[0]

                # Reads still answer, and nothing of the refused writes is there.
                assert await salable(http, skus) == before
                for n in range(5):
                    assert (await data(http, ORDER, id=f"full-{n}"))["order"] is None
                    product = (await data(http, PRODUCT, sku=f"SKU-{n}"))["product"]
                    assert product == {"settings": [], "sourceItems": [{"quantity": 1000.0}]}
                assert (await http.get("/healthz")).json()["data_version"] == version

                ready = await http.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["code"] == "STORAGE_FULL"
                assert "free some space" in ready.json()["reason"]
                assert int(ready.headers["retry-after"]) >= 1

                # The command line: one line, non-zero (75: retry), no traceback.
                cli = gateway_import(db, catalog)
                assert cli.returncode == 75, cli
                (line,) = cli.stderr.splitlines()
                assert line.startswith("error: ") and "STORAGE_FULL" in line, line
                assert "free disk space" in line

                # Space is back: the same writes go through, without a restart.
                filler.unlink()
                assert (await http.get("/readyz")).status_code == 200
                for n in range(5):
                    again = (await data(http, PLACE, id=f"full-{n}", sku=f"SKU-{n}"))
                    assert again["placeOrder"] == {"ok": True, "status": "placed",
                                                   "replayed": False}
                    configured = await data(http, SET_PRODUCT, sku=f"SKU-{n}",
                                            config={"min_sale_qty": 2})
                    assert configured["setProductConfig"] == {"ok": True, "errors": []}
                after = await salable(http, skus)
                assert after == {sku: qty - (1 if int(sku[4:]) < 5 else 0)
                                 for sku, qty in before.items()}
            assert_clean_log(server.logs())
        assert gateway_import(db, catalog).returncode == 0


def test_the_command_line_on_a_full_disk_says_so_in_one_line(tmp_path: Path) -> None:
    """No server running: opening the database on a full disk already fails (SQLite cannot
    grow its shared-memory index), and says the disk is full; `serve` says so before it
    starts a worker."""
    with small_disk(tmp_path / "disk") as disk:
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps(CATALOG))
        db = disk / "gateway.sqlite3"
        assert gateway_import(db, catalog).returncode == 0
        filler = fill(disk)
        for command in (["import", str(catalog)], ["export", "-o", str(tmp_path / "out.json")],
                        ["lint"], ["compact-reservations"],
                        ["serve", "--port", str(free_port())]):
            result = subprocess.run([*GATEWAY, *command, "--db", str(db)], capture_output=True,
                                    text=True, timeout=60, cwd=ROOT, check=False)
            assert result.returncode == 75, (command, result)
            (line,) = result.stderr.splitlines()
            assert line.startswith("error: no space left for") and "STORAGE_FULL" in line
        filler.unlink()
        assert gateway_import(db, catalog).returncode == 0


# -- another process holding the write lock ------------------------------------------------

#: Holds SQLite's write lock on a database for some seconds, like a large `gateway import`
#: would; says when it has the lock and (with its monotonic clock, shared by every process of
#: the machine) when it lets it go.
HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA busy_timeout = 30000")
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
print("releasing", time.monotonic(), flush=True)
conn.execute("ROLLBACK")
"""


@contextlib.asynccontextmanager
async def write_lock_held(db: Path, seconds: float) -> Any:
    """Yield once another process holds the write lock of ``db``; the holder's release time
    (monotonic) is in the list yielded once the block ends."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, str(db), str(seconds), stdout=asyncio.subprocess.PIPE)
    assert holder.stdout is not None
    assert (await holder.stdout.readline()).strip() == b"locked"
    released: list[float] = []
    try:
        yield released
    finally:
        line = (await holder.stdout.readline()).split()
        await holder.wait()
    assert line[0] == b"releasing" and holder.returncode == 0
    released.append(float(line[1]))


def placed_or_busy(response: httpx.Response) -> bool:
    """True when the order was placed, False when it was refused with STORE_BUSY; anything
    else fails the test."""
    assert response.status_code == 200, response.text
    body = response.json()
    if "errors" in body:
        refused_with(response, "STORE_BUSY")
        return False
    assert body["data"]["placeOrder"] == {"ok": True, "status": "placed", "replayed": False}
    return True


async def check_every_order(base: str, ids: list[str], sku_of: dict[str, str],
                            refused: list[str]) -> None:
    """Refused orders left nothing and their ids can be retried; every placed order is whole.
    (A client of its own: the burst's pooled connections may be closing as idle.)"""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        await _check_every_order(http, ids, sku_of, refused)


async def _check_every_order(http: httpx.AsyncClient, ids: list[str], sku_of: dict[str, str],
                             refused: list[str]) -> None:
    for order_id in refused:
        assert (await data(http, ORDER, id=order_id))["order"] is None
        retried = await data(http, PLACE, id=order_id, sku=sku_of[order_id])
        assert retried["placeOrder"] == {"ok": True, "status": "placed", "replayed": False}
    for order_id in ids:
        order = (await data(http, ORDER, id=order_id))["order"]
        assert order["status"] == "placed"
        assert order["reservations"] == [{"sku": sku_of[order_id], "quantity": -1.0}]


async def test_orders_wait_for_another_writer_or_are_refused_busy(tmp_path: Path) -> None:
    db = tmp_path / "gateway.sqlite3"
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    assert gateway_import(db, catalog).returncode == 0
    ids = [f"busy-{n}" for n in range(24)]
    sku_of = {order_id: f"SKU-{n % 10}" for n, order_id in enumerate(ids)}
    with running_server(db, workers=2, token=TOKEN) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            before = await salable(http, sorted(set(sku_of.values())))
            # Held longer than SQLite's busy timeout (5 s): the first order of each worker
            # gives up; the ones queued behind it get the lock once it is released.
            async with write_lock_held(db, 8.0):
                answers = await asyncio.gather(*(post(http, PLACE, id=i, sku=sku_of[i])
                                                 for i in ids))
            outcomes = [placed_or_busy(a) for a in answers]
            refused = [i for i, placed in zip(ids, outcomes, strict=True) if not placed]
            assert refused and len(refused) < len(ids), refused
        await check_every_order(server.base, ids, sku_of, refused)
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            after = await salable(http, sorted(before))
            assert after == {sku: qty - sum(1 for s in sku_of.values() if s == sku)
                             for sku, qty in before.items()}
        assert_clean_log(server.logs())


async def test_writers_beyond_the_queue_bound_are_refused_at_once(tmp_path: Path) -> None:
    from gateway.store.sqlite import MAX_WAITING_WRITERS

    db = tmp_path / "gateway.sqlite3"
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    assert gateway_import(db, catalog).returncode == 0
    count = MAX_WAITING_WRITERS + 44
    ids = [f"queue-{n}" for n in range(count)]
    sku_of = {order_id: f"SKU-{n % 10}" for n, order_id in enumerate(ids)}
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    with running_server(db, workers=1, token=TOKEN) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60, limits=limits) as http:
            arrived: dict[str, float] = {}

            async def place(order_id: str) -> httpx.Response:
                response = await post(http, PLACE, id=order_id, sku=sku_of[order_id])
                arrived[order_id] = time.monotonic()
                return response

            async with write_lock_held(db, 6.0) as released:
                answers = await asyncio.gather(*(place(i) for i in ids))
            outcomes = [placed_or_busy(a) for a in answers]
            refused = [i for i, placed in zip(ids, outcomes, strict=True) if not placed]
            # One writer waits for SQLite's lock, MAX_WAITING_WRITERS queue behind it in the
            # process; every one beyond is refused at once, before the lock is released.
            full = [i for i, a in zip(ids, answers, strict=True) if "errors" in a.json()
                    and "too many writes are waiting" in a.json()["errors"][0]["message"]]
            assert len(full) >= count - MAX_WAITING_WRITERS - 1, (len(full), len(refused))
            assert all(arrived[i] < released[0] for i in full)
        await check_every_order(server.base, ids, sku_of, refused)
        assert_clean_log(server.logs())


async def test_readers_and_new_workers_do_not_wait_for_another_writer(tmp_path: Path) -> None:
    """Opening a database at the current schema only reads it: an export, a lint, or a
    server starting while a long import writes does not wait for its lock (nor fail after
    the 5 s busy timeout)."""
    db = tmp_path / "gateway.sqlite3"
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    assert gateway_import(db, catalog).returncode == 0
    async with write_lock_held(db, 12.0):
        exported = await asyncio.create_subprocess_exec(
            *GATEWAY, "export", "--db", str(db), "-o", str(tmp_path / "out.json"), cwd=ROOT,
            stderr=asyncio.subprocess.PIPE)
        _, stderr = await exported.communicate()
        assert exported.returncode == 0, stderr
        assert json.loads((tmp_path / "out.json").read_text())["products"]
        with running_server(db, token=TOKEN) as server:
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
                assert (await salable(http, ["SKU-1"])) == {"SKU-1": 1000.0}
        assert_clean_log(server.logs())
