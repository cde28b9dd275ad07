"""A fast path for objects whose selected fields are all plain attributes.

graphql-core resolves every selected field of every object through the full machinery (a
resolver call, awaitable checks, completion by type), about 300 calls for a 20-SKU
availability answer. When every field selected on an object is a plain Strawberry attribute
(no resolver, arguments, permissions or field extensions) of a scalar or enum type, or a
nested object of the same kind, the value is built directly: read the attribute, serialise
it with the same scalar/enum serializer. Anything else, or any value the fast path is not sure
of (a null for a non-null field, a serializer error), falls back to graphql-core for the
whole object, so errors and semantics stay exactly graphql-core's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

BACKREF = "strawberry-definition"


@dataclass(frozen=True, slots=True)
class _Leaf:
    key: str
    attr: str
    type: GraphQLScalarType | GraphQLEnumType
    non_null: bool


@dataclass(frozen=True, slots=True)
class _Typename:
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class _Object:
    key: str
    attr: str
    plan: tuple[_Entry, ...]
    non_null: bool


_Entry = _Leaf | _Typename | _Object
_FALLBACK = object()


def _plain_attribute(field: Any) -> str | None:
    """The Python attribute behind a GraphQL field, if it is nothing more than that."""
    definition = field.extensions.get(BACKREF) if field.extensions else None
    if (not isinstance(definition, StrawberryField) or definition.base_resolver is not None
            or definition.permission_classes or definition.extensions or field.args):
        return None
    return definition.python_name


class FastPathExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with plain-attribute objects built directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Like collect_subfields' memo: keyed by identity, keeping the key object alive.
        self._plans: dict[tuple[GraphQLObjectType, int],
                          tuple[object, tuple[_Entry, ...] | None]] = {}

    def _plan(self, parent_type: GraphQLObjectType,
              grouped_field_set: Any) -> tuple[_Entry, ...] | None:
        key = (parent_type, id(grouped_field_set))
        memo = self._plans.get(key)
        if memo is not None:
            return memo[1]
        plan = self._build_plan(parent_type, grouped_field_set)
        self._plans[key] = (grouped_field_set, plan)
        return plan

    def _build_plan(self, parent_type: GraphQLObjectType,
                    grouped_field_set: Any) -> tuple[_Entry, ...] | None:
        entries: list[_Entry] = []
        for response_key, field_details_list in grouped_field_set.items():
            name = field_details_list[0].node.name.value
            if name == "__typename":
                entries.append(_Typename(response_key, parent_type.name))
                continue
            field = parent_type.fields.get(name)
            attr = _plain_attribute(field) if field is not None else None
            if field is None or attr is None:
                return None
            field_type = field.type
            non_null = isinstance(field_type, GraphQLNonNull)
            if non_null:
                field_type = field_type.of_type
            if isinstance(field_type, GraphQLScalarType | GraphQLEnumType):
                entries.append(_Leaf(response_key, attr, field_type, non_null))
            elif isinstance(field_type, GraphQLObjectType) and field_type.is_type_of is None:
                sub_fields, defers, _ = self.collect_subfields(field_type, field_details_list)
                sub_plan = None if defers else self._plan(field_type, sub_fields)
                if sub_plan is None:
                    return None
                entries.append(_Object(response_key, attr, sub_plan, non_null))
            else:
                return None
        return tuple(entries)

    def _build(self, plan: Sequence[_Entry], source: Any) -> Any:
        result: dict[str, Any] = {}
        for entry in plan:
            if isinstance(entry, _Typename):
                result[entry.key] = entry.name
                continue
            value = getattr(source, entry.attr, None)
            if value is None:
                if entry.non_null:
                    return _FALLBACK
                result[entry.key] = None
            elif isinstance(entry, _Leaf):
                try:
                    serialized = entry.type.serialize(value)
                except Exception:  # graphql-core's path reports it properly
                    return _FALLBACK
                if serialized is None or serialized is Undefined:
                    return _FALLBACK
                result[entry.key] = serialized
            else:
                built = self._build(entry.plan, value)
                if built is _FALLBACK:
                    return _FALLBACK
                result[entry.key] = built
        return result

    def execute_collected_subfields(self, parent_type: GraphQLObjectType, source_value: Any,
                                    path: Any, grouped_field_set: Any,
                                    new_defer_usages: Any, position_context: Any) -> Any:
        manager = self.middleware_manager
        if not new_defer_usages and not (manager and manager.middlewares):
            plan = self._plan(parent_type, grouped_field_set)
            if plan is not None:
                built = self._build(plan, source_value)
                if built is not _FALLBACK:
                    return built
        return super().execute_collected_subfields(parent_type, source_value, path,
                                                   grouped_field_set, new_defer_usages,
                                                   position_context)
