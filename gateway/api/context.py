"""Per-request context and the back-office permission."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from graphql import GraphQLErrorExtensions
from starlette.requests import Request
from starlette.responses import Response
from strawberry.permission import BasePermission
from strawberry.types import Info

from gateway.api.errors import ApiErrorCode
from gateway.services import Services
from gateway.settings import Settings


@dataclass
class Context:
    request: Request
    services: Services
    settings: Settings
    #: Strawberry's response for an HTTP request (headers set on it reach the answer, e.g.
    #: ``Retry-After``); None over a WebSocket.
    response: Response | None = None

    @cached_property
    def is_back_office(self) -> bool:
        """A configured token was presented, in a single Authorization header."""
        headers = self.request.headers.getlist("authorization")
        return len(headers) == 1 and presents_token(headers[0], self.settings.admin_token)


def presents_token(authorization: str, token: str | None) -> bool:
    """``authorization`` (one header value) is ``Bearer <token>``: the scheme in any case, the
    token exact, compared in constant time. Never true when no token is configured."""
    if not token:
        return False
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


class IsBackOffice(BasePermission):
    message = ("Back-office operation: send 'Authorization: Bearer <GATEWAY_ADMIN_TOKEN>' "
               "(refused when the server has no token configured).")
    error_extensions: GraphQLErrorExtensions | None = {  # noqa: RUF012
        "code": ApiErrorCode.UNAUTHENTICATED.value}

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        return info.context.is_back_office


#: The permission of every back-office field (one list, so none can be forgotten).
BACK_OFFICE: list[type[BasePermission]] = [IsBackOffice]
