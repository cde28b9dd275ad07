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


async def send_refusal(send: Send, status: int, message: str, code: ApiErrorCode,
                       **extensions: Any) -> None:
    """Answer an ASGI HTTP request with a refusal (the request body is left unread)."""
    body = refusal_body(message, code, **extensions)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
