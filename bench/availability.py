"""Storefront read benchmark: the 20-SKU ``availability`` query against ``gateway serve``,
and the same question against a hand-written Starlette + sqlite3 baseline (bench/baseline_app.py).

Generates a catalog (bench/make_catalog.py), imports it into a temporary database with
``gateway import``, starts ``gateway serve --workers N`` on 127.0.0.1, waits for /healthz,
checks one answer, then drives the query (SKUs in variables) at fixed concurrency: a warm-up,
then a measured window. The baseline is served by uvicorn the same way and measured with the
same client; the ratio gateway/baseline is printed. Client and server share the machine's
cores: the client's and server's CPU use in the window are printed too.

    .venv/bin/python bench/availability.py --workers 1 2 --duration 10
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

import benchlib
from make_catalog import CHANNEL, build_catalog, sku_name

QUERY = ("query Availability($channel: String!, $skus: [String!]!) {"
         " availability(channel: $channel, skus: $skus) {"
         " sku isSalable salableQty onlyXLeft"
         " quantityRule { minimum maximum increment allowsDecimals } } }")


def _check(status: int, body: bytes) -> None:
    if b'"errors":' in body[:200]:
        raise RuntimeError(f"GraphQL errors: {body[:200]!r}")


def _verify(port: int, request: bytes, count: int) -> None:
    """One request, answered with ``count`` entries and no error (before measuring)."""
    import socket

    with socket.create_connection((benchlib.HOST, port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        while len(body) < length:
            body += s.recv(65536)
    answer = json.loads(body)
    if "errors" in answer or len(answer["data"]["availability"]) != count:
        raise SystemExit(f"unexpected answer: {body[:300]!r}")


def measure(server: benchlib.Server, request: bytes, body: bytes,
            args: argparse.Namespace, workdir: Path) -> benchlib.LoadResult:
    with server:
        _verify(server.port, request, args.query_skus)
        if args.client == "wrk":
            return benchlib.run_wrk(server.port, "/graphql", body, concurrency=args.concurrency,
                                    warmup=args.warmup, duration=args.duration,
                                    workdir=workdir, server=server)
        return benchlib.run_load(server.port, lambda _: request, concurrency=args.concurrency,
                                 warmup=args.warmup, duration=args.duration,
                                 check=_check, server=server)


def profile(db: Path, body: bytes, args: argparse.Namespace, workdir: Path) -> None:
    """py-spy on the gateway (every worker) during a load run; prints the top frames."""
    port = benchlib.free_port()
    request = benchlib.post_request("/graphql", body, port)
    with benchlib.gateway_server(db, port, args.workers[0]) as server:
        benchlib.profile_under_load(server, lambda seconds: benchlib.run_load(
            port, lambda _: request, concurrency=args.concurrency, warmup=0.0,
            duration=seconds), args.profile, workdir / "profile.txt", args.profile_top,
            args.profile_output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="gateway/baseline worker processes; several values = several runs "
                             "(default 1)")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="open connections, one request in flight each (default 32)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds (default 3)")
    parser.add_argument("--skus", type=int, default=1000, help="catalog size (default 1000)")
    parser.add_argument("--query-skus", type=int, default=20, help="SKUs per query (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmpdir", default=None,
                        help="where the temporary database goes (default: the system temp "
                             "dir; /dev/shm takes fsync out of the picture)")
    parser.add_argument("--client", choices=("python", "wrk"), default="python",
                        help="load generator: the built-in asyncio client (default) or wrk -t1")
    parser.add_argument("--no-baseline", action="store_true", help="measure the gateway only")
    parser.add_argument("--profile", type=float, default=0.0, metavar="SECONDS",
                        help="after the runs, py-spy the gateway (first --workers value) for "
                             "SECONDS under the same load and print the top frames")
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--profile-output", help="keep py-spy's collapsed stacks in this file")
    args = parser.parse_args(argv)
    if args.client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install -y wrk)")

    skus = [sku_name(i) for i in
            random.Random(args.seed).sample(range(args.skus), args.query_skus)]
    body = benchlib.graphql_body(QUERY, {"channel": CHANNEL, "skus": skus})
    with tempfile.TemporaryDirectory(prefix="gateway-bench-", dir=args.tmpdir) as tmp:
        workdir = Path(tmp)
        catalog = workdir / "catalog.json"
        db = workdir / "gateway.sqlite3"
        catalog.write_text(json.dumps(build_catalog(args.skus, seed=args.seed)))
        benchlib.import_catalog(catalog, db)
        print(f"before: {benchlib.machine_note()}")
        print(f"catalog {args.skus} SKUs, query {args.query_skus} SKUs, concurrency "
              f"{args.concurrency}, warm-up {args.warmup:g} s, measured {args.duration:g} s, "
              f"client {args.client} (same machine as the server)")
        for workers in args.workers:
            port = benchlib.free_port()
            request = benchlib.post_request("/graphql", body, port)
            gateway = measure(benchlib.gateway_server(db, port, workers), request, body,
                              args, workdir)
            print(f"gateway  --workers {workers}: {gateway.summary()}", flush=True)
            if args.no_baseline:
                continue
            port = benchlib.free_port()
            request = benchlib.post_request("/graphql", body, port)
            server = benchlib.Server(
                [benchlib.PYTHON, str(benchlib.BENCH / "baseline_app.py"), "--db", str(db),
                 "--port", str(port), "--workers", str(workers)], port, name="baseline")
            baseline = measure(server, request, body, args, workdir)
            print(f"baseline --workers {workers}: {baseline.summary()}")
            print(f"ratio gateway/baseline --workers {workers}: "
                  f"{gateway.rate / baseline.rate:.3f}x", flush=True)
        if args.profile:
            profile(db, body, args, workdir)
    print(f"after: {benchlib.machine_note()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
