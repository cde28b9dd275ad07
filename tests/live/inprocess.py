"""An app served by uvicorn inside the test's event loop, so a test can reach its hub.

The hub the app started is replaced by one on a :class:`~tests.live.fakes.FakeFeed` when a
test drives the changes itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from gateway.api.app import create_app
from gateway.services.live import AvailabilityHub, ChangeFeed
from gateway.settings import Settings
from tests.support import SHOP, TOKEN


@dataclass
class Served:
    app: Starlette
    http: str
    ws: str

    @property
    def hub(self) -> AvailabilityHub:
        hub: AvailabilityHub = self.app.state.live
        return hub

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *,
                  token: str | None = TOKEN) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(f"{self.http}/graphql", headers=headers,
                                         json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body


@contextlib.asynccontextmanager
async def serving(database: str, *, send_buffer: int | None = None,
                  **settings: Any) -> AsyncIterator[Served]:
    """Serve a fresh app on a free port (the shop loaded) until the block ends.

    ``send_buffer`` fixes the kernel send buffer of every accepted connection (in bytes), so
    that a client that stops reading blocks the server's sends soon."""
    settings.setdefault("admin_token", TOKEN)
    app = create_app(Settings(database=database, compact_interval=0, **settings))
    listener = socket.socket()
    if send_buffer is not None:  # accepted sockets inherit it (and lose autotuning)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        served = Served(app, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql")
        await served.gql("mutation($d: JSON!) { importCatalog(document: $d, replace: true) "
                         "{ ok } }", {"d": SHOP})
        yield served
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        listener.close()


@contextlib.asynccontextmanager
async def hub_on(served: Served, feed: ChangeFeed,
                 poll_interval: float = 0.02) -> AsyncIterator[AvailabilityHub]:
    """Replace the app's hub by one polling ``feed``."""
    hub = AvailabilityHub(feed, served.app.state.services.storefront,
                          poll_interval=poll_interval)
    previous, served.app.state.live = served.app.state.live, hub
    task = asyncio.create_task(hub.run())
    try:
        yield hub
    finally:
        served.app.state.live = previous
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
