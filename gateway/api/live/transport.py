"""The graphql-transport-ws handler: only subscriptions, and a cap per connection.

Queries and mutations go over ``POST /graphql``, where the HTTP limits, logs and metrics
apply; over the socket they are refused (``BAD_USER_INPUT``). A connection runs at most
``GATEWAY_LIVE_MAX_SUBSCRIPTIONS`` subscriptions at once; one more is refused with
``LIMIT_EXCEEDED`` (the others go on). Refusals are the protocol's ``error`` message for that
operation id, with ``extensions.code``.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from gateway.api.context import Context
from gateway.api.errors import ApiErrorCode


class LiveTransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations:
            refusal = self._refusal(message)
            if refusal is not None:
                await self.send_message({"id": message["id"], "type": "error",
                                         "payload": [refusal.formatted]})
                return
        await super().handle_subscribe(message)

    def _refusal(self, message: SubscribeMessage) -> GraphQLError | None:
        settings = self.context.settings
        cap = settings.live_max_subscriptions
        if len(self.operations) >= cap:
            return GraphQLError(
                f"Too many subscriptions on this connection (at most {cap}; complete one "
                "first or open another connection).",
                extensions={"code": ApiErrorCode.LIMIT_EXCEEDED.value, "limit": cap})
        payload: Any = message["payload"]
        try:
            document = parse(payload["query"], max_tokens=settings.max_tokens)
        except Exception:  # not a document: strawberry answers it (closes with 4400)
            return None
        operation = get_operation_ast(document, payload.get("operationName"))
        if operation is not None and operation.operation is not OperationType.SUBSCRIPTION:
            return GraphQLError(
                "Only subscriptions are served over WebSocket: send queries and mutations "
                "with POST /graphql.", extensions={"code": ApiErrorCode.BAD_USER_INPUT.value})
        return None
