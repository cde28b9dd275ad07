"""The HTTP edge, before any route: one Authorization header, body limits by credential, and
quiet client disconnects.

- Two or more ``Authorization`` headers: 400 (``UNAUTHENTICATED``). Proxies and frameworks
  disagree on which one counts, so none does.
- The body limit is decided from the headers, before a byte of the body is read: requests
  presenting the back-office token may send ``max_body_bytes`` (8 MiB: catalog imports,
  10,000 source items), every other request ``max_public_body_bytes`` (256 KiB: far above the
  largest storefront call). Content-Length is checked up front and streamed bytes are counted
  (a chunked body has none), so an oversized body is never buffered whole: 413
  (``LIMIT_EXCEEDED``).
- A client that goes away mid-request is logged at DEBUG, not as an application error.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.context import presents_token
from gateway.api.errors import ApiErrorCode
from gateway.api.refusals import send_refusal
from gateway.settings import Settings

log = logging.getLogger("gateway.api")


class BodyTooLarge(Exception):
    pass


class EdgeGuard:
    """ASGI middleware applying the rules of this module to every HTTP request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.token = settings.admin_token
        self.back_office_limit = settings.max_body_bytes
        self.public_limit = min(settings.max_public_body_bytes, settings.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorizations = []
        content_length: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorizations.append(value)
            elif name == b"content-length":
                content_length = value
        if len(authorizations) > 1:
            await send_refusal(send, 400, f"Send one Authorization header "
                                          f"({len(authorizations)} received).",
                               ApiErrorCode.UNAUTHENTICATED)
            return
        back_office = bool(authorizations) and presents_token(
            authorizations[0].decode("latin-1"), self.token)
        limit = self.back_office_limit if back_office else self.public_limit
        if content_length is None:
            await self._forward_counted(scope, receive, send, limit, back_office)
        elif _too_large(content_length, limit):
            await self._refuse(send, limit, back_office)
        else:
            # The server stops the body at its Content-Length: nothing more to count.
            try:
                await self.app(scope, receive, send)
            except ClientDisconnect:
                log.debug("client disconnected before sending the whole request")

    async def _forward_counted(self, scope: Scope, receive: Receive, send: Send, limit: int,
                       back_office: bool) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
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
                await self._refuse(send, limit, back_office)
        except ClientDisconnect:
            # Nobody is left to answer: not an application error, and not worth more than
            # a debug line (a client can do it at will).
            log.debug("client disconnected before sending the whole request")

    async def _refuse(self, send: Send, limit: int, back_office: bool) -> None:
        setting = "GATEWAY_MAX_BODY_BYTES" if back_office else "GATEWAY_MAX_PUBLIC_BODY_BYTES"
        whose = "with the back-office token" if back_office else "without the back-office token"
        await send_refusal(send, 413, f"Request body too large: at most {limit} bytes {whose} "
                                      f"({setting}).",
                           ApiErrorCode.LIMIT_EXCEEDED, limit=limit)


def _too_large(content_length: bytes, limit: int) -> bool:
    try:
        return int(content_length) > limit
    except ValueError:  # uvicorn refuses a malformed Content-Length before we see it
        return True
