"""The graphql-transport-ws handler: only subscriptions, and a cap per connection.

Queries and mutations go over ``POST /graphql``, where the HTTP limits, logs and metrics
apply; over the socket they are refused (``BAD_USER_INPUT``). A connection runs at most
``GATEWAY_LIVE_MAX_SUBSCRIPTIONS`` subscriptions at once; one more is refused with
``LIMIT_EXCEEDED`` (the others go on). A payload of the wrong shape (no query string,
variables that are not an object, ...) is refused with ``BAD_USER_INPUT`` rather than reaching
the executor. Refusals are the protocol's ``error`` message for that operation id, with
``extensions.code``.
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
        payload: Any = message.get("payload")
        shape = _shape_problem(payload)
        if shape is not None:
            return _bad_input(shape)
        try:
            document = parse(payload["query"], max_tokens=settings.max_tokens)
        except GraphQLError:  # a syntax error or too many tokens: strawberry answers it
            return None
        operation = get_operation_ast(document, payload.get("operationName"))
        if operation is None:
            return _bad_input("Name the subscription to run (operationName): the document "
                              "has several operations, or none of that name.")
        if operation.operation is not OperationType.SUBSCRIPTION:
            return _bad_input("Only subscriptions are served over WebSocket: send queries and "
                              "mutations with POST /graphql.")
        return None


def _bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": ApiErrorCode.BAD_USER_INPUT.value})


def _shape_problem(payload: Any) -> str | None:
    """What is wrong with a subscribe payload's shape (the protocol's, as over HTTP)."""
    if not isinstance(payload, dict):
        return "The subscribe message needs a payload object."
    if not isinstance(payload.get("query"), str):
        return "The payload's query must be a string."
    for key, kind in (("variables", dict), ("operationName", str), ("extensions", dict)):
        if payload.get(key) is not None and not isinstance(payload[key], kind):
            return f"The payload's {key} must be {'an object' if kind is dict else 'a string'}."
    return None
