"""Mutation plans: how the lane answers a validated ``placeOrder`` document.

A mutation is covered when its root holds one ``placeOrder`` field (repeated occurrences
merged by graphql-core count as one; ``__typename`` may stand beside it) and its fragments
and directives are of the kinds :mod:`gateway.api.lane.documents` accepts for queries. Each
request is then taken exactly as the normal path takes it, with graphql-core's and
Strawberry's own functions rather than copies of them: variables coerced by graphql-core
(``Executor.build``), the fields grouped by ``collect_fields`` for those variables (one
variant per ``@skip``/``@include`` combination), the arguments by ``get_argument_values`` and
converted by Strawberry's ``convert_arguments``, the lines checked by the resolver's
:func:`~gateway.api.limits.requested_lines`. Anything refused up to there is a
:class:`~gateway.api.lane.runner.Miss`: nothing has been executed, the normal path answers.

Then the order is placed once (:func:`gateway.api.orders.placement.place`) and, from that
point on, never again for this request:

- an :class:`~gateway.api.orders.types.OrderResult` the object writer renders: the lane
  answers it;
- a :class:`~gateway.domain.errors.DomainError` (an unknown channel): the lane answers the
  GraphQL error exactly as ``GatewaySchema.process_errors`` makes it (``data: null``, the
  field is non-null);
- anything else — a storage error (``Retry-After``), an unexpected exception (masked, logged
  with the request id), a result the writer does not render: the record of that one call is
  handed to the normal path (:data:`~gateway.api.orders.placement.HANDED_OVER`), whose
  resolver answers from it without calling the service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    TypeNode,
    located_error,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from graphql.execution.values import get_argument_values
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from gateway.api.lane.documents import _covered_selections, _is_object, _operation
from gateway.api.lane.objects import ObjectPlan, compile_object, write
from gateway.api.limits import requested_lines
from gateway.api.orders.placement import Placed, Placement, place
from gateway.domain.errors import DomainError
from gateway.services import Services
from gateway.settings import Settings

log = logging.getLogger("gateway.api")

ROOT_FIELD = "placeOrder"
BACKREF = "strawberry-definition"
MAX_SWITCHES = 4


class NotTaken(Exception):
    """The request is not one the lane takes (nothing was executed): ``why`` says which
    kind of :class:`~gateway.api.lane.runner.Miss` it is."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True, slots=True)
class Root:
    """One response key of the root: ``__typename`` or the ``placeOrder`` field."""

    key: str
    typename: str | None = None
    nodes: tuple[FieldNode, ...] = ()
    plan: ObjectPlan | None = None


@dataclass(frozen=True, slots=True)
class MutationVariant:
    roots: tuple[Root, ...]
    place: Root


