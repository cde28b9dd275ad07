"""Identifier arguments refused at the edge when they hold characters no identifier may have.

Identifiers are the arguments and input fields named in :data:`IDENTIFIERS` (SKUs, channels,
customer groups, source codes, order ids), wherever they appear: as arguments, inside input
objects (``lines: [{sku: ...}]``), literal or in variables. None may hold a control character
(the catalog refuses the same in what it stores); an order id must be printable (no control,
format or separator characters but the space). A refusal is a GraphQL error with
``extensions.code = "BAD_USER_INPUT"`` naming the argument, before any resolver runs.

The checks an operation needs are worked out once per document (:func:`identifier_plan`);
JSON scalars (``importCatalog(document:)``, ``config``) are the catalog validator's business.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
)

from gateway.api.errors import ApiErrorCode
from gateway.api.unicode import has_control_characters

ORDER_ID = "orderId"
IDENTIFIERS = frozenset({"sku", "skus", "channel", "channels", "customerGroup", "source",
                         "code", "sourceCode", ORDER_ID})
_TEXT_TYPES = frozenset({"String", "ID"})


def identifier_problem(name: str, value: str) -> str | None:
    """Why ``value`` cannot be the identifier ``name``, or None."""
    if name == ORDER_ID:
        return None if value.isprintable() else "must contain printable characters only"
    return "must not contain control characters" if has_control_characters(value) else None


def invalid_identifier(where: str, problem: str) -> GraphQLError:
    return GraphQLError(f"Argument {where} {problem}.",
                        extensions={"code": ApiErrorCode.BAD_USER_INPUT.value,
                                    "argument": where})


class Shape(Enum):
    TEXT = "text"
    TEXTS = "texts"
    OTHER = "other"


def _shape(type_: GraphQLInputType, name: str) -> Shape:
    if not name:
        return Shape.OTHER
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        inner = type_.of_type
        if isinstance(inner, GraphQLNonNull):
            inner = inner.of_type
        return Shape.TEXTS if isinstance(inner, GraphQLScalarType) else Shape.OTHER
    return Shape.TEXT if isinstance(type_, GraphQLScalarType) else Shape.OTHER


@dataclass(frozen=True, slots=True)
class VariableCheck:
    """A variable whose value holds identifiers: where it is used and with which type."""

    variable: str
    where: str  # the argument path that names it in a refusal
    name: str  # the identifier name when the variable is one, else ""
    type: GraphQLInputType
    #: the variable is one identifier (channel: $c), or a list of them (skus: $s)
    shape: Shape

    def problem(self, value: Any) -> GraphQLError | None:
        """The refusal of ``value`` (uncoerced JSON), or None. The usual case (valid text) is
        checked in one pass over the joined identifiers; paths are worked out on failure."""
        if self.shape is Shape.TEXT and isinstance(value, str):
            problem = identifier_problem(self.name, value)
            return None if problem is None else invalid_identifier(self.where, problem)
        if self.shape is Shape.TEXTS and isinstance(value, list) and self.name != ORDER_ID:
            try:
                joined = "".join(value)
            except TypeError:  # not all strings: coercion will refuse it
                joined = "".join(item for item in value if isinstance(item, str))
            if not has_control_characters(joined):
                return None
        else:
            codes: list[str] = []
            order_ids: list[str] = []
            _collect(value, self.type, self.name, codes, order_ids)
            if not has_control_characters("".join(codes)) and \
                    "".join(order_ids).isprintable():
                return None
        for where, name, text in _json_identifiers(value, self.type, self.where, self.name):
            problem = identifier_problem(name, text)
            if problem is not None:
                return invalid_identifier(where, problem)
        return None  # pragma: no cover - _collect and _json_identifiers see the same strings


@dataclass(frozen=True, slots=True)
class IdentifierPlan:
    literal_problem: GraphQLError | None
    variables: tuple[VariableCheck, ...]

    def check(self, variables: Mapping[str, Any] | None) -> GraphQLError | None:
        """The first refusal for these (uncoerced, JSON) variable values, or None."""
        if self.literal_problem is not None:
            return self.literal_problem
        if variables:
            for check in self.variables:
                if check.variable in variables:
                    problem = check.problem(variables[check.variable])
                    if problem is not None:
                        return problem
        return None


def _collect(value: Any, type_: GraphQLInputType, name: str, codes: list[str],
             order_ids: list[str]) -> None:
    """Append the identifiers of a JSON value of ``type_`` to ``codes`` or ``order_ids``."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        item_type = type_.of_type
        if name and not isinstance(get_named_type(item_type), GraphQLInputObjectType):
            texts = [item for item in items if isinstance(item, str)]
            (order_ids if name == ORDER_ID else codes).extend(texts)
            return
        for item in items:
            _collect(item, item_type, name, codes, order_ids)
    elif isinstance(type_, GraphQLInputObjectType):
        if isinstance(value, dict):
            for key, field in type_.fields.items():
                if key in value:
                    _collect(value[key], field.type, key if key in IDENTIFIERS else "", codes,
                             order_ids)
    elif name and isinstance(value, str):
        (order_ids if name == ORDER_ID else codes).append(value)


