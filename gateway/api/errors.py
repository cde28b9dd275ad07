"""Error hygiene, in one place for every resolver.

- A :class:`~gateway.domain.errors.DomainError` raised anywhere below a resolver becomes a
  GraphQL error with its stable code in ``extensions.code`` (resolvers never catch them).
- An unexpected exception is logged once, at ERROR, with the request's id (the
  ``x-request-id`` of the answer), and reaches the client only as "Unexpected error." with
  that id in ``extensions.requestId`` and ``extensions.code = "INTERNAL_ERROR"``.
- The query limits (depth, aliases, tokens) answer ``extensions.code = "LIMIT_EXCEEDED"``.
- graphql-core's own refusals get a code too: a document that does not parse
  ``GRAPHQL_PARSE_FAILED``, one that does not validate against the schema
  ``GRAPHQL_VALIDATION_FAILED``, variables that do not fit their types (or an operation that
  cannot be picked) ``BAD_USER_INPUT`` — the codes Apollo Server uses, so clients branch on
  ``extensions.code`` for every error.
- Storage trouble (a :class:`~gateway.services.StoreError`: the database busy, the disk
  full, the database unreachable) is not a bug: its code (``STORE_BUSY``, ``STORAGE_FULL``,
  ``STORE_UNAVAILABLE``) in ``extensions.code``, its hint in ``extensions.retryAfter``
  (seconds) and in the answer's ``Retry-After`` header, its message (what to do) as the
  error's; logged once at WARNING, without a traceback.
- Expected errors (validation, permissions, limits, domain refusals) are logged at DEBUG only,
  so hostile query text never fills the ERROR log.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from gateway.api.middleware import new_request_id
from gateway.domain.errors import DomainError
from gateway.logs import CURRENT_REQUEST, current_request_id
from gateway.services import StoreError

log = logging.getLogger("gateway.api")

REQUEST_ID = "requestId"
RETRY_AFTER = "retryAfter"


class ApiErrorCode(StrEnum):
    """``extensions.code`` of GraphQL errors raised by the API layer itself."""

    BAD_REQUEST = "BAD_REQUEST"  # the HTTP request is not a GraphQL request we serve
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    COST_LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


def is_unexpected(error: GraphQLError) -> bool:
    """An exception our code did not raise on purpose (a bug, a lost database, ...)."""
    original = error.original_error
    return original is not None and not isinstance(original,
                                                    GraphQLError | DomainError | StoreError)


def retry_after_seconds(error: StoreError) -> int | None:
    """The store's retry hint as whole seconds (what ``Retry-After`` takes), at least 1;
    None when retrying is not expected to help."""
    if error.retry_after is None:
        return None
    return max(1, math.ceil(error.retry_after))


def _ask_to_retry_after(execution_context: ExecutionContext | None, seconds: int) -> None:
    """Set ``Retry-After`` on the HTTP answer (the longest hint when several errors give one).
    The context carries Strawberry's response when the request came over HTTP."""
    response = getattr(getattr(execution_context, "context", None), "response", None)
    if response is None:
        return
    current = response.headers.get("retry-after")
    if current is None or int(current) < seconds:
        response.headers["retry-after"] = str(seconds)


#: How graphql-core and Strawberry's limiters word their refusals (they set no code).
_LIMIT_MESSAGES = ("aliases found. Allowed:", "exceeds maximum operation depth",
                   "Document contains more than")


def _is_limit(error: GraphQLError) -> bool:
    return any(text in error.message for text in _LIMIT_MESSAGES)


