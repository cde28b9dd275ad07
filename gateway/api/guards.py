"""Checks on a validated operation before it executes, and the cost report of every answer.

Run after validation and before graphql-core coerces the variables (which, for a 335,000-line
cart, alone takes seconds), in this order, each refusal a GraphQL error with no data:

0. a document with several operations and no ``operationName``: ``BAD_REQUEST`` (the GraphQL
   spec's rule; Strawberry alone would run the first operation);
1. list arguments longer than their limit (``skus`` → ``GATEWAY_MAX_SKUS``, ``lines`` →
   ``GATEWAY_MAX_CART_LINES``): ``LIMIT_EXCEEDED``, measured with ``len`` on the raw JSON;
2. the query cost (:mod:`gateway.api.cost`) over the limit of the caller (public or back
   office): ``COST_LIMIT_EXCEEDED``;
3. identifiers holding control characters (:mod:`gateway.api.identifiers`):
   ``BAD_USER_INPUT``.

Every answer to a validated operation carries ``extensions.cost = {"requested", "limit"}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension

from gateway.api.cost import CostPlan, cost_limit, cost_limit_error, cost_report, operation_plan
from gateway.api.errors import ApiErrorCode
from gateway.api.identifiers import identifier_plan
from gateway.api.limits import too_many
from gateway.settings import Settings


def list_limits(settings: Settings) -> tuple[tuple[str, int, str], ...]:
    """(argument name, most items, what they are) for the list arguments with a limit."""
    return (("skus", settings.max_skus, "SKUs"), ("lines", settings.max_cart_lines, "lines"))


def oversized_list(plan: CostPlan, variables: dict[str, Any] | None,
                   limits: tuple[tuple[str, int, str], ...]) -> GraphQLError | None:
    for argument, limit, what in limits:
        count = plan.longest(argument, variables)
        if count > limit:
            return too_many(count, limit, what)
    return None


def unselected_operation(document: DocumentNode, operation_name: str | None
                         ) -> GraphQLError | None:
    """The refusal of a document holding several operations when the request names none of
    them (the GraphQL spec's "GetOperation" rule), else None."""
    if operation_name is not None or len(document.definitions) < 2:
        return None
    operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
    if operations < 2:
        return None
    return GraphQLError("Must provide operation name if query contains multiple operations: "
                        "send operationName with the one to run.",
                        extensions={"code": ApiErrorCode.BAD_REQUEST.value})


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the checks say about one request: the refusal (None: let it run) and the cost
    report for ``extensions.cost`` (None when no operation was selected)."""

    refusal: GraphQLError | None
    cost: dict[str, int] | None


def check_operation(schema: GraphQLSchema, document: DocumentNode,
                    variables: dict[str, Any] | None, operation_name: str | None,
                    settings: Settings, back_office: bool) -> Verdict:
    """The checks of this module, in order, for a validated ``document`` and its raw JSON
    ``variables``; usable by any executor (the Strawberry extension below is one)."""
    plan = operation_plan(document, operation_name)
    if plan is None:
        return Verdict(None, None)  # no such operation: execution says so
    limit = cost_limit(settings, back_office)
    requested = plan.cost(variables)
    report = cost_report(requested, limit)
    error = oversized_list(plan, variables, list_limits(settings))
    if error is not None:
        return Verdict(error, report)
    if requested > limit:
        return Verdict(cost_limit_error(requested, limit), report)
    return Verdict(identifier_plan(schema, document, operation_name).check(variables), report)


class RequestGuards(SchemaExtension):
    """:func:`check_operation` as a Strawberry extension (one instance per request)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.report: dict[str, int] | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            # Strawberry fills in the first operation's name when the request gave none.
            refusal = unselected_operation(
                document, getattr(context, "_provided_operation_name", None))
            if refusal is not None:
                context.result = ExecutionResult(data=None, errors=[refusal])
                yield
                return
            verdict = check_operation(context.schema._schema, document, context.variables,
                                      context.operation_name, self.settings,
                                      getattr(context.context, "is_back_office", False))
            self.report = verdict.cost
            if verdict.refusal is not None:
                context.result = ExecutionResult(data=None, errors=[verdict.refusal])
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.report} if self.report is not None else {}