def _json_identifiers(value: Any, type_: GraphQLInputType, where: str, name: str
                      ) -> Iterator[tuple[str, str, str]]:
    """(path, identifier name, text) of the identifiers in a JSON value of ``type_``."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            yield from _json_identifiers(item, type_.of_type, f"{where}[{index}]", name)
    elif isinstance(type_, GraphQLInputObjectType):
        if isinstance(value, dict):
            for key, field in type_.fields.items():
                if key in value:
                    yield from _json_identifiers(
                        value[key], field.type, f"{where}.{key}",
                        key if key in IDENTIFIERS else "")
    elif name and isinstance(value, str):
        yield where, name, value


class _Planner:
    def __init__(self, schema: GraphQLSchema,
                 fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.seen: set[str] = set()
        self.problem: GraphQLError | None = None
        self.variables: list[VariableCheck] = []

    def selection_set(self, selection_set: SelectionSetNode | None,
                      parent: GraphQLNamedType | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                self.selection_set(selection.selection_set,
                                   self.schema.get_type(condition.name.value) if condition
                                   else parent)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                definition = self.fragments.get(name)
                if definition is not None and name not in self.seen:
                    self.seen.add(name)  # a fragment's arguments are the same at every use
                    self.selection_set(definition.selection_set,
                                       self.schema.get_type(definition.type_condition.name.value))

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> None:
        if not isinstance(parent, GraphQLObjectType) or node.name.value not in parent.fields:
            return  # __typename, introspection: no identifiers
        definition = parent.fields[node.name.value]
        for argument in node.arguments or ():
            declared = definition.args.get(argument.name.value)
            if declared is not None:
                name = argument.name.value
                self.value(argument.value, declared.type, name,
                           name if name in IDENTIFIERS else "")
        self.selection_set(node.selection_set, get_named_type(definition.type))

    def value(self, node: ValueNode, type_: GraphQLInputType, where: str, name: str) -> None:
        if isinstance(node, VariableNode):
            if name or _holds_identifiers(type_):
                self.variables.append(VariableCheck(node.name.value, where, name, type_,
                                                    _shape(type_, name)))
            return
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            items = node.values if isinstance(node, ListValueNode) else (node,)
            for index, item in enumerate(items):
                self.value(item, type_.of_type, f"{where}[{index}]", name)
        elif isinstance(type_, GraphQLInputObjectType) and isinstance(node, ObjectValueNode):
            for field in node.fields:
                key = field.name.value
                if key in type_.fields:
                    self.value(field.value, type_.fields[key].type, f"{where}.{key}",
                               key if key in IDENTIFIERS else "")
        elif name and isinstance(node, StringValueNode) and self.problem is None:
            problem = identifier_problem(name, node.value)
            if problem is not None:
                self.problem = invalid_identifier(where, problem)


def _holds_identifiers(type_: GraphQLInputType, depth: int = 0) -> bool:
    named = get_named_type(type_)
    if not isinstance(named, GraphQLInputObjectType) or depth > 8:
        return False
    return any((key in IDENTIFIERS and get_named_type(field.type).name in _TEXT_TYPES)
               or _holds_identifiers(field.type, depth + 1)
               for key, field in named.fields.items())


def plan_identifiers(schema: GraphQLSchema, document: DocumentNode,
                     operation_name: str | None = None) -> IdentifierPlan:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = (operations[0] if operation_name is None and len(operations) == 1 else
                 next((o for o in operations
                       if o.name is not None and o.name.value == operation_name), None))
    if operation is None:
        return IdentifierPlan(None, ())
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    planner = _Planner(schema, fragments)
    planner.selection_set(operation.selection_set, schema.get_root_type(operation.operation))
    return IdentifierPlan(planner.problem, tuple(planner.variables))


_PLANS: OrderedDict[tuple[int, int, str | None],
                    tuple[GraphQLSchema, DocumentNode, IdentifierPlan]] = OrderedDict()
_PLAN_CACHE_SIZE = 512


def identifier_plan(schema: GraphQLSchema, document: DocumentNode,
                    operation_name: str | None = None) -> IdentifierPlan:
    """:func:`plan_identifiers`, memoised per document object (as the cost plans are)."""
    key = (id(schema), id(document), operation_name)
    entry = _PLANS.get(key)
    if entry is not None and entry[0] is schema and entry[1] is document:
        _PLANS.move_to_end(key)
        return entry[2]
    plan = plan_identifiers(schema, document, operation_name)
    _PLANS[key] = (schema, document, plan)
    if len(_PLANS) > _PLAN_CACHE_SIZE:
        _PLANS.popitem(last=False)
    return plan
