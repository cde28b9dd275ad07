"""Per-request context and the back-office permission."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from graphql import GraphQLErrorExtensions
from starlette.requests import Request
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

    @cached_property
    def is_back_office(self) -> bool:
        """A configured token was presented (compared in constant time)."""
        token = self.settings.admin_token
        if not token:
            return False
        header = self.request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
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