def _code_of(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


def _with_code(error: GraphQLError, code: ApiErrorCode) -> None:
    error.extensions = {**(error.extensions or {}), "code": code.value}


def _request_error_code(error: GraphQLError) -> ApiErrorCode | None:
    """The code of a refusal graphql-core words without one; validation errors were tagged
    while validating (:meth:`MaskUnexpectedErrors.on_validate`)."""
    if _is_limit(error):
        return ApiErrorCode.LIMIT_EXCEEDED
    if isinstance(error, GraphQLSyntaxError):
        return ApiErrorCode.GRAPHQL_PARSE_FAILED
    if not error.path and (error.original_error is None
                           or isinstance(error.original_error, GraphQLError)):
        # Not from a field: refused before execution (variables that do not coerce, wrapping
        # the scalar's own refusal; no operation to run): the request, not the schema.
        return ApiErrorCode.BAD_USER_INPUT
    return None


class GatewaySchema(strawberry.Schema):
    def _create_execution_context(
            self, query: str | None, allowed_operation_types: Iterable[OperationType],
            *args: Any, **kwargs: Any) -> ExecutionContext:
        # The request middleware labels metrics and the access log with the operation: hand
        # it this request's execution context (read after the answer, so no work here).
        context = super()._create_execution_context(query, allowed_operation_types, *args,
                                                    **kwargs)
        state = CURRENT_REQUEST.get()
        if state is not None:
            state.execution = context
        return context

    async def execute(self, query: str | None, variable_values: dict[str, Any] | None = None,
                      context_value: Any | None = None, root_value: Any | None = None,
                      operation_name: str | None = None,
                      allowed_operation_types: Iterable[OperationType] | None = None,
                      operation_extensions: dict[str, Any] | None = None) -> Any:
        # Strawberry lets a subscription through POST and runs it as a query, which cannot
        # work (its field is an async iterator): subscriptions are served over WebSocket only,
        # so here they are an operation type not allowed (a 400 that says where to go).
        allowed = set(DEFAULT_ALLOWED_OPERATION_TYPES if allowed_operation_types is None
                      else allowed_operation_types)
        allowed.discard(OperationType.SUBSCRIPTION)
        return await super().execute(query, variable_values, context_value, root_value,
                                     operation_name, allowed, operation_extensions)

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            original = error.original_error
            if isinstance(original, DomainError):
                error.extensions = {**(error.extensions or {}), "code": original.code.value}
                log.debug("request refused: %s", error.message)
            elif isinstance(original, StoreError):
                seconds = retry_after_seconds(original)
                extensions = {**(error.extensions or {}), "code": original.code.value}
                if seconds is not None:
                    extensions[RETRY_AFTER] = seconds
                    _ask_to_retry_after(execution_context, seconds)
                error.extensions = extensions
                log.warning("%s refused by the store (%s): %s",
                            ".".join(map(str, error.path or [])) or "request",
                            original.code.value, original.message)
            elif is_unexpected(error):
                request_id = current_request_id() or new_request_id().decode()
                error.extensions = {**(error.extensions or {}), REQUEST_ID: request_id}
                log.error("unexpected error in %s (request %s)",
                          ".".join(map(str, error.path or [])) or "request", request_id,
                          exc_info=original)
            else:
                code = None if _code_of(error) else _request_error_code(error)
                if code is not None:
                    _with_code(error, code)
                log.debug("request refused: %s", error.message)


class MaskUnexpectedErrors(MaskErrors):
    """Masks only unexpected errors, keeping the request id the log line carries; with
    ``hide_suggestions`` also drops graphql-core's "Did you mean ...?" hints (argument names,
    enum values), which describe the schema to a client that may not introspect it."""

    def __init__(self, hide_suggestions: bool = False) -> None:
        super().__init__(should_mask_error=is_unexpected)
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        yield
        # Validation ran (or the cache answered): what it found is a validation error, unless
        # it is one of the limits (LIMIT_EXCEEDED, set by process_errors).
        for error in self.execution_context.pre_execution_errors or ():
            if not _code_of(error) and not _is_limit(error):
                _with_code(error, ApiErrorCode.GRAPHQL_VALIDATION_FAILED)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        if not self.hide_suggestions:
            return processed
        return [_without_suggestion(error) for error in processed]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        extensions: dict[str, Any] = {"code": ApiErrorCode.INTERNAL_ERROR.value}
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
