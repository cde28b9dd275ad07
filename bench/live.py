"""Live availability benchmarks: event latency across processes, and subscribers under load.

``latency``: two ``gateway serve`` processes on one database file. A subscriber watches
``--skus`` SKUs on the first; orders for one SKU at a time go to the second (one every
``--gap`` seconds, jittered, so that each event answers exactly one order). For each order it
records when the request was sent, when its answer (the commit) came back, and when the
subscriber received the event; prints p50/p99 of answer → event (the commit happened before the
answer, so the true latency is at most send → event, also printed).

    .venv/bin/python bench/live.py latency --orders 200

``subscribe``: hold ``--count`` subscriptions (spread over ``--connections`` connections) on a
running server and count events until interrupted (``bench/orders.py --subscribers N`` runs it
beside its load).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

import benchlib
from make_catalog import CHANNEL, build_catalog, sku_name
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

TOKEN = "bench-admin-token"
WATCH = ("subscription($skus: [String!]!, $channel: String!) { availabilityChanged("
         "channel: $channel, skus: $skus) { sku salableQty isSalable onlyXLeft } }")
PLACE = ("mutation($id: String!, $channel: String!, $sku: String!) { placeOrder(orderId: $id, "
         "channel: $channel, lines: [{sku: $sku, quantity: 1}]) { ok } }")


async def open_subscription(port: int, skus: list[str], ws: ClientConnection | None = None,
                            sub_id: str = "1") -> ClientConnection:
    """A graphql-transport-ws connection (or ``ws``) subscribed to ``skus``."""
    if ws is None:
        ws = await connect(f"ws://{benchlib.HOST}:{port}/graphql", proxy=None,
                           subprotocols=[Subprotocol("graphql-transport-ws")])
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": sub_id, "type": "subscribe", "payload": {
        "query": WATCH, "variables": {"skus": skus, "channel": CHANNEL}}}))
    return ws


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def latency_run(args: argparse.Namespace, sub_port: int, order_port: int
                      ) -> tuple[list[float], list[float], int]:
    """(answer → event, send → event, lost) for every order."""
    skus = [sku_name(n) for n in range(args.skus)]
    ws = await open_subscription(sub_port, skus)
    for _ in skus:  # the snapshot
        assert json.loads(await ws.recv())["type"] == "next"
    arrived: dict[str, asyncio.Future[float]] = {}

    async def listen() -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "next":
                sku = message["payload"]["data"]["availabilityChanged"]["sku"]
                waiter = arrived.get(sku)
                if waiter is not None and not waiter.done():
                    waiter.set_result(time.monotonic())

    listener = asyncio.create_task(listen())
    rng = random.Random(args.seed)
    reader, writer = await asyncio.open_connection(benchlib.HOST, order_port)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    from_answer: list[float] = []
    from_send: list[float] = []
    lost = 0
    loop = asyncio.get_running_loop()
    for n in range(args.orders):
        sku = skus[n % len(skus)]
        arrived[sku] = loop.create_future()
        body = benchlib.graphql_body(PLACE, {"id": f"live-{n}", "channel": CHANNEL, "sku": sku})
        sent = time.monotonic()
        writer.write(benchlib.post_request("/graphql", body, order_port, headers))
        status, answer = await benchlib._read_response(reader)
        answered = time.monotonic()
        assert status == 200 and json.loads(answer)["data"]["placeOrder"]["ok"], answer
        try:
            event = await asyncio.wait_for(arrived[sku], 5)
        except TimeoutError:
            lost += 1
        else:
            from_answer.append(max(0.0, event - answered))
            from_send.append(event - sent)
        await asyncio.sleep(args.gap * rng.uniform(0.5, 1.5))
    listener.cancel()
    writer.close()
    await ws.close()
    return from_answer, from_send, lost


def latency(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        workdir = Path(tmp)
        catalog = workdir / "catalog.json"
        catalog.write_text(json.dumps(build_catalog(args.skus, seed=args.seed, variety=False,
                                                    quantity=(1_000_000, 1_000_000))))
        db = workdir / "live.sqlite3"
        benchlib.import_catalog(catalog, db)
        env = {"GATEWAY_ADMIN_TOKEN": TOKEN, "GATEWAY_LIVE_MAX_SKUS": str(args.skus),
               "GATEWAY_LIVE_POLL_INTERVAL": str(args.poll)}
        sub_port, order_port = benchlib.free_port(), benchlib.free_port()
        with benchlib.gateway_server(db, sub_port, 1, env), \
                benchlib.gateway_server(db, order_port, 1, env):
            from_answer, from_send, lost = asyncio.run(latency_run(args, sub_port, order_port))
    print(f"{benchlib.machine_note()}; poll interval {args.poll} s; {args.orders} orders, "
          f"{lost} events missing")
    for label, values in (("order answered -> event", from_answer),
                          ("order sent -> event", from_send)):
        print(f"  {label:24} p50 {percentile(values, 50) * 1000:6.1f} ms  "
              f"p99 {percentile(values, 99) * 1000:6.1f} ms  "
              f"max {max(values) * 1000:6.1f} ms")
    return 1 if lost else 0


async def hold(args: argparse.Namespace) -> None:
    per_connection = -(-args.count // args.connections)
    skus = [sku_name(n) for n in range(args.skus)]
    sockets: list[ClientConnection] = []
    opened = 0
    while opened < args.count:
        ws = None
        for index in range(min(per_connection, args.count - opened)):
            ws = await open_subscription(args.port, skus, ws, sub_id=str(index))
            opened += 1
        assert ws is not None
        sockets.append(ws)
    events = 0

    async def count(ws: ClientConnection) -> None:
        nonlocal events
        async for raw in ws:
            events += json.loads(raw)["type"] == "next"

    tasks = [asyncio.create_task(count(ws)) for ws in sockets]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    print(f"subscribed: {opened} subscriptions on {len(sockets)} connections", flush=True)
    await stop.wait()
    for task in tasks:
        task.cancel()
    with contextlib.suppress(Exception):
        await asyncio.gather(*(ws.close() for ws in sockets))
    print(f"subscribers received {events} events", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    lat = commands.add_parser("latency", help="order committed -> event, across processes")
    lat.add_argument("--orders", type=int, default=200)
    lat.add_argument("--skus", type=int, default=50, help="watched SKUs (default 50)")
    lat.add_argument("--gap", type=float, default=0.1, help="mean seconds between orders")
    lat.add_argument("--poll", type=float, default=0.15,
                     help="GATEWAY_LIVE_POLL_INTERVAL of the servers (default 0.15)")
    lat.add_argument("--seed", type=int, default=1)
    sub = commands.add_parser("subscribe", help="hold subscriptions on a running server")
    sub.add_argument("--port", type=int, required=True)
    sub.add_argument("--count", type=int, default=100)
    sub.add_argument("--connections", type=int, default=10)
    sub.add_argument("--skus", type=int, default=20, help="SKUs per subscription")
    args = parser.parse_args(argv)
    if args.command == "latency":
        return latency(args)
    asyncio.run(hold(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
