"""Checks on a validated operation before it executes, and the cost report of every answer.

Run after validation and before graphql-core coerces the variables (which, for a 335,000-line
cart, alone takes seconds), in this order, each refusal a GraphQL error with no data:

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
from typing import Any

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.api.cost import CostPlan, cost_limit, cost_limit_error, cost_report, operation_plan
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


class RequestGuards(SchemaExtension):
    """The checks of this module as a Strawberry extension (one instance per request)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limits = list_limits(settings)
        self.report: dict[str, int] | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            error = self._refusal(document, context.variables, context.operation_name,
                                  getattr(context.context, "is_back_office", False))
            if error is not None:
                context.result = ExecutionResult(data=None, errors=[error])
        yield

    def _refusal(self, document: Any, variables: dict[str, Any] | None,
                 operation_name: str | None, back_office: bool) -> GraphQLError | None:
        plan = operation_plan(document, operation_name)
        if plan is None:
            return None  # no such operation: execution says so
        error = oversized_list(plan, variables, self.limits)
        if error is not None:
            return error
        limit = cost_limit(self.settings, back_office)
        requested = plan.cost(variables)
        self.report = cost_report(requested, limit)
        if requested > limit:
            return cost_limit_error(requested, limit)
        schema = self.execution_context.schema._schema
        return identifier_plan(schema, document, operation_name).check(variables)

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.report} if self.report is not None else {}
