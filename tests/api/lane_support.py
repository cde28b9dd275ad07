"""Two apps on one database, one with the compiled lane and one without, for comparing answers.

Every request can be sent to both (:meth:`Pair.both`): the answers must be identical — status,
headers and body bytes (the request id is fixed by the caller so it matches too). Mutations
need one database per app (``separate=True``): each app then sees every request once, so both
databases go through the same states.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette

from gateway.api.app import GatewayGraphQL, create_app
from gateway.api.lane import Lane
from gateway.settings import Settings
from tests.support import SHOP, TOKEN

REQUEST_ID = "lane-test-0001"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


def graphql_view(app: Starlette) -> GatewayGraphQL:
    for route in app.routes:
        view = getattr(route, "app", None)
        if isinstance(view, GatewayGraphQL):
            return view
    raise AssertionError("no GraphQL route")


@dataclass
class Pair:
    on: httpx.AsyncClient
    off: httpx.AsyncClient
    lane: Lane
    apps: tuple[Starlette, Starlette]

    async def send(self, client: httpx.AsyncClient, body: Any, *, token: bool = False,
                   raw: bytes | None = None, content_type: str = "application/json",
                   authorization: str | None = None) -> Answer:
        headers = {"x-request-id": REQUEST_ID, "content-type": content_type}
        if token:
            headers["authorization"] = f"Bearer {TOKEN}"
        if authorization is not None:
            headers["authorization"] = authorization
        content = raw if raw is not None else orjson.dumps(body)
        response = await client.post("/graphql", content=content, headers=headers)
        return Answer(response.status_code, list(response.headers.raw), response.content)

    async def both(self, body: Any, **options: Any) -> tuple[Answer, Answer]:
        """The answer of the app with the lane, then of the app without."""
        return (await self.send(self.on, body, **options),
                await self.send(self.off, body, **options))


@contextlib.asynccontextmanager
async def open_pair(db: Path, *, separate: bool = False, **settings: Any
                    ) -> AsyncIterator[Pair]:
    """Both apps on ``db`` (the shop loaded through the one without the lane), or, when
    ``separate``, the app without the lane on a database of its own beside ``db``."""
    settings.setdefault("admin_token", TOKEN)
    config = Settings(database=str(db), **settings)
    off_config = Settings(database=str(db.with_name(f"off-{db.name}")), **settings) \
        if separate else config
    on, off = create_app(config, lane=True), create_app(off_config, lane=False)
    async with on.router.lifespan_context(on), off.router.lifespan_context(off), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=on),
                              base_url="http://test") as on_client, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=off),
                              base_url="http://test") as off_client:
        lane = graphql_view(on).lane
        assert lane is not None and graphql_view(off).lane is None
        pair = Pair(on_client, off_client, lane, (on, off))
        for client in (off_client, on_client) if separate else (off_client,):
            loaded = await pair.send(client, {
                "query": "mutation($d: JSON!) { importCatalog(document: $d, replace: true) "
                         "{ ok } }", "variables": {"d": SHOP}}, token=True)
            assert loaded.json()["data"] == {"importCatalog": {"ok": True}}, loaded.body
        lane.missed.clear()  # the tests count from here
        yield pair
