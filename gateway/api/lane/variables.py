"""Variables the lane accepts, coerced exactly as graphql-core coerces them.

Only the shapes a storefront's ``availability`` query declares are accepted: ``String``,
``Boolean`` (for ``@include``/``@skip``) and ``[String!]``, each nullable or not, with or without
a default. A document declaring anything else is not covered; a value graphql-core would
refuse — or one it would accept only after a conversion this module does not make, such as a
lone string for a list — makes :func:`coerce` answer None, and the request takes the normal
path, which reports what graphql-core says.

graphql-core's rules (``coerce_variable_values``) for these shapes: a missing variable takes
its default when it declares one, is an error when its type is non-null, and is left out
otherwise; ``null`` is an error for a non-null type and ``None`` otherwise; a String must be a
``str``, a Boolean a ``bool``; a list is coerced item by item (items here are non-null
Strings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    TypeNode,
    Undefined,
    VariableDefinitionNode,
    get_variable_values,
)


class Kind(Enum):
    STRING = "String"
    BOOLEAN = "Boolean"
    STRINGS = "[String!]"


@dataclass(frozen=True, slots=True)
class VariableSpec:
    """One declared variable: its name, shape, nullability and coerced default (or
    ``Undefined`` when it declares none)."""

    name: str
    kind: Kind
    non_null: bool
    default: Any


def _shape(node: TypeNode) -> tuple[Kind, bool] | None:
    non_null = isinstance(node, NonNullTypeNode)
    inner = node.type if isinstance(node, NonNullTypeNode) else node
    if isinstance(inner, NamedTypeNode):
        kind = {"String": Kind.STRING, "Boolean": Kind.BOOLEAN}.get(inner.name.value)
        return None if kind is None else (kind, non_null)
    if (isinstance(inner, ListTypeNode) and isinstance(inner.type, NonNullTypeNode)
            and isinstance(inner.type.type, NamedTypeNode)
            and inner.type.type.name.value == "String"):
        return Kind.STRINGS, non_null
    return None


def variable_spec(schema: GraphQLSchema, definition: VariableDefinitionNode
                  ) -> VariableSpec | None:
    """The spec of a declared variable, or None when the lane does not accept its type. The
    default, if any, is coerced by graphql-core itself (once, here)."""
    shape = _shape(definition.type)
    if shape is None:
        return None
    name = definition.variable.name.value
    default: Any = Undefined
    if definition.default_value is not None:
        coerced = get_variable_values(schema, [definition], {})
        if isinstance(coerced, list) or name not in coerced.coerced:
            return None
        default = coerced.coerced[name]
    return VariableSpec(name, shape[0], shape[1], default)


def coerce(specs: Sequence[VariableSpec], raw: Mapping[str, Any] | None
           ) -> dict[str, Any] | None:
    """The coerced variables graphql-core would compute from the request's ``raw`` JSON
    variables, or None when it would refuse them (or the lane does not follow)."""
    coerced: dict[str, Any] = {}
    for spec in specs:
        value = Undefined if raw is None else raw.get(spec.name, Undefined)
        if value is Undefined:
            if spec.default is not Undefined:
                coerced[spec.name] = spec.default
            elif spec.non_null:
                return None
            continue
        if value is None:
            if spec.non_null:
                return None
        elif spec.kind is Kind.STRING:
            if not isinstance(value, str):
                return None
        elif spec.kind is Kind.BOOLEAN:
            if not isinstance(value, bool):
                return None
        elif isinstance(value, list):
            for item in value:
                if not isinstance(item, str):
                    return None
            value = list(value)  # graphql-core hands out a new list too
        else:  # graphql-core would coerce a lone value to a list of one: not followed here
            return None
        coerced[spec.name] = value
    return coerced


def lane_variables(schema: GraphQLSchema, definitions: Sequence[VariableDefinitionNode]
                   ) -> tuple[VariableSpec, ...] | None:
    """Specs of every declared variable, or None when one of them is not accepted."""
    specs = []
    for definition in definitions:
        try:
            spec = variable_spec(schema, definition)
        except GraphQLError:
            return None
        if spec is None:
            return None
        specs.append(spec)
    return tuple(specs)
