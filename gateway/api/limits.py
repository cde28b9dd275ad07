"""Request limits enforced before GraphQL sees the request."""

from __future__ import annotations

from collections.abc import Sequence

from graphql import GraphQLError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.common import CartLineInput
from gateway.api.errors import ApiErrorCode
from gateway.domain.cart import RequestedLine


class BodyTooLarge(Exception):
    pass


class MaxBodySize:
    """Answers 413 to a request whose body is larger than ``limit`` bytes.

    Checks Content-Length up front and counts streamed bytes too (a chunked body has none), so
    an oversized request is never buffered whole.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_large = int(value) > self.limit
                except ValueError:
                    too_large = True
                if too_large:
                    await self._refuse(send)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = (f"Request body too large (limit {self.limit} bytes; set "
                f"GATEWAY_MAX_BODY_BYTES to change it).").encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


MAX_SKU_LENGTH = 64


def check_count(items: Sequence[object], limit: int, what: str) -> None:
    """A GraphQL error (LIMIT_EXCEEDED) when a list argument is longer than its limit."""
    if len(items) > limit:
        raise GraphQLError(f"Too many {what}: {len(items)} (at most {limit} per request).",
                           extensions={"code": ApiErrorCode.LIMIT_EXCEEDED.value,
                                       "limit": limit})


def check_skus(skus: Sequence[str]) -> None:
    """A GraphQL error (BAD_USER_INPUT) for an empty or over-long SKU."""
    for index, sku in enumerate(skus):
        if not sku or len(sku) > MAX_SKU_LENGTH:
            raise GraphQLError(f"SKU #{index} must be 1-{MAX_SKU_LENGTH} characters.",
                               extensions={"code": ApiErrorCode.BAD_USER_INPUT.value})


def requested_lines(lines: Sequence[CartLineInput], limit: int) -> list[RequestedLine]:
    """Cart/order lines checked for count and SKU shape; quantities are checked by the domain."""
    check_count(lines, limit, "lines")
    check_skus([line.sku for line in lines])
    return [line.to_domain() for line in lines]
