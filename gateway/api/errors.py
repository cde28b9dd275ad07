"""Error hygiene: unexpected exceptions are logged once with a request id and reach the client
only as "Unexpected error." with that id; expected errors (validation, permissions, domain
refusals) are logged at DEBUG only, so hostile query text never fills the ERROR log."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

log = logging.getLogger("gateway.api")

REQUEST_ID = "requestId"


def is_unexpected(error: GraphQLError) -> bool:
    """An exception our code did not raise on purpose (a bug, a lost database, ...)."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class GatewaySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            if is_unexpected(error):
                request_id = uuid.uuid4().hex[:16]
                error.extensions = {**(error.extensions or {}), REQUEST_ID: request_id}
                log.error("unexpected error in %s (request %s)",
                          ".".join(map(str, error.path or [])) or "request", request_id,
                          exc_info=error.original_error)
            else:
                log.debug("request refused: %s", error.message)


class MaskUnexpectedErrors(MaskErrors):
    """Masks only unexpected errors, keeping the request id the log line carries; with
    ``hide_suggestions`` also drops graphql-core's "Did you mean ...?" hints (argument names,
    enum values), which describe the schema to a client that may not introspect it."""

    def __init__(self, hide_suggestions: bool = False) -> None:
        super().__init__(should_mask_error=is_unexpected)
        self.hide_suggestions = hide_suggestions

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        if not self.hide_suggestions:
            return processed
        return [_without_suggestion(error) for error in processed]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        extensions: dict[str, Any] = {"code": "INTERNAL_ERROR"}
        if error.extensions and REQUEST_ID in error.extensions:
            extensions[REQUEST_ID] = error.extensions[REQUEST_ID]
        return GraphQLError(self.error_message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path, extensions=extensions)


def _without_suggestion(error: GraphQLError) -> GraphQLError:
    head, found, _ = error.message.partition(" Did you mean")
    if not found:
        return error
    return GraphQLError(head, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, original_error=error.original_error,
                        extensions=error.extensions)
