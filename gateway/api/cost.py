"""Query cost: how much work an operation asks for, known before it runs (Shopify-style).

The cost of an operation is the number of objects its answer can hold:

- every selected field with a sub-selection (an object) costs 1 for each time it is answered;
  scalar and enum fields cost 0 (they ride along with their object), so does ``__typename``;
- a field with a list argument (``availability(skus:)``, ``validateCart(lines:)``,
  ``setSourceItems(items:)``...) is answered once per item of its longest list argument, and
  so is everything selected under it;
- a list whose length no argument gives counts as :data:`LIST_SIZES` items (``explain``: one
  per inventory option), other such lists as one item;
- aliases and fragment spreads count every time they appear: each one is answered.

The cost depends only on the document and the lengths of list variables. :func:`plan_cost`
turns an operation into a :class:`CostPlan` once (memoised per parsed document by
:func:`operation_plan`); evaluating it for a request's variables reads a few list lengths.
Nothing here coerces a variable: a 300,000-item list is measured with ``len``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from gateway.api.errors import ApiErrorCode
from gateway.domain.options import OPTIONS
from gateway.settings import Settings

#: What one object of the answer costs (Shopify: 1 per object, 0 per scalar).
OBJECT_COST = 1
#: Items assumed for list fields that no argument sizes.
LIST_SIZES: Mapping[str, int] = {"explain": len(OPTIONS)}


@dataclass(frozen=True, slots=True)
class Multiplier:
    """How many times a field is answered: ``factor × max(floor, len of each variable)``."""

    factor: int
    floor: int
    variables: tuple[str, ...]

    def value(self, variables: Mapping[str, Any], defaults: Mapping[str, int]) -> int:
        count = self.floor
        for name in self.variables:
            count = max(count, _length(name, variables, defaults))
        return self.factor * count


@dataclass(frozen=True, slots=True)
class CostForm:
    """A cost linear in the lengths of list variables: ``static`` plus, for each dynamic
    part, its multiplier times its inner form."""

    static: int = 0
    dynamic: tuple[tuple[Multiplier, CostForm], ...] = ()

    def evaluate(self, variables: Mapping[str, Any], defaults: Mapping[str, int]) -> int:
        total = self.static
        for multiplier, inner in self.dynamic:
            total += multiplier.value(variables, defaults) * inner.evaluate(variables, defaults)
        return total

    def plus(self, other: CostForm) -> CostForm:
        return CostForm(self.static + other.static, self.dynamic + other.dynamic)

    def times(self, multiplier: Multiplier) -> CostForm:
        if not (self.static or self.dynamic):
            return self
        if multiplier.variables:
            return CostForm(0, ((multiplier, self),))
        scale = multiplier.factor * multiplier.floor
        return CostForm(self.static * scale, tuple(
            (Multiplier(m.factor * scale, m.floor, m.variables), inner)
            for m, inner in self.dynamic))


@dataclass(frozen=True, slots=True)
class ListArgument:
    """A list argument of the operation: its name and where its length comes from."""

    name: str
    length: int  # of a literal list; 0 for a variable
    variable: str | None


@dataclass(frozen=True, slots=True)
class CostPlan:
    """What an operation costs, as a function of its variables, and its list arguments."""

    form: CostForm
    lists: tuple[ListArgument, ...]
    #: lengths of list variables declared with a default list value
    defaults: Mapping[str, int]

    def cost(self, variables: Mapping[str, Any] | None) -> int:
        """The cost for these (uncoerced, JSON) variable values."""
        return self.form.evaluate(variables or {}, self.defaults)

    def longest(self, argument: str, variables: Mapping[str, Any] | None) -> int:
        """The length of the longest list passed to an argument named ``argument``, measured
        before any coercion (0 when there is none)."""
        longest = 0
        for item in self.lists:
            if item.name == argument:
                length = item.length if item.variable is None else _length(
                    item.variable, variables or {}, self.defaults)
                longest = max(longest, length)
        return longest


def _length(name: str, variables: Mapping[str, Any], defaults: Mapping[str, int]) -> int:
    """Items of list variable ``name``: a non-list value is coerced to a list of one."""
    if name not in variables:
        return defaults.get(name, 1)
    given = variables[name]
    return len(given) if isinstance(given, list) else 1


def plan_cost(document: DocumentNode, operation_name: str | None = None) -> CostPlan | None:
    """The plan of the operation ``operation_name`` selects (None when it selects none:
    execution refuses that request anyway)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        operation = operations[0] if len(operations) == 1 else None
    else:
        operation = next((o for o in operations
                          if o.name is not None and o.name.value == operation_name), None)
    if operation is None:
        return None
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    planner = _Planner(fragments)
    form = planner.selection_set(operation.selection_set)
    defaults = {v.variable.name.value: len(v.default_value.values)
                for v in operation.variable_definitions or ()
                if isinstance(v.default_value, ListValueNode)}
    return CostPlan(form, tuple(planner.lists), defaults)


