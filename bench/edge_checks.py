"""What the edge checks cost per request, on the request of ``availability.py`` (20 SKUs in
variables): the Unicode check of the body, the middleware (one Authorization header, body
limit by credential), and the checks run before execution (list lengths, query cost,
identifiers). Each figure is the best of 7 runs of 20,000 calls, in microseconds.

    .venv/bin/python bench/edge_checks.py
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import timeit
from collections.abc import Callable
from typing import Any

import graphql

from gateway.api.edge import EdgeGuard
from gateway.api.guards import check_operation
from gateway.api.schema import build_schema
from gateway.api.unicode import decode_request_text, may_hold_surrogates
from gateway.settings import Settings

QUERY = ("query Availability($channel: String!, $skus: [String!]!) {"
         " availability(channel: $channel, skus: $skus) {"
         " sku isSalable salableQty onlyXLeft"
         " quantityRule { minimum maximum increment allowsDecimals } } }")
VARIABLES = {"channel": "web", "skus": [f"BENCH-{i:05d}" for i in range(0, 1000, 50)]}
BODY = json.dumps({"query": QUERY, "variables": VARIABLES}).encode()
CALLS = 20_000
RUNS = 7


def best(call: Callable[[], object]) -> float:
    call()
    return min(timeit.repeat(call, number=CALLS, repeat=RUNS)) / CALLS * 1e6


def middleware_overhead() -> float:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: Any) -> None:
        pass

    scope = {"type": "http", "headers": [(b"host", b"x"), (b"content-type", b"application/json"),
                                         (b"content-length", str(len(BODY)).encode())]}
    guard = EdgeGuard(app, Settings())
    loop = asyncio.new_event_loop()

    def per_call(target: Any) -> float:
        async def run() -> None:
            for _ in range(CALLS):
                await target(scope, receive, send)
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            loop.run_until_complete(run())
            times.append(time.perf_counter() - start)
        return min(times) / CALLS * 1e6

    try:
        return per_call(guard) - per_call(app)
    finally:
        loop.close()


def main() -> None:
    settings = Settings()
    schema = build_schema(settings)._schema
    document = graphql.parse(QUERY)

    def checks() -> None:
        verdict = check_operation(schema, document, VARIABLES, "Availability", settings, False)
        assert verdict.refusal is None

    one, five, _ = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {one:.2f} (1 min) {five:.2f} (5 min)")
    print(f"body text (strict UTF-8, surrogate escapes), {len(BODY)} bytes: "
          f"{best(lambda: may_hold_surrogates(decode_request_text(BODY))):.2f} us")
    print(f"middleware (Authorization, body limit): {middleware_overhead():.2f} us")
    print(f"before execution (list lengths, cost, 21 identifiers): {best(checks):.2f} us")


if __name__ == "__main__":
    main()
