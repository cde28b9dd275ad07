"""The compiled lane and the HTTP stack, measured: 20 random SKUs per request, as the read-path
yardstick asks them (``query($c: String!, $s: [String!]!) { availability(channel: $c,
skus: $s) { sku stockStatus salableQty onlyXLeft quantityRule { minimum maximum increment
allowsDecimals } } }``).

``inproc``: the whole ASGI app (middleware included) called in this process, no HTTP, lane
on and off in interleaved rounds; microseconds per request (median of the rounds).
``--stub`` answers the service from memory (the availabilities of a pool of SKUs, read
once), so what remains is the API layer's own cost.

``http``: ``gateway serve``'s stack (guarded protocol, 1 worker, access log off) for each
variant — lane on/off, httptools/h11, asyncio/uvloop (``.venv/bin/pip install uvloop``) —
driven by ``wrk -t1 -c32`` with random SKUs per request, interleaved rounds; req/s, p50, p99
and the server's CPU time per request (its processes' user + system time over the round:
the figure least disturbed by other load on a shared machine) of each round, and medians.

    .venv/bin/python bench/lane.py inproc --db DB [--stub]
    .venv/bin/python bench/lane.py http --db DB --variants lane:httptools:asyncio \\
        nolane:h11:asyncio lane:h11:asyncio lane:httptools:uvloop --rounds 3 --duration 6

``--db`` is a database made by ``gateway import`` (SKUs are read from it; channel ``web`` by
default); without it a 20,000-SKU catalog (bench/make_catalog.py) is imported first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib
from make_catalog import build_catalog

QUERY = ("query($c: String!, $s: [String!]!) { availability(channel: $c, skus: $s) { sku "
         "stockStatus salableQty onlyXLeft quantityRule { minimum maximum increment "
         "allowsDecimals } } }")
SKUS_PER_REQUEST = 20
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local skus = dofile("%(skus)s")
local head = %(head)s
request = function()
  local parts = {}
  for i = 1, %(count)d do parts[i] = '"' .. skus[math.random(#skus)] .. '"' end
  return wrk.format(nil, nil, nil, head .. table.concat(parts, ",") .. ']}}')
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%%.1f p50_ms=%%.3f p99_ms=%%.3f errors=%%d reqs=%%d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.read
    + summary.errors.write + summary.errors.timeout + summary.errors.connect, summary.requests))
end
"""


def database(args: argparse.Namespace, workdir: Path) -> Path:
    if args.db:
        return Path(args.db)
    catalog, db = workdir / "catalog.json", workdir / "gateway.sqlite3"
    catalog.write_text(json.dumps(build_catalog(20_000)))
    benchlib.import_catalog(catalog, db)
    return db


def sku_names(db: Path) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return [row[0] for row in connection.execute("SELECT sku FROM products")]


def body(channel: str, skus: list[str]) -> bytes:
    return json.dumps({"query": QUERY, "variables": {"c": channel, "s": skus}},
                      separators=(",", ":")).encode()


# -- in process ------------------------------------------------------------------------------

def inproc(args: argparse.Namespace, db: Path) -> None:
    from gateway.api.app import create_app
    from gateway.settings import Settings

    names = sku_names(db)
    rnd = random.Random(7)
    pool = rnd.sample(names, min(len(names), 2000)) if args.stub else names
    bodies = [body(args.channel, rnd.sample(pool, SKUS_PER_REQUEST))
              for _ in range(args.requests)]

    async def run() -> None:
        async with contextlib.AsyncExitStack() as stack:
            settings = Settings(database=str(db), admin_token="bench-token")
            apps = {"lane": create_app(settings, lane=True),
                    "normal path": create_app(settings, lane=False)}
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
                if args.stub:
                    await _stub_service(app, args.channel, pool)
            await measure(apps)

    async def measure(apps: dict[str, Any]) -> None:
        timings: dict[str, list[float]] = {name: [] for name in apps}
        for round_ in range(args.rounds + 1):
            for name, app in apps.items():
                started = time.perf_counter()
                for request in bodies:
                    await _call(app, request)
                if round_:  # the first round warms up (the lane learns the document)
                    timings[name].append((time.perf_counter() - started) / len(bodies) * 1e6)
        for name, values in timings.items():
            print(f"{name:12} {statistics.median(values):7.1f} µs/request, best {min(values):.1f} "
                  f"(rounds: {', '.join(f'{v:.0f}' for v in values)})")

    print(benchlib.machine_note())
    asyncio.run(run())


async def _stub_service(app: Any, channel: str, pool: list[str]) -> None:
    """Answer the storefront service from the availabilities of ``pool``, read once."""
    storefront = app.state.services.storefront
    known = dict(zip(pool, await storefront.availability(channel, pool, None), strict=True))

    async def availability(channel: str, skus: list[str], group: str | None = None,
                           **options: Any) -> Any:
        return [known[sku] for sku in skus]

    storefront.availability = availability


