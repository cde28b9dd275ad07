"""Shared test support: the shop catalog, an Api helper over ASGITransport, app fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.api.app import create_app
from gateway.services import Services
from gateway.settings import Settings

TOKEN = "test-admin-token"

SHOP: dict[str, Any] = {
    "format": "availability-catalog/1",
    "config": {"min_sale_qty_by_group": {"wholesale": 10}},
    "sources": [
        {"code": "eu-1", "name": "Paris", "enabled": True, "latitude": 48.85, "longitude": 2.35,
         "country": "FR", "postcode": "75001"},
        {"code": "eu-2", "name": "Berlin", "enabled": True, "latitude": 52.52,
         "longitude": 13.40, "country": "DE", "postcode": "10115"},
        {"code": "eu-off", "name": "Closed", "enabled": False},
        {"code": "us-1", "name": "New York", "enabled": True, "latitude": 40.71,
         "longitude": -74.0, "country": "US", "postcode": "10001"},
    ],
    "stocks": [
        {"id": 10, "name": "EU", "channels": ["eu_website"],
         "sources": [{"code": "eu-1", "priority": 1}, {"code": "eu-2", "priority": 2},
                     {"code": "eu-off", "priority": 3}],
         "config": {"stock_threshold_qty": 5}},
        {"id": 20, "name": "US", "channels": ["us_website"],
         "sources": [{"code": "us-1", "priority": 1}]},
    ],
    "products": [
        {"sku": "SHIRT", "name": "Shirt"},
        {"sku": "FABRIC", "name": "Fabric", "config": {"is_qty_decimal": True,
                                                       "is_decimal_divided": True}},
        {"sku": "PACK", "name": "Pack of 6", "config": {"enable_qty_increments": True,
                                                        "qty_increments": 6}},
        {"sku": "BACKORDER", "name": "Backorderable",
         "config": {"backorders": "allow_notify", "min_qty": -5}},
        {"sku": "EBOOK", "name": "E-book", "config": {"manage_stock": False}},
        {"sku": "GONE", "name": "All out of stock", "config": {"backorders": "allow"}},
        {"sku": "US-ONLY", "name": "US only"},
    ],
    "source_items": [
        {"sku": "SHIRT", "source": "eu-1", "quantity": 5.5, "status": "in_stock"},
        {"sku": "SHIRT", "source": "eu-2", "quantity": 3, "status": "in_stock",
         "config": {"notify_stock_qty": 4}},
        {"sku": "SHIRT", "source": "eu-off", "quantity": 100, "status": "in_stock"},
        {"sku": "SHIRT", "source": "us-1", "quantity": 7, "status": "in_stock"},
        {"sku": "FABRIC", "source": "eu-1", "quantity": 120.5, "status": "in_stock"},
        {"sku": "PACK", "source": "eu-1", "quantity": 60, "status": "in_stock"},
        {"sku": "BACKORDER", "source": "eu-2", "quantity": 2, "status": "in_stock"},
        {"sku": "EBOOK", "source": "eu-1", "quantity": 0, "status": "out_of_stock"},
        {"sku": "GONE", "source": "eu-1", "quantity": 10, "status": "out_of_stock"},
        {"sku": "US-ONLY", "source": "us-1", "quantity": 9, "status": "in_stock"},
    ],
    "reservations": [
        {"sku": "SHIRT", "stock": 10, "quantity": -1.5,
         "metadata": {"event_type": "order_placed", "order_id": "100001"}},
    ],
}


@dataclass
class Api:
    client: httpx.AsyncClient
    services: Services

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *,
                  token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post("/graphql", json={"query": query,
                                                            "variables": variables or {}},
                                          headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None, *,
                   token: str | None = None) -> dict[str, Any]:
        body = await self.gql(query, variables, token=token)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def load(self, document: dict[str, Any], replace: bool = True) -> None:
        data = await self.data(
            "mutation($d: JSON!, $r: Boolean!) { importCatalog(document: $d, replace: $r) "
            "{ ok errors { path message } } }", {"d": document, "r": replace}, token=TOKEN)
        assert data["importCatalog"] == {"ok": True, "errors": []}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "gateway.sqlite3"


@pytest.fixture
def make_api(db_path: Path) -> Callable[..., Any]:
    """Open an app on ``db_path`` (lifespan included) and yield an :class:`Api`."""
    import contextlib

    @contextlib.asynccontextmanager
    async def open_api(**settings: Any) -> AsyncIterator[Api]:
        settings.setdefault("admin_token", TOKEN)
        app = create_app(Settings(database=str(db_path), **settings))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Api(client, app.state.services)

    return open_api


@pytest.fixture
async def api(make_api: Callable[..., Any]) -> AsyncIterator[Api]:
    async with make_api() as opened:
        await opened.load(SHOP)
        yield opened
