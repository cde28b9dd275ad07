"""How long a large ``gateway import`` holds the SQLite write lock, and what orders see meanwhile.

A database holds the benchmark catalog (default 50,000 SKUs) plus one product with a huge stock
(``ORDERABLE``); ``gateway serve`` runs on it. Then ``gateway import`` of the same catalog
without its reservations (a merge: every product, source item and setting upserted, the daily
feed of a large shop) runs while

- a probe thread tries ``BEGIN IMMEDIATE`` with no busy timeout every 2 ms (and rolls back at
  once) and records when the write lock was held by someone else;
- an order thread places one-line orders for ``ORDERABLE``, one after the other, and records
  each answer's time and outcome.

Prints the import's wall time, when it first took the write lock, how long it held it, and the
orders placed before, during and after that hold (placed / STORE_BUSY / other).

    .venv/bin/python bench/import_lock.py --skus 50000
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import benchlib
from make_catalog import build_catalog

TOKEN = "bench-token"
PLACE = ('mutation($id: String!) { placeOrder(orderId: $id, channel: "web", '
         'lines: [{sku: "ORDERABLE", quantity: 1}]) { ok } }')


@dataclass
class Order:
    sent: float
    done: float
    outcome: str  # placed, STORE_BUSY, or what else came back


def probe_lock(db: Path, stop: threading.Event, held: list[tuple[float, float]]) -> None:
    """Record the intervals during which another connection held the write lock."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=0)
    since: float | None = None
    while not stop.is_set():
        now = time.monotonic()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            if since is not None:
                held.append((since, now))
                since = None
        except sqlite3.OperationalError:
            since = now if since is None else since
        time.sleep(0.002)
    if since is not None:
        held.append((since, time.monotonic()))
    conn.close()


def place_orders(port: int, stop: threading.Event, orders: list[Order]) -> None:
    url = f"http://{benchlib.HOST}:{port}/graphql"
    n = 0
    while not stop.is_set():
        n += 1
        body = json.dumps({"query": PLACE, "variables": {"id": f"during-{n}"}}).encode()
        request = urllib.request.Request(url, body, {"Content-Type": "application/json",
                                                     "Authorization": f"Bearer {TOKEN}"})
        sent = time.monotonic()
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        if answer.get("errors"):
            outcome = answer["errors"][0].get("extensions", {}).get("code", "error")
        else:
            outcome = "placed" if answer["data"]["placeOrder"]["ok"] else "refused"
        orders.append(Order(sent, time.monotonic(), outcome))


def summary(orders: list[Order]) -> str:
    if not orders:
        return "none"
    outcomes: dict[str, int] = {}
    for order in orders:
        outcomes[order.outcome] = outcomes.get(order.outcome, 0) + 1
    slowest = max(o.done - o.sent for o in orders)
    text = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
    return f"{len(orders)} ({text}); slowest answer {slowest * 1000:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=50_000, help="catalog size (default 50000)")
    parser.add_argument("--tmpdir", default=None, help="where to put the database")
    parser.add_argument("--with-reservations", action="store_true",
                        help="import the catalog's reservations again too (appended)")
    args = parser.parse_args(argv)
    print(benchlib.machine_note())
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        root = Path(tmp)
        catalog, extra, db = root / "catalog.json", root / "orderable.json", root / "bench.sqlite3"
        feed = root / "feed.json"
        document = build_catalog(args.skus)
        catalog.write_text(json.dumps(document))
        # The measured import: the same catalog without its reservations (a daily feed).
        feed.write_text(json.dumps({k: v for k, v in document.items() if k != "reservations"}))
        extra.write_text(json.dumps({
            "format": "availability-catalog/1",
            "products": [{"sku": "ORDERABLE", "name": "Orderable"}],
            "source_items": [{"sku": "ORDERABLE", "source": "wh-a", "quantity": 10_000_000,
                              "status": "in_stock"}]}))
        benchlib.import_catalog(catalog, db)
        benchlib.import_catalog(extra, db)
        port = benchlib.free_port()
        with benchlib.gateway_server(db, port, workers=1, env={"GATEWAY_ADMIN_TOKEN": TOKEN}):
            stop = threading.Event()
            held: list[tuple[float, float]] = []
            orders: list[Order] = []
            threads = [threading.Thread(target=probe_lock, args=(db, stop, held)),
                       threading.Thread(target=place_orders, args=(port, stop, orders))]
            for thread in threads:
                thread.start()
            time.sleep(1.0)
            started = time.monotonic()
            measured = catalog if args.with_reservations else feed
            subprocess.run([sys.executable, "-m", "gateway.cli", "import", str(measured),
                            "--db", str(db), "--quiet"], cwd=benchlib.ROOT, check=True)
            ended = time.monotonic()
            time.sleep(1.0)
            stop.set()
            for thread in threads:
                thread.join()
        holds = [(a, b) for a, b in held if started <= a <= ended]
        total = ended - started
        print(f"import of {args.skus} SKUs (merge): {total:.2f} s wall")
        if not holds:
            print("  the probe never saw the write lock held")
            return 0
        # The import's transaction is the longest hold; the others are orders' own.
        first, last = max(holds, key=lambda hold: hold[1] - hold[0])
        others = [b - a for a, b in holds if (a, b) != (first, last)]
        print(f"  write lock held by the import {last - first:.2f} s "
              f"({(last - first) / total:.0%} of the import), taken {first - started:.2f} s "
              f"after the start (reading and validating before that); the orders' own "
              f"transactions held it {len(others)} times, at most "
              f"{max(others, default=0) * 1000:.0f} ms")
        during = [o for o in orders if started <= o.sent < ended]
        print(f"  orders sent before the import took the lock: "
              f"{summary([o for o in during if o.sent < first])}")
        print(f"  orders sent while it held it: "
              f"{summary([o for o in during if first <= o.sent < last])}")
        print(f"  orders sent after it let go (import finishing): "
              f"{summary([o for o in during if o.sent >= last])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
