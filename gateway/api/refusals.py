"""HTTP refusals with a GraphQL-shaped JSON body, for requests refused before GraphQL runs.

``{"errors": [{"message": "...", "extensions": {"code": "..."}}]}`` with a 4xx status, so a
GraphQL client reads the reason and the code the same way as for any other error.
"""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException  # what strawberry answers with (a transitive dependency)
from starlette.responses import Response
from starlette.types import Send
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway.api.errors import ApiErrorCode


def refusal_body(message: str, code: ApiErrorCode, **extensions: Any) -> bytes:
    return orjson.dumps({"errors": [{"message": message,
                                     "extensions": {"code": code.value, **extensions}}]})


class RequestRefused(HTTPException):
    """Raised while reading a request: answered with ``status`` and a JSON error body."""

    def __init__(self, status: int, message: str, code: ApiErrorCode, **extensions: Any) -> None:
        super().__init__(status, message)
        self.code = code
        self.extensions = extensions

    def response(self) -> Response:
        return Response(refusal_body(self.reason, self.code, **self.extensions),
                        status_code=self.status_code, media_type="application/json")


def http_refusal(exc: HTTPException) -> RequestRefused:
    """Strawberry's HTTP refusals (plain text) as ours: the same status, a JSON body with
    ``BAD_REQUEST``; a subscription sent over HTTP is told where subscriptions are served."""
    if isinstance(exc, RequestRefused):
        return exc
    cause = exc.__cause__
    if (isinstance(cause, InvalidOperationTypeError)
            and cause.operation_type is OperationType.SUBSCRIPTION):
        return RequestRefused(exc.status_code, "Subscriptions are served over WebSocket at "
                              "/graphql (protocol graphql-transport-ws), not over HTTP.",
                              ApiErrorCode.BAD_REQUEST)
    return RequestRefused(exc.status_code, exc.reason, ApiErrorCode.BAD_REQUEST)


async def send_refusal(send: Send, status: int, message: str, code: ApiErrorCode,
                       **extensions: Any) -> None:
    """Answer an ASGI HTTP request with a refusal (the request body is left unread)."""
    body = refusal_body(message, code, **extensions)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