@dataclass
class MutationPlan:
    """A covered ``placeOrder`` operation; its variants are compiled on first use."""

    schema: GraphQLSchema
    document: DocumentNode
    operation_name: str | None
    definition: GraphQLField
    strawberry_field: StrawberryField
    #: the Boolean variables of ``@skip``/``@include``, in a fixed order
    switches: tuple[str, ...]
    variants: dict[tuple[Any, ...], MutationVariant | None] = field(default_factory=dict)

    async def run(self, services: Services, settings: Settings,
                  raw_variables: dict[str, Any] | None, back_office: bool
                  ) -> dict[str, Any] | Placed:
        """The answer's ``data``/``errors`` for this request, or the record of the placement
        to hand to the normal path; raises :class:`NotTaken` before anything is executed
        (``placeOrder`` is back office: without the token the normal path words the
        refusal)."""
        try:
            variant, placement = self._prepare(settings, raw_variables, back_office)
        except NotTaken:
            raise
        except GraphQLError:  # an argument the resolver's checks refuse
            raise NotTaken("arguments") from None
        except Exception:  # not expected: the normal path reports it (nothing was placed)
            raise NotTaken("failed") from None
        placed = await place(services, placement)
        root = variant.place
        try:
            if isinstance(placed.error, DomainError):
                return {"data": None, "errors": [_domain_error(placed.error, root, settings)]}
            if placed.error is not None:
                return placed
            assert root.plan is not None
            rendered = write(root.plan, placed.result)
        except Exception:  # Fallback, or anything else: rendered from the record instead
            return placed
        return {"data": {r.key: rendered if r.typename is None else r.typename
                         for r in variant.roots}}

    def _prepare(self, settings: Settings, raw_variables: dict[str, Any] | None,
                 back_office: bool) -> tuple[MutationVariant, Placement]:
        """The variant and the placement of this request, as the normal path would reach the
        resolver's service call; raises where it would not (NotTaken, GraphQLError)."""
        executor = Executor.build(self.schema, self.document,
                                  raw_variable_values=raw_variables,
                                  operation_name=self.operation_name)
        if isinstance(executor, list):
            raise NotTaken("variables")
        coerced = executor.variable_values
        key = tuple(coerced.coerced.get(name) for name in self.switches)
        if not all(isinstance(value, bool) for value in key):
            raise NotTaken("variables")  # graphql-core reports the directive's null
        if key not in self.variants:
            self.variants[key] = self._compile(executor)
        variant = self.variants[key]
        if variant is None:
            raise NotTaken("not_covered")
        if not back_office:
            raise NotTaken("permission")
        arguments = get_argument_values(self.definition, variant.place.nodes[0], coerced)
        converted = convert_arguments(
            arguments, self.strawberry_field.arguments,
            scalar_registry=self._strawberry.schema_converter.scalar_registry,
            config=self._strawberry.config)
        lines = converted["lines"]
        return variant, Placement(
            converted["order_id"], converted["channel"],
            tuple(requested_lines(lines, settings.max_cart_lines)),
            converted.get("customer_group"), tuple(line.quantity for line in lines))

    @property
    def _strawberry(self) -> Any:
        return self.schema._strawberry_schema  # type: ignore[attr-defined]

    def _compile(self, executor: Executor[Any]) -> MutationVariant | None:
        schema = self.schema
        mutation = schema.mutation_type
        assert mutation is not None
        collected = collect_fields(schema, executor.fragments, executor.variable_values,
                                   mutation, executor.operation)
        if collected.new_defer_usages:
            return None

        def subfields(type_: GraphQLObjectType, details: list[FieldDetails]
                      ) -> dict[str, list[FieldDetails]]:
            return collect_subfields(schema, executor.fragments, executor.variable_values,
                                     executor.operation, type_, details).grouped_field_set

        roots: list[Root] = []
        places = []
        for key, details in collected.grouped_field_set.items():
            name = details[0].node.name.value
            if name == "__typename":
                roots.append(Root(key, typename=mutation.name))
                continue
            definition = mutation.fields.get(name)
            if name != ROOT_FIELD or definition is not self.definition:
                return None
            type_ = definition.type
            if not (isinstance(type_, GraphQLNonNull)
                    and isinstance(type_.of_type, GraphQLObjectType)):
                return None
            plan = compile_object(type_.of_type, subfields(type_.of_type, details), subfields)
            if plan is None:
                return None
            places.append(Root(key, nodes=tuple(d.node for d in details), plan=plan))
            roots.append(places[-1])
        if len(places) != 1:
            return None
        return MutationVariant(tuple(roots), places[0])


def _domain_error(error: DomainError, root: Root, settings: Settings) -> dict[str, Any]:
    """The GraphQL error of a DomainError raised by the resolver, as graphql-core locates it
    and ``GatewaySchema.process_errors`` (+ ``MaskUnexpectedErrors``) completes it."""
    located = located_error(error, list(root.nodes), [root.key])
    located.extensions = {**(located.extensions or {}), "code": error.code.value}
    log.debug("request refused: %s", located.message)
    formatted: dict[str, Any] = dict(located.formatted)
    if settings.production:  # MaskUnexpectedErrors(hide_suggestions=True)
        formatted["message"] = formatted["message"].partition(" Did you mean")[0]
    return formatted


def compile_mutation(schema: GraphQLSchema, document: DocumentNode,
                     operation_name: str | None) -> MutationPlan | None:
    """The plan of the mutation a request selects with ``operation_name``, or None when the
    lane does not cover it. ``document`` must have passed validation."""
    operation = _operation(document, operation_name)
    mutation = schema.mutation_type
    if operation is None or operation.operation is not OperationType.MUTATION \
            or operation.directives or mutation is None:
        return None
    definition = mutation.fields.get(ROOT_FIELD)
    strawberry_field = definition.extensions.get(BACKREF) if definition is not None else None
    if definition is None or not isinstance(strawberry_field, StrawberryField):
        return None
    booleans = {d.variable.name.value for d in operation.variable_definitions or ()
                if _is_boolean(d.type)}
    switches: dict[str, None] = {}
    for node in document.definitions:
        if isinstance(node, FragmentDefinitionNode):
            if node.variable_definitions or node.directives or \
                    not _is_object(schema, node.type_condition.name.value):
                return None
        elif not isinstance(node, OperationDefinitionNode):
            return None
        elif node is not operation:
            continue
        if not _covered_selections(schema, node.selection_set, booleans, switches):
            return None
    if len(switches) > MAX_SWITCHES:
        return None
    return MutationPlan(schema, document, operation_name, definition, strawberry_field,
                        tuple(switches))


def _is_boolean(type_node: TypeNode) -> bool:
    inner = type_node.type if isinstance(type_node, NonNullTypeNode) else type_node
    return isinstance(inner, NamedTypeNode) and inner.name.value == "Boolean"
