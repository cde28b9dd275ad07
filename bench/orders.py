"""Order placement benchmark: ``placeOrder`` per second against ``gateway serve --workers 4``.

Two scenarios, each on a fresh temporary database and a fresh server (GATEWAY_ADMIN_TOKEN set,
back-office token sent with every request), each order one line of quantity 1:

- ``hot``: every order buys the same SKU, which has a huge stock (maximum contention on one
  reservation-total row);
- ``spread``: each order buys a random SKU of the catalog (default 1000 SKUs, large stocks).

Fixed concurrency (keep-alive connections, one request in flight each), a warm-up, then a
measured window; prints orders/s and p50/p99. Afterwards, with the server stopped, it reads
the database and checks that nothing was lost or double counted: accepted answers == stored
orders == reservation rows, and for every SKU the reservation total == −(accepted orders of
that SKU).

``--backend postgresql`` runs the same against PostgreSQL: a fresh database per scenario on
the server of ``--postgres-url`` (a URL it may create databases with), or, without it, on a
throwaway cluster it starts itself (fsync on; see tests/pgcluster.py) and removes afterwards.

    .venv/bin/python bench/orders.py --workers 4 --duration 10
    .venv/bin/python bench/orders.py --workers 4 --duration 10 --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import benchlib
from make_catalog import CHANNEL, build_catalog, sku_name

sys.path.insert(0, str(benchlib.ROOT))
from tests.pgcluster import Cluster, create_cluster

TOKEN = "bench-admin-token"
MUTATION = ("mutation Place($orderId: String!, $channel: String!, $lines: [CartLineInput!]!) {"
            " placeOrder(orderId: $orderId, channel: $channel, lines: $lines) {"
            " ok replayed orderId status error { code message } lines { sku ok reservedQty } } }")
HOT_STOCK = 50_000_000  # per source (the file format allows < 10^8)
SPREAD_STOCK = 1_000_000


ORDERS = "SELECT count(*) FROM orders"
ROWS = ("SELECT count(*) FROM reservations WHERE order_id IS NOT NULL"
        " AND order_id LIKE 'bench-%'")
TOTALS = "SELECT sku, reserved FROM stock_facts"


def counts(db: str) -> tuple[int, int, dict[str, Decimal]]:
    """Stored orders, their reservation rows and the reservation totals, read directly."""
    if db.startswith("postgresql://"):
        import asyncpg

        async def read() -> tuple[int, int, dict[str, Decimal]]:
            conn = await asyncpg.connect(db)
            try:
                return (int(await conn.fetchval(ORDERS)), int(await conn.fetchval(ROWS)),
                        {sku: Decimal(total) for sku, total in await conn.fetch(TOTALS)})
            finally:
                await conn.close()

        return asyncio.run(read())
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return (conn.execute(ORDERS).fetchone()[0], conn.execute(ROWS).fetchone()[0],
                {sku: Decimal(total) for sku, total in conn.execute(TOTALS)})
    finally:
        conn.close()


def verify(db: str, accepted: Counter[str], unknown: int) -> bool:
    """Compare the client's accepted orders with what the database holds."""
    orders, rows, totals = counts(db)
    expected = sum(accepted.values())
    reserved = -sum(totals.values(), Decimal(0))
    wrong = [sku for sku in set(totals) | set(accepted)
             if -totals.get(sku, Decimal(0)) != accepted.get(sku, 0)]
    ok = orders == rows == expected == reserved and not wrong
    note = f" ({unknown} answers lost in transport)" if unknown else ""
    print(f"  verify: accepted {expected}, orders stored {orders}, reservation rows {rows}, "
          f"reserved total {reserved:f}, SKUs with a wrong total {len(wrong)}{note}: "
          f"{'OK, no loss' if ok else 'MISMATCH'}")
    return ok


@contextlib.contextmanager
def postgres_server(args: argparse.Namespace) -> Iterator[tuple[str | None, Cluster | None]]:
    """The maintenance URL of the server to create databases on (None: SQLite)."""
    if args.backend != "postgresql":
        yield None, None
        return
    if args.postgres_url:
        yield args.postgres_url, None
        return
    cluster = create_cluster()
    try:
        via = f"Unix socket in {cluster.directory}" if args.unix_socket else "TCP"
        print(f"PostgreSQL: throwaway cluster {cluster.directory} on port {cluster.port} "
              f"(fsync on), connected by {via}")
        url = cluster.url()
        if args.unix_socket:
            url = (f"postgresql://postgres@/postgres?host={cluster.directory}"
                   f"&port={cluster.port}")
        yield url, cluster
    finally:
        cluster.destroy()


def create_database(server: str) -> str:
    import asyncpg

    name = f"bench_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()

    asyncio.run(create())
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def postgres_cpu(cluster: Cluster | None) -> float:
    """CPU seconds used so far by the cluster's postmaster and its children."""
    if cluster is None:
        return 0.0
    return benchlib.tree_cpu_seconds(
        int((cluster.data / "postmaster.pid").read_text().split()[0]))


