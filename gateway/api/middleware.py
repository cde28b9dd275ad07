"""The one request middleware: request id, metrics and access log, as plain ASGI.

Every HTTP answer (GraphQL, probes, 400, 413, 500, GraphiQL) carries ``x-request-id``: the
client's value when it is sane (1-64 of ``A-Z a-z 0-9 . _ -``), else a new one. The id is in
:data:`~gateway.logs.CURRENT_REQUEST` while the request runs, so log lines and masked errors
carry it. Pure ASGI (no ``BaseHTTPMiddleware``, no Request object): the cost per request is a
header scan, two clock reads and a few dictionary look-ups (README, Performance).
"""

from __future__ import annotations

import logging
import re
from random import getrandbits
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logs import ACCESS_LOGGER, CURRENT_REQUEST, RequestState
from gateway.metrics import OPERATION_NAME, GatewayMetrics

HEADER = b"x-request-id"
SANE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")

log = logging.getLogger("gateway.api")
access = logging.getLogger(ACCESS_LOGGER)


def new_request_id() -> bytes:
    """16 hex digits: unique enough to find a request's lines, cheap to make."""
    return b"%016x" % getrandbits(64)


class RequestContext:
    """Request id, metrics and (optionally) one access-log line per HTTP request."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics | None = None,
                 access_log: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == HEADER:
                if SANE_ID.fullmatch(value):
                    request_id = value
                break
        request_id = request_id or new_request_id()
        state = RequestState(request_id.decode("ascii"))
        token = CURRENT_REQUEST.set(state)
        status = 0
        started = perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, request_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Logged here, once, with the request id; a 500 that carries the id too.
            log.exception("unhandled error answering %s %s", scope["method"], _path(scope))
            if status == 0:
                await _internal_error(send_with_id)
            status = status or 500
        finally:
            seconds = perf_counter() - started
            if self.metrics is not None:
                self.metrics.request_done(scope["path"], status, state.execution, seconds)
            if self.access_log:
                _access_line(scope, status, seconds, state)
            CURRENT_REQUEST.reset(token)


async def _internal_error(send: Send) -> None:
    body = b"Internal Server Error"
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _path(scope: Scope) -> str:
    """The path as sent (still percent-encoded: a ``%0A`` cannot forge a log line)."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else repr(scope["path"])
    return path.partition("?")[0][:256]


def _operation_name(state: RequestState) -> str | None:
    """The operation's name when it is a plain GraphQL name (clients choose it freely)."""
    if state.execution is None:
        return None
    try:
        name = state.execution.operation_name
    except Exception:  # a request without a usable document has no name
        return None
    if name is None:
        return None
    return name if OPERATION_NAME.fullmatch(name) else "other"


def _access_line(scope: Scope, status: int, seconds: float, state: RequestState) -> None:
    operation = _operation_name(state)
    method, path, ms = scope["method"], _path(scope), round(seconds * 1000, 2)
    access.info("%s %s %d %.2f ms operation=%s", method, path, status, ms, operation or "-",
                extra={"method": method, "path": path, "status": status, "duration_ms": ms,
                       "operation": operation})
