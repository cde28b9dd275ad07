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

    .venv/bin/python bench/orders.py --workers 4 --duration 10
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import benchlib
from make_catalog import CHANNEL, build_catalog, sku_name

TOKEN = "bench-admin-token"
MUTATION = ("mutation Place($orderId: String!, $channel: String!, $lines: [CartLineInput!]!) {"
            " placeOrder(orderId: $orderId, channel: $channel, lines: $lines) {"
            " ok replayed orderId status error { code message } lines { sku ok reservedQty } } }")
HOT_STOCK = 50_000_000  # per source (the file format allows < 10^8)
SPREAD_STOCK = 1_000_000


def verify(db: Path, accepted: Counter[str], unknown: int) -> bool:
    """Compare the client's accepted orders with what the database holds."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        orders = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM reservations WHERE order_id IS NOT NULL"
                            " AND order_id LIKE 'bench-%'").fetchone()[0]
        totals = {sku: Decimal(total) for sku, total in
                  conn.execute("SELECT sku, reserved FROM stock_facts")}
    finally:
        conn.close()
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


def run_scenario(name: str, args: argparse.Namespace, workdir: Path) -> bool:
    catalog = build_catalog(args.skus, seed=args.seed, variety=False,
                            quantity=(SPREAD_STOCK, SPREAD_STOCK))
    hot = sku_name(0)
    for item in catalog["source_items"]:
        if item["sku"] == hot:
            item["quantity"] = HOT_STOCK
    path = workdir / f"{name}.json"
    db = workdir / f"{name}.sqlite3"
    path.write_text(json.dumps(catalog))
    benchlib.import_catalog(path, db)

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

    server = benchlib.gateway_server(db, port, args.workers, {"GATEWAY_ADMIN_TOKEN": TOKEN})
    with server, subscribers(port, args.subscribers, hot):
        result = benchlib.run_load(port, make_request, concurrency=args.concurrency,
                                   warmup=args.warmup, duration=args.duration, check=check,
                                   server=server)
        print(f"{name:6} --workers {args.workers}: {result.summary('orders/s')}", flush=True)
        if args.profile:
            # After the measured window: its orders are accepted too, and verified below.
            benchlib.profile_under_load(server, lambda seconds: benchlib.run_load(
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
    args = parser.parse_args(argv)
    print(f"before: {benchlib.machine_note()}")
    print(f"placeOrder, 1 line of qty 1, concurrency {args.concurrency}, warm-up "
          f"{args.warmup:g} s, measured {args.duration:g} s, Python client on the same machine")
    ok = True
    with tempfile.TemporaryDirectory(prefix="gateway-bench-orders-",
                                     dir=args.tmpdir) as tmp:
        for name in args.scenario:
            ok = run_scenario(name, args, Path(tmp)) and ok
    if not ok:
        print("order accounting MISMATCH", file=sys.stderr)
    print(f"after: {benchlib.machine_note()}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