class _Planner:
    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.done: dict[str, CostForm] = {}  # each fragment is costed once, whatever its uses
        self.lists: list[ListArgument] = []

    def selection_set(self, selection_set: SelectionSetNode | None) -> CostForm:
        total = CostForm()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total = total.plus(self.field(selection))
            elif isinstance(selection, InlineFragmentNode):
                total = total.plus(self.selection_set(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.plus(self.fragment(selection.name.value))
        return total

    def fragment(self, name: str) -> CostForm:
        if name not in self.done:
            definition = self.fragments.get(name)
            # Validation has refused unknown and cyclic fragments before a plan is made; the
            # placeholder keeps a direct call on an invalid document from recursing forever.
            self.done[name] = CostForm()
            if definition is not None:
                self.done[name] = self.selection_set(definition.selection_set)
        return self.done[name]

    def field(self, node: FieldNode) -> CostForm:
        multiplier = self.multiplier(node)
        if node.selection_set is None:
            return CostForm()  # scalars, enums, __typename
        inner = CostForm(OBJECT_COST).plus(self.selection_set(node.selection_set))
        return inner.times(multiplier)

    def multiplier(self, node: FieldNode) -> Multiplier:
        floor = 1
        variables: list[str] = []
        for argument in node.arguments or ():
            value, name = argument.value, argument.name.value
            if isinstance(value, ListValueNode):
                floor = max(floor, len(value.values))
                self.lists.append(ListArgument(name, len(value.values), None))
            elif isinstance(value, VariableNode):
                variables.append(value.name.value)
                self.lists.append(ListArgument(name, 0, value.name.value))
        return Multiplier(LIST_SIZES.get(node.name.value, 1), floor, tuple(variables))


#: Plans by parsed document. Strawberry's parser cache hands out one DocumentNode per query
#: text, so a plan is made once per distinct query. Keyed by identity (a DocumentNode's own
#: hash walks the whole tree); the entry keeps its document alive, so an id is never reused
#: while its entry exists.
_PLANS: OrderedDict[tuple[int, str | None],
                    tuple[DocumentNode, CostPlan | None]] = OrderedDict()
_PLAN_CACHE_SIZE = 512


def operation_plan(document: DocumentNode, operation_name: str | None = None
                   ) -> CostPlan | None:
    """:func:`plan_cost`, memoised per document object (the last 512)."""
    key = (id(document), operation_name)
    entry = _PLANS.get(key)
    if entry is not None and entry[0] is document:
        _PLANS.move_to_end(key)
        return entry[1]
    plan = plan_cost(document, operation_name)
    _PLANS[key] = (document, plan)
    if len(_PLANS) > _PLAN_CACHE_SIZE:
        _PLANS.popitem(last=False)
    return plan


def operation_cost(document: DocumentNode, variables: Mapping[str, Any] | None,
                   operation_name: str | None = None) -> int:
    """The cost of running ``operation_name`` of ``document`` with these JSON variables.

    A pure function of its arguments, callable by any executor on a validated document,
    before variables are coerced.
    """
    plan = operation_plan(document, operation_name)
    return 0 if plan is None else plan.cost(variables)


def cost_limit(settings: Settings, back_office: bool) -> int:
    """The limit for a request: back-office requests (valid token) get the larger one."""
    return settings.max_back_office_cost if back_office else settings.max_cost


def cost_report(requested: int, limit: int) -> dict[str, int]:
    """``extensions.cost`` of an answer."""
    return {"requested": requested, "limit": limit}


def cost_limit_error(requested: int, limit: int) -> GraphQLError:
    """The refusal of an operation costing more than ``limit``."""
    return GraphQLError(
        f"Query cost {requested} exceeds the limit of {limit}: ask for fewer SKUs or lines, "
        f"fewer aliases, or fewer nested objects (explain costs one per option and SKU).",
        extensions={"code": ApiErrorCode.COST_LIMIT_EXCEEDED.value,
                    "cost": cost_report(requested, limit)})
