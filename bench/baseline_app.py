"""Baseline for bench/availability.py: a hand-written Starlette + stdlib sqlite3 endpoint.

It answers the same storefront question as the gateway's ``availability`` query, as cheaply as
a hand-written endpoint would: it accepts the very same POST body on ``/graphql`` (ignores the
query text, reads ``variables.skus`` and ``variables.channel``), reads the gateway database's
``source_items`` and the reservation totals (``stock_facts.reserved``) for those SKUs with one
blocking sqlite3 statement
each on the event loop, computes ``salable = Σ in-stock qty (enabled, linked sources) +
reserved``, and returns JSON in the same shape (``isSalable``, ``salableQty``; no settings
inheritance, no quantity rule, no GraphQL). Served by uvicorn like ``gateway serve``: access
log off, stdlib asyncio loop.

    .venv/bin/python bench/baseline_app.py --db /tmp/x.sqlite3 --port 8001 --workers 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ITEMS = """SELECT i.sku, i.quantity FROM source_items AS i
    JOIN stock_source_links AS l ON l.source_code = i.source_code AND l.stock_id = ?
    JOIN sources AS s ON s.code = i.source_code AND s.enabled = 1
    WHERE i.status = 'in_stock' AND i.sku IN (SELECT value FROM json_each(?))"""
TOTALS = """SELECT sku, reserved FROM stock_facts
    WHERE stock_id = ? AND sku IN (SELECT value FROM json_each(?))"""
CHANNELS = "SELECT channel, stock_id FROM stock_channels"


def create_app(database: str) -> Starlette:
    state: dict[str, object] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, isolation_level=None)
        state["conn"] = conn
        state["channels"] = dict(conn.execute(CHANNELS).fetchall())
        try:
            yield
        finally:
            conn.close()

    async def availability(request: Request) -> Response:
        variables = json.loads(await request.body())["variables"]
        skus: list[str] = variables["skus"]
        stock_id = state["channels"][variables["channel"]]  # type: ignore[index]
        conn: sqlite3.Connection = state["conn"]  # type: ignore[assignment]
        keys = json.dumps(skus)
        physical: dict[str, float] = {}
        for sku, qty in conn.execute(ITEMS, (stock_id, keys)):
            physical[sku] = physical.get(sku, 0.0) + float(qty)
        reserved = {sku: float(total) for sku, total in conn.execute(TOTALS, (stock_id, keys))}
        answer = []
        for sku in skus:
            salable = physical.get(sku, 0.0) + reserved.get(sku, 0.0)
            answer.append({"sku": sku, "isSalable": salable > 0,
                           "salableQty": max(salable, 0.0)})
        return JSONResponse({"data": {"availability": answer}})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/graphql", availability, methods=["POST"]),
                             Route("/healthz", healthz, methods=["GET"])], lifespan=lifespan)


def app_from_env() -> Starlette:
    return create_app(os.environ["BASELINE_DATABASE"])


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a gateway SQLite database (read only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ["BASELINE_DATABASE"] = args.db
    uvicorn.run("baseline_app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, access_log=False, loop="asyncio", log_level="warning",
                app_dir=str(Path(__file__).resolve().parent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
