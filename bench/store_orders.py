"""Order placement through the services and the store alone (no HTTP, no GraphQL): what the
store can take, to tell it apart from the cost of the request stack (bench/orders.py).

``--processes`` processes (like ``gateway serve --workers``), each with its own store and
``--concurrency`` coroutines placing one-line orders of quantity 1 back to back for
``--duration`` seconds, on one hot SKU or spread over 1000. Prints orders/s, the CPU used by the
processes and by PostgreSQL, the round trips per order (PostgreSQL: statements; SQLite: hops to
the writer thread), and checks the reservation totals against the accepted orders.

    .venv/bin/python bench/store_orders.py --backend postgresql
    .venv/bin/python bench/store_orders.py --backend sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path

import benchlib
from make_catalog import CHANNEL, build_catalog, sku_name
from orders import HOT_STOCK, SPREAD_STOCK, counts, create_database, postgres_cpu, postgres_server

sys.path.insert(0, str(benchlib.ROOT))


def worker(db: str, scenario: str, skus: int, concurrency: int, duration: float,
           start_at: float, index: int,
           results: multiprocessing.Queue[tuple[int, float, int]]) -> None:
    from gateway.domain.cart import RequestedLine
    from gateway.services import build_services
    from gateway.settings import Settings
    from gateway.store import open_store

    def trips(store: object) -> int:
        """Round trips so far: statements on PostgreSQL, writer-thread hops on SQLite."""
        return int(getattr(store, "hops", None) or getattr(store, "statements", 0))

    async def run() -> tuple[int, float, int]:
        store = await open_store(Settings(database=db))
        services = build_services(store)
        rng = random.Random(index)
        placed = 0
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu = time.process_time()
        trips_before = trips(store)
        stop = time.monotonic() + duration

        async def one(n: int) -> None:
            nonlocal placed
            k = 0
            while time.monotonic() < stop:
                k += 1
                sku = sku_name(0) if scenario == "hot" else sku_name(rng.randrange(skus))
                outcome = await services.orders.place_order(
                    f"bench-{index}-{n}-{k}", CHANNEL, [RequestedLine(sku, "1")])
                if not outcome.ok:
                    raise RuntimeError(f"refused: {outcome.error} {outcome.lines}")
                placed += 1

        await asyncio.gather(*(one(n) for n in range(concurrency)))
        used = time.process_time() - cpu
        sent = trips(store) - trips_before
        await store.close()
        return placed, used, sent

    results.put(asyncio.run(run()))


def run_scenario(name: str, args: argparse.Namespace, workdir: Path, server: str | None,
                 cluster: object) -> None:
    catalog = build_catalog(args.skus, seed=1, variety=False,
                            quantity=(SPREAD_STOCK, SPREAD_STOCK))
    for item in catalog["source_items"]:
        if item["sku"] == sku_name(0):
            item["quantity"] = HOT_STOCK
    path = workdir / f"{name}.json"
    path.write_text(json.dumps(catalog))
    db = create_database(server) if server else str(workdir / f"{name}.sqlite3")
    benchlib.import_catalog(path, db)  # type: ignore[arg-type]
    results: multiprocessing.Queue[tuple[int, float, int]] = multiprocessing.Queue()
    start_at = time.time() + 3.0  # every process opened and warm before the clock starts
    procs = [multiprocessing.Process(target=worker, args=(
        db, name, args.skus, args.concurrency, args.duration, start_at, n, results))
        for n in range(args.processes)]
    for proc in procs:
        proc.start()
    # PostgreSQL's CPU is read while the window's connections live (a backend's CPU time
    # leaves /proc with it).
    time.sleep(max(0.0, start_at - time.time()))
    pg_before = postgres_cpu(cluster)  # type: ignore[arg-type]
    time.sleep(args.duration)
    pg_used = postgres_cpu(cluster) - pg_before  # type: ignore[arg-type]
    found = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join()
    placed = sum(n for n, _, _ in found)
    cpu = sum(c for _, c, _ in found)
    sent = sum(t for _, _, t in found)
    orders, rows, totals = counts(db)
    ok = orders == rows == placed == -sum(totals.values())
    backend = "postgresql" if server else "sqlite"
    pg = f", PostgreSQL {pg_used / args.duration:.0%} of one core" if cluster else ""
    print(f"{name:6} {backend} {args.processes} processes × {args.concurrency}: "
          f"{placed / args.duration:8.1f} orders/s (CPU: processes {cpu / args.duration:.0%} of "
          f"one core, {cpu / max(placed, 1) * 1000:.2f} ms per order{pg}; "
          f"{sent / max(placed, 1):.2f} round trips per order); "
          f"{'verified' if ok else 'MISMATCH'}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--unix-socket", action="store_true")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--scenario", choices=("hot", "spread"), nargs="+",
                        default=["hot", "spread"])
    args = parser.parse_args(argv)
    print(f"before: {benchlib.machine_note()}")
    with tempfile.TemporaryDirectory(prefix="gateway-bench-store-") as tmp, \
            postgres_server(args) as (server, cluster):
        for name in args.scenario:
            run_scenario(name, args, Path(tmp), server, cluster)
    print(f"after: {benchlib.machine_note()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
