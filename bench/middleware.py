"""Per-request cost of the operations middleware (request id + metrics + access log).

Measurements interleaving rounds with and without the middleware (the machine is
shared: interleaving spreads its noise over both sides) and reporting the median difference:

- ``micro``: the middleware around a trivial ASGI app that answers 200 at once and says it ran
  a GraphQL operation (so the operation labels and the latency histogram are exercised), with
  metrics in memory and in multiprocess files (as under ``gateway serve``).
- ``statement``: the timing hook around each store statement (a histogram observation).

A whole-app comparison (20-SKU ``availability`` through the ASGI app with and without the
middleware) was tried and dropped: on this shared 2-core machine its round-to-round noise
(±400 µs on ~4 ms) is twenty times the effect being measured.

    .venv/bin/python bench/middleware.py                # default sizes
    .venv/bin/python bench/middleware.py --rounds 15 --requests 20000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchlib import machine_note  # noqa: E402
from gateway import metrics  # noqa: E402
from gateway.api.middleware import RequestContext  # noqa: E402
from gateway.logs import CURRENT_REQUEST  # noqa: E402
from gateway.metrics import GatewayMetrics  # noqa: E402

Call = Callable[[], Awaitable[None]]


class FakeExecution:
    operation_name = "Shelf"

    class operation_type:
        value = "query"


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


def scope(body_length: int = 0) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/graphql", "raw_path": b"/graphql",
            "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                        (b"content-length", str(body_length).encode()),
                        (b"user-agent", b"bench"), (b"accept", b"*/*")],
            "query_string": b""}


async def trivial(scope: Any, receive: Any, send: Any) -> None:
    state = CURRENT_REQUEST.get()
    if state is not None:
        state.execution = FakeExecution
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def per_request_us(call: Call, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        await call()
    return (time.perf_counter() - started) / requests * 1e6


async def compare(bare: Call, wrapped: Call, rounds: int, requests: int) -> tuple[float, float]:
    """Median per-request time without, and median difference with, the middleware (µs)."""
    for call in (bare, wrapped):  # warm-up
        await per_request_us(call, max(requests // 10, 10))
    without, differences = [], []
    for _ in range(rounds):
        a = await per_request_us(bare, requests)
        b = await per_request_us(wrapped, requests)
        without.append(a)
        differences.append(b - a)
    return statistics.median(without), statistics.median(differences)


async def micro(rounds: int, requests: int, directory: str | None) -> tuple[float, float]:
    wrapped = RequestContext(trivial, metrics=GatewayMetrics(directory), access_log=False)
    request = scope()
    return await compare(lambda: trivial(request, _receive, _send),
                         lambda: wrapped(request, _receive, _send), rounds, requests)


def statement_hook_us(calls: int) -> float:
    """Cost of the store's statement timing (two calls around each SQL statement)."""
    started = time.perf_counter()
    for _ in range(calls):
        metrics.statement_done(metrics.statement_started())
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=20000, help="per round (micro)")
    args = parser.parse_args()
    print(machine_note())
    base, cost = asyncio.run(micro(args.rounds, args.requests, None))
    print(f"micro, metrics in memory:        +{cost:6.1f} µs per request "
          f"(trivial app alone {base:.1f} µs)")
    # From here on, metric values live in files (once per process), as under `gateway serve`.
    with tempfile.TemporaryDirectory() as directory:
        base, cost = asyncio.run(micro(args.rounds, args.requests, directory))
        print(f"micro, multiprocess files:       +{cost:6.1f} µs per request "
              f"(trivial app alone {base:.1f} µs)")
        metrics.install(GatewayMetrics(directory))
        hook = statistics.median(statement_hook_us(args.requests) for _ in range(args.rounds))
        print(f"store statement timing (files):  +{hook:6.1f} µs per SQL statement "
              "(one statement per storefront request)")


if __name__ == "__main__":
    main()