def run_scenario(name: str, args: argparse.Namespace, workdir: Path,
                 server: str | None = None, cluster: Cluster | None = None) -> bool:
    catalog = build_catalog(args.skus, seed=args.seed, variety=False,
                            quantity=(SPREAD_STOCK, SPREAD_STOCK))
    hot = sku_name(0)
    for item in catalog["source_items"]:
        if item["sku"] == hot:
            item["quantity"] = HOT_STOCK
    path = workdir / f"{name}.json"
    db = create_database(server) if server else str(workdir / f"{name}.sqlite3")
    path.write_text(json.dumps(catalog))
    benchlib.import_catalog(path, db)  # type: ignore[arg-type]

    rng = random.Random(args.seed)
    accepted: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    ids = itertools.count(1)  # order ids unique across the measured and the profiled run
    sent = 0
    port = benchlib.free_port()
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def make_request(_: int) -> bytes:
        nonlocal sent
        sent += 1
        sku = hot if name == "hot" else sku_name(rng.randrange(args.skus))
        body = benchlib.graphql_body(MUTATION, {
            "orderId": f"bench-{name}-{next(ids)}", "channel": CHANNEL,
            "lines": [{"sku": sku, "quantity": 1}]})
        return benchlib.post_request("/graphql", body, port, headers)

    def check(status: int, body: bytes) -> None:
        answer = json.loads(body)
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL errors: {answer['errors']}")
        result = answer["data"]["placeOrder"]
        sku = result["lines"][0]["sku"] if result["lines"] else "?"
        if result["replayed"]:
            raise RuntimeError(f"unexpected replay of {result['orderId']}")
        if result["ok"]:
            accepted[sku] += 1
        else:
            rejected[json.dumps(result["error"] or result["lines"])[:120]] += 1

    gateway = benchlib.gateway_server(db, port, args.workers,  # type: ignore[arg-type]
                                      {"GATEWAY_ADMIN_TOKEN": TOKEN})
    with gateway, subscribers(port, args.subscribers, hot):
        pg_before = postgres_cpu(cluster)
        result = benchlib.run_load(port, make_request, concurrency=args.concurrency,
                                   warmup=args.warmup, duration=args.duration, check=check,
                                   server=gateway)
        pg_used = postgres_cpu(cluster) - pg_before
        backend = "postgresql" if server else "sqlite"
        print(f"{name:6} {backend} --workers {args.workers}: {result.summary('orders/s')}",
              flush=True)
        if cluster is not None:
            print(f"  PostgreSQL: {pg_used / (args.warmup + args.duration):.0%} of one core "
                  "(warm-up included)")
        if args.profile:
            # After the measured window: its orders are accepted too, and verified below.
            benchlib.profile_under_load(gateway, lambda seconds: benchlib.run_load(
                port, make_request, concurrency=args.concurrency, warmup=0.0,
                duration=seconds, check=check), args.profile, workdir / f"{name}.prof",
                args.profile_top)
    if rejected:
        print(f"  rejected: {sum(rejected.values())} {rejected.most_common(3)}")
    answered = sum(accepted.values()) + sum(rejected.values())
    return verify(db, accepted, sent - answered)


@contextlib.contextmanager
def subscribers(port: int, count: int, hot: str) -> Iterator[None]:
    """``count`` availabilityChanged subscriptions (bench/live.py subscribe) watching the hot
    SKU and the first SKUs of the catalog while the load runs; none when ``count`` is 0."""
    if not count:
        yield
        return
    proc = subprocess.Popen([sys.executable, str(benchlib.BENCH / "live.py"), "subscribe",
                             "--port", str(port), "--count", str(count),
                             "--connections", str(max(1, count // 10))],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    print(f"  {proc.stdout.readline().strip()} (watching {hot} and 19 others)", flush=True)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        print(f"  {proc.stdout.read().strip()}", flush=True)
        proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=4, help="gateway workers (default 4)")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="open connections, one order in flight each (default 32)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="measured seconds per scenario (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds (default 3)")
    parser.add_argument("--skus", type=int, default=1000,
                        help="catalog size, SKUs of the spread scenario (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--subscribers", type=int, default=0,
                        help="availabilityChanged subscriptions held during the load (default 0)")
    parser.add_argument("--tmpdir", default=None,
                        help="where the temporary database goes (default: the system temp "
                             "dir; /dev/shm takes fsync out of the picture)")
    parser.add_argument("--scenario", choices=("hot", "spread"), nargs="+",
                        default=["hot", "spread"], help="which scenarios (default both)")
    parser.add_argument("--profile", type=float, default=0.0, metavar="SECONDS",
                        help="after each measured window, py-spy the server for SECONDS more "
                             "under the same load and print the top frames")
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the store (default sqlite)")
    parser.add_argument("--unix-socket", action="store_true",
                        help="with the throwaway cluster: connect through its Unix socket "
                             "instead of TCP on 127.0.0.1")
    parser.add_argument("--postgres-url", default=None,
                        help="with --backend postgresql: a server URL allowed to CREATE "
                             "DATABASE (default: start a throwaway cluster)")
    args = parser.parse_args(argv)
    print(f"before: {benchlib.machine_note()}")
    print(f"placeOrder, 1 line of qty 1, concurrency {args.concurrency}, warm-up "
          f"{args.warmup:g} s, measured {args.duration:g} s, Python client on the same machine")
    ok = True
    with tempfile.TemporaryDirectory(prefix="gateway-bench-orders-",
                                     dir=args.tmpdir) as tmp, \
            postgres_server(args) as (server, cluster):
        for name in args.scenario:
            ok = run_scenario(name, args, Path(tmp), server, cluster) and ok
    if not ok:
        print("order accounting MISMATCH", file=sys.stderr)
    print(f"after: {benchlib.machine_note()}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
