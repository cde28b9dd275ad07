"""Which documents the lane covers: worked out once per (document, operation name).

A **query** whose variables are of the shapes :mod:`gateway.api.lane.variables` accepts, whose
fragments (named or inline) are on object types, without fragment arguments, and whose only
directives are ``@skip``/``@include`` — with a literal condition or one of at most
:data:`MAX_SWITCHES` declared Boolean variables. Which root fields and which selections are
covered is decided per variant (:mod:`gateway.api.lane.plan`).
"""

from __future__ import annotations

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

from gateway.api.lane.plan import OperationPlan
from gateway.api.lane.variables import Kind, lane_variables

#: Distinct Boolean variables in ``@skip``/``@include``: up to 2**4 variants per plan.
MAX_SWITCHES = 4
SWITCHES = frozenset({"skip", "include"})


def compile_operation(schema: GraphQLSchema, document: DocumentNode,
                      operation_name: str | None) -> OperationPlan | None:
    """The plan of the operation a request selects with ``operation_name``, or None when the
    lane does not cover it. ``document`` must have passed validation."""
    operation = _operation(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    variables = lane_variables(schema, operation.variable_definitions or ())
    if variables is None:
        return None
    booleans = {spec.name for spec in variables if spec.kind is Kind.BOOLEAN}
    switches: dict[str, None] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions or definition.directives or \
                    not _is_object(schema, definition.type_condition.name.value):
                return None
            selections = definition.selection_set
        elif isinstance(definition, OperationDefinitionNode):
            if definition is not operation:
                continue
            if definition.directives:
                return None
            selections = definition.selection_set
        else:
            return None
        if not _covered_selections(schema, selections, booleans, switches):
            return None
    if len(switches) > MAX_SWITCHES:
        return None
    return OperationPlan(schema, document, operation_name, variables, tuple(switches))


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation graphql-core executes for ``name`` (Executor.build's rule)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def _is_object(schema: GraphQLSchema, type_name: str) -> bool:
    return isinstance(schema.get_type(type_name), GraphQLObjectType)


def _covered_selections(schema: GraphQLSchema, selection_set: SelectionSetNode,
                        booleans: set[str], switches: dict[str, None]) -> bool:
    """Every fragment is on an object type and every directive a ``@skip``/``@include`` whose
    condition is a literal or a declared Boolean variable (collected in ``switches``)."""
    for selection in selection_set.selections:
        for directive in selection.directives or ():
            arguments = directive.arguments or ()
            if directive.name.value not in SWITCHES or len(arguments) != 1:
                return False
            condition = arguments[0].value
            if isinstance(condition, VariableNode) and condition.name.value in booleans:
                switches[condition.name.value] = None
            elif not isinstance(condition, BooleanValueNode):
                return False
        if isinstance(selection, InlineFragmentNode):
            condition_type = selection.type_condition
            if condition_type is not None and not _is_object(schema, condition_type.name.value):
                return False
        elif isinstance(selection, FragmentSpreadNode) and selection.arguments:
            return False  # fragment arguments (experimental): not followed
        if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set \
                and not _covered_selections(schema, selection.selection_set, booleans,
                                            switches):
            return False
    return True