async def _call(app: Any, request: bytes) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": request, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"status {message['status']}")

    await app({"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
               "method": "POST", "scheme": "http", "path": "/graphql",
               "raw_path": b"/graphql", "query_string": b"", "root_path": "",
               "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                           (b"content-length", str(len(request)).encode())],
               "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}, receive, send)


# -- over HTTP -------------------------------------------------------------------------------

def serve(args: argparse.Namespace) -> None:
    """One server of a variant (run as a subprocess by ``http``)."""
    import functools

    from gateway.api.app import create_app
    from gateway.connections import GuardedH11Protocol, GuardedHttpToolsProtocol
    from gateway.logs import logging_config
    from gateway.server import serve as run
    from gateway.settings import Settings

    settings = Settings(database=args.db, admin_token="bench-token", log_level="warning")
    protocol = GuardedH11Protocol if args.http == "h11" else GuardedHttpToolsProtocol
    run(functools.partial(create_app, settings, lane=args.lane == "lane"), settings,
        host=benchlib.HOST, port=args.port, workers=1, loop=args.loop, http=protocol,
        log_config=logging_config("warning"))


def http(args: argparse.Namespace, db: Path, workdir: Path) -> None:
    names = sku_names(db)
    skus = workdir / "skus.lua"
    skus.write_text("return {" + ",".join(json.dumps(n) for n in names) + "}\n")
    head = body(args.channel, [])[:-3].decode()  # up to '"s":['
    script = workdir / "random.lua"
    script.write_text(LUA % {"skus": skus, "head": json.dumps(head),
                             "count": SKUS_PER_REQUEST})
    results: dict[str, list[tuple[float, float, float, float]]] = {
        v: [] for v in args.variants}
    servers = {}
    for variant in args.variants:
        lane, parser, loop = variant.split(":")
        port = benchlib.free_port()
        servers[variant] = benchlib.Server(
            [sys.executable, __file__, "serve", "--db", str(db), "--port", str(port),
             "--lane", lane, "--http", parser, "--loop", loop], port, name=variant)
    print(benchlib.machine_note())
    try:
        for server in servers.values():
            server.start(timeout=60)
            _wrk(server.port, script, 2)  # warm-up: the lane learns the document
        for round_ in range(1, args.rounds + 1):
            for variant, server in servers.items():
                cpu = server.cpu_seconds()
                rps, p50, p99, errors, requests = _wrk(server.port, script, args.duration)
                cost = (server.cpu_seconds() - cpu) / max(requests, 1) * 1e6
                results[variant].append((rps, p50, p99, cost))
                print(f"round {round_} {variant:28} {rps:8.1f} req/s  p50 {p50:6.2f} ms  "
                      f"p99 {p99:6.2f} ms  {cost:5.0f} µs CPU/request  errors {errors}  "
                      f"load {os.getloadavg()[0]:.2f}")
    finally:
        for server in servers.values():
            server.stop()
    for variant, rows in results.items():
        rps, p50, p99, cost = (statistics.median(column) for column in zip(*rows, strict=True))
        print(f"median {variant:27} {rps:8.1f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
              f"{cost:5.0f} µs CPU/request")


def _wrk(port: int, script: Path, seconds: float) -> tuple[float, float, float, int, int]:
    out = subprocess.run(["wrk", "-t1", "-c32", f"-d{round(seconds)}s", "-s", str(script),
                          f"http://{benchlib.HOST}:{port}/graphql"],
                         capture_output=True, text=True, check=True).stdout
    found = re.search(r"rps=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+) errors=(\d+) "
                      r"reqs=(\d+)", out)
    if found is None:
        raise RuntimeError(f"wrk said: {out}")
    return (float(found[1]), float(found[2]), float(found[3]), int(found[4]), int(found[5]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("inproc", "http", "serve"):
        command = sub.add_parser(name)
        command.add_argument("--db")
        command.add_argument("--channel", default="web")
    sub.choices["inproc"].add_argument("--requests", type=int, default=1000)
    sub.choices["inproc"].add_argument("--rounds", type=int, default=5)
    sub.choices["inproc"].add_argument("--stub", action="store_true",
                                       help="answer the service from memory")
    sub.choices["http"].add_argument("--variants", nargs="+", default=[
        "lane:httptools:asyncio", "nolane:h11:asyncio"],
        help="lane|nolane : httptools|h11 : asyncio|uvloop")
    sub.choices["http"].add_argument("--rounds", type=int, default=3)
    sub.choices["http"].add_argument("--duration", type=float, default=6)
    serve_args = sub.choices["serve"]
    serve_args.add_argument("--port", type=int, required=True)
    serve_args.add_argument("--lane", choices=["lane", "nolane"], default="lane")
    serve_args.add_argument("--http", choices=["httptools", "h11"], default="httptools")
    serve_args.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    if args.command == "serve":
        serve(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-lane-") as directory:
        workdir = Path(directory)
        db = database(args, workdir)
        if args.command == "inproc":
            inproc(args, db)
        else:
            http(args, db, workdir)


if __name__ == "__main__":
    main()
