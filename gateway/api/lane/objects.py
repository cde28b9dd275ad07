"""Object writers: the JSON of a Strawberry object for one selection, as graphql-core writes it.

Used by the lane for mutation answers (:mod:`gateway.api.lane.mutation`), whose resolvers
return Strawberry objects (``OrderResult`` and what it holds) rather than domain objects. A
plan is compiled once per grouped field set — graphql-core's own ``collect_subfields`` —
and covers a selection whose every field is a plain attribute
(as :mod:`gateway.api.fast_path` decides it: no resolver, arguments, permissions or field
extensions) of a scalar or enum type, an object type without ``is_type_of``, or a list of
those. Every leaf goes through the schema type's ``coerce_output_value``
(:func:`~gateway.api.lane.writer.coerce_leaf`), as graphql-core's ``complete_leaf_value``.
Whenever graphql-core would report an error — a null for a non-null field or list item, a
value that does not serialise, a list that is not one — :func:`write` raises
:class:`~gateway.api.lane.writer.Fallback`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
)
from graphql.execution.collect_fields import FieldDetails

from gateway.api.fast_path import _plain_attribute as plain_attribute
from gateway.api.lane.writer import Fallback, coerce_leaf

Subfields = Callable[[GraphQLObjectType, list[FieldDetails]], dict[str, list[FieldDetails]]]


@dataclass(frozen=True, slots=True)
class Leaf:
    type: GraphQLScalarType | GraphQLEnumType


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    """(response key, attribute or None for ``__typename``, value plan, non-null) per field;
    ``__typename`` entries hold the type's name as their value plan."""

    entries: tuple[tuple[str, str | None, Any, bool], ...]


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Leaf | ObjectPlan
    item_non_null: bool


def compile_object(type_: GraphQLObjectType, grouped: dict[str, list[FieldDetails]],
                   subfields: Subfields) -> ObjectPlan | None:
    """The plan of ``type_`` for this grouped field set, or None when it is not covered."""
    entries: list[tuple[str, str | None, Any, bool]] = []
    for key, details in grouped.items():
        name = details[0].node.name.value
        if name == "__typename":
            entries.append((key, None, type_.name, True))
            continue
        field = type_.fields.get(name)
        attr = plain_attribute(field) if field is not None else None
        if field is None or attr is None:
            return None
        value = _value_plan(field.type, details, subfields)
        if value is None:
            return None
        entries.append((key, attr, value, isinstance(field.type, GraphQLNonNull)))
    return ObjectPlan(tuple(entries))


def _value_plan(type_: GraphQLOutputType, details: list[FieldDetails],
                subfields: Subfields) -> Leaf | ObjectPlan | ListOf | None:
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return Leaf(named)
    if isinstance(named, GraphQLObjectType) and named.is_type_of is None:
        return compile_object(named, subfields(named, details), subfields)
    if isinstance(named, GraphQLList):
        item_type = named.of_type
        item = _value_plan(item_type, details, subfields)
        if isinstance(item, Leaf | ObjectPlan):
            return ListOf(item, isinstance(item_type, GraphQLNonNull))
    return None  # lists of lists, interfaces, unions: not followed


def write(plan: ObjectPlan, source: Any) -> dict[str, Any]:
    """The answer of ``source`` for ``plan`` (raises Fallback where graphql-core would err)."""
    result: dict[str, Any] = {}
    for key, attr, value_plan, non_null in plan.entries:
        if attr is None:
            result[key] = value_plan
            continue
        value = getattr(source, attr, None)
        if value is None:
            if non_null:
                raise Fallback
            result[key] = None
        else:
            result[key] = _complete(value_plan, value)
    return result


def _complete(plan: Leaf | ObjectPlan | ListOf, value: Any) -> Any:
    if isinstance(plan, Leaf):
        return coerce_leaf(plan.type, value)
    if isinstance(plan, ObjectPlan):
        return write(plan, value)
    if not isinstance(value, list | tuple):
        raise Fallback  # graphql-core takes any iterable but a string: not followed
    items: list[Any] = []
    for item in value:
        if item is None:
            if plan.item_non_null:
                raise Fallback
            items.append(None)
        else:
            items.append(_complete(plan.item, item))
    return items
