"""Operation plans: how the lane answers a validated document it covers.

A plan is made once per (query text, operation name) from a document the normal path has
parsed, validated and answered without error, when :mod:`gateway.api.lane.documents` says the
lane covers it. Its root fields must be ``availability`` (any number, aliased or not) and
``__typename``; anything else is answered by the normal path.

Which fields an answer holds depends on the ``@skip``/``@include`` values, so a plan keeps one
:class:`Variant` per combination of them, compiled on first use: the fields are grouped by
graphql-core's own ``collect_fields``/``collect_subfields`` (same merging, order, fragment
matching and directive handling as execution), then each ``availability`` field gets a writer
(:mod:`gateway.api.lane.writer`). A selection the writers do not cover (``explain``...) makes
the variant ``None``: those requests take the normal path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    Undefined,
    ValueNode,
    VariableNode,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from graphql.utilities.coerce_input_value import coerce_default_value, coerce_input_literal

from gateway.api.lane.fields import PRODUCT_AVAILABILITY
from gateway.api.lane.variables import VariableSpec
from gateway.api.lane.writer import Writer, compile_writer

ROOT_FIELD = "availability"
#: The arguments of ``availability``, in the order the service takes them.
ARGUMENTS = ("channel", "skus", "customerGroup")


@dataclass(frozen=True, slots=True)
class Argument:
    """Where one argument's value comes from: a variable (with what replaces it when the
    request leaves it out) or a constant (a literal, or the default of an absent argument)."""

    variable: str | None
    #: the constant, or the value when the variable is missing; Undefined: then it is an error
    value: Any
    non_null: bool

    def resolve(self, variables: Mapping[str, Any]) -> Any:
        """The argument's value for these coerced variables; Undefined where graphql-core
        would report an error."""
        if self.variable is None:
            return self.value
        value = variables.get(self.variable, Undefined)
        if value is Undefined:
            return self.value
        if value is None and self.non_null:
            return Undefined
        return value


@dataclass(frozen=True, slots=True)
class RootField:
    """One response key of the root: ``__typename`` (``typename`` set) or an
    ``availability`` field (its arguments and writer)."""

    key: str
    typename: str | None = None
    arguments: tuple[Argument, ...] = ()
    write: Writer | None = None


@dataclass(frozen=True, slots=True)
class Variant:
    roots: tuple[RootField, ...]


@dataclass
class OperationPlan:
    """A covered operation; its variants are compiled on first use."""

    schema: GraphQLSchema
    document: DocumentNode
    #: the ``operationName`` of the request (None: the document's only operation)
    operation_name: str | None
    variables: tuple[VariableSpec, ...]
    #: the Boolean variables of ``@skip``/``@include``, in a fixed order
    switches: tuple[str, ...]
    variants: dict[tuple[bool, ...], Variant | None] = field(default_factory=dict)

    def switch_values(self, variables: Mapping[str, Any]) -> tuple[bool, ...] | None:
        """The ``@skip``/``@include`` variables' values, or None when one is not a Boolean
        (null or missing: graphql-core reports an error for the directive's ``if: Boolean!``)."""
        values = [variables.get(name) for name in self.switches]
        switches = tuple(value for value in values if isinstance(value, bool))
        return switches if len(switches) == len(values) else None

    def variant(self, key: tuple[bool, ...], raw_variables: dict[str, Any] | None
                ) -> Variant | None:
        """The variant for these switch values (compiled with this request's variables, which
        graphql-core must accept; None when it does not or the selection is not covered)."""
        if key in self.variants:
            return self.variants[key]
        try:
            compiled = self._compile(raw_variables)
        except GraphQLError:  # graphql-core would report an error for these variables
            compiled = Undefined
        if compiled is not Undefined:
            self.variants[key] = compiled
        return compiled if isinstance(compiled, Variant) else None

    def _compile(self, raw_variables: dict[str, Any] | None) -> Any:
        """A Variant, None (not covered) or Undefined (graphql-core refuses the variables)."""
        schema = self.schema
        executor = Executor.build(schema, self.document, raw_variable_values=raw_variables,
                                  operation_name=self.operation_name)
        if isinstance(executor, list):
            return Undefined  # graphql-core refuses these variables: nothing to remember
        root = schema.query_type
        assert root is not None
        collected = collect_fields(schema, executor.fragments, executor.variable_values, root,
                                   executor.operation)
        if collected.new_defer_usages:
            return None

        def subfields(type_: GraphQLObjectType, details: list[FieldDetails]
                      ) -> dict[str, list[FieldDetails]]:
            return collect_subfields(schema, executor.fragments, executor.variable_values,
                                     executor.operation, type_, details).grouped_field_set

        roots: list[RootField] = []
        for key, details in collected.grouped_field_set.items():
            name = details[0].node.name.value
            if name == "__typename":
                roots.append(RootField(key, typename=root.name))
                continue
            definition = root.fields.get(name)
            if name != ROOT_FIELD or definition is None:
                return None
            item_type = _item_type(definition)
            arguments = _arguments(definition, details[0].node, self.variables)
            if item_type is None or arguments is None:
                return None
            writer = compile_writer(item_type, subfields(item_type, details), subfields)
            if writer is None:
                return None
            roots.append(RootField(key, arguments=arguments, write=writer))
        return Variant(tuple(roots))


def _item_type(definition: GraphQLField) -> GraphQLObjectType | None:
    """``ProductAvailability`` when the field is ``[ProductAvailability]!``."""
    type_ = definition.type
    if isinstance(type_, GraphQLNonNull) and isinstance(type_.of_type, GraphQLList):
        item = type_.of_type.of_type
        if isinstance(item, GraphQLObjectType) and item.name == PRODUCT_AVAILABILITY:
            return item
    return None


def _arguments(definition: GraphQLField, node: FieldNode,
               variables: tuple[VariableSpec, ...]) -> tuple[Argument, ...] | None:
    if tuple(definition.args) != ARGUMENTS:
        return None  # the field changed: not what this lane was written for
    given = {argument.name.value: argument.value for argument in node.arguments or ()}
    declared = {spec.name for spec in variables}
    arguments = []
    for name in ARGUMENTS:
        argument = _argument(definition.args[name], given.get(name), declared)
        if argument is None:
            return None
        arguments.append(argument)
    return tuple(arguments)


def _argument(definition: GraphQLArgument, node: ValueNode | None,
              declared: set[str]) -> Argument | None:
    """graphql-core's ``coerce_argument`` worked out ahead of the request."""
    non_null = isinstance(definition.type, GraphQLNonNull)
    required = non_null and definition.default_value is Undefined
    default = coerce_default_value(definition)
    # An argument left out without a default is left out by graphql-core too; the resolver's
    # own default then applies, which is None for the one optional argument (customerGroup).
    fallback = Undefined if required else (None if default is Undefined else default)
    if node is None:
        return None if required else Argument(None, fallback, non_null)
    if isinstance(node, VariableNode):
        name = node.name.value
        return Argument(name, fallback, non_null) if name in declared else None
    if any(isinstance(inner, VariableNode) for inner in _values(node)):
        return None  # a list literal holding variables: not followed
    value = coerce_input_literal(node, definition.type)
    return None if value is Undefined else Argument(None, value, non_null)


def _values(node: ValueNode) -> Iterator[ValueNode]:
    yield node
    if isinstance(node, ListValueNode):
        for item in node.values:
            yield from _values(item)
    elif isinstance(node, ObjectValueNode):
        for entry in node.fields:
            yield from _values(entry.value)
