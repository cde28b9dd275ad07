"""A small graphql-transport-ws client over ``websockets`` (what graphql-ws does in a browser)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

PROTOCOL = "graphql-transport-ws"


class LiveClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, *, origin: str | None = None,
                      headers: dict[str, str] | None = None,
                      subprotocol: str = PROTOCOL, **options: Any) -> AsyncIterator[LiveClient]:
        """Connect and initialise (connection_init, then wait for connection_ack)."""
        async with connect(url, subprotocols=[Subprotocol(subprotocol)],
                           origin=Origin(origin) if origin else None, additional_headers=headers,
                           proxy=None, open_timeout=10, **options) as ws:
            client = cls(ws)
            await client.send({"type": "connection_init", "payload": {}})
            assert (await client.receive())["type"] == "connection_ack"
            yield client

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, wait: float = 5.0) -> dict[str, Any]:
        """The next message that is not a ping (pings are answered)."""
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(self, id: str, query: str,
                        variables: dict[str, Any] | None = None) -> None:
        await self.send({"id": id, "type": "subscribe",
                         "payload": {"query": query, "variables": variables or {}}})

    async def complete(self, id: str) -> None:
        await self.send({"id": id, "type": "complete"})

    async def events(self, count: int, wait: float = 5.0) -> list[dict[str, Any]]:
        """The next ``count`` messages, each required to be a ``next``."""
        messages = [await self.receive(wait) for _ in range(count)]
        assert all(m["type"] == "next" for m in messages), messages
        return messages

    async def silent(self, seconds: float) -> None:
        """Nothing arrives for ``seconds``."""
        with contextlib.suppress(TimeoutError):
            message = await self.receive(seconds)
            raise AssertionError(f"unexpected message {message}")
