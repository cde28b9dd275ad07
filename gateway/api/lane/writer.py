"""Writers: the answer of one ``availability`` field, compiled for one selection.

graphql-core answers a list of N availabilities by calling a resolver and completing a value
for every selected field of every item (the existing fast path still walks the selection per
object). A writer is a Python function generated once per selection — the grouped field set
graphql-core itself collected for the document and its directive values — that turns the
service's ``list[Availability | None]`` into the answer's list of dicts in one loop, each
item one dict literal in the selection's order.

Serialisation is graphql-core's: every leaf goes through the schema type's
``coerce_output_value`` unless its Python value is one for which that function is the identity
(a ``str`` for String, a ``bool`` for Boolean, a finite ``float`` for Float, an ``int`` in
32-bit range for Int), and enum members are looked up in a table made by that same function.
Whenever graphql-core would report an error — a null for a non-null field, a value that does
not serialise — the writer raises :class:`Fallback` instead and the request takes the normal
path, which reports it.

The generated source only holds names validated by the GraphQL parser (response keys, as
``repr`` literals), the expressions of :mod:`gateway.api.lane.fields`, and generated local
names: no request data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetails

from gateway.api.lane.fields import (
    HELPERS,
    LEAVES,
    OBJECTS,
    SETTINGS,
    reads_settings_only,
    uses_settings,
)
from gateway.domain.availability import Availability

#: (fields of one object type, grouped by response key) → the sub-selection of an object field
Subfields = Callable[[GraphQLObjectType, list[FieldDetails]], dict[str, list[FieldDetails]]]
Writer = Callable[[Sequence[Availability | None], str], list[dict[str, Any] | None]]


class Fallback(Exception):
    """graphql-core would not answer this with data alone: take the normal path."""


def coerce_leaf(type_: GraphQLLeafType, value: Any) -> Any:
    """graphql-core's ``complete_leaf_value``, raising :class:`Fallback` where it errs."""
    try:
        result = type_.coerce_output_value(value)
    except Exception as exc:
        raise Fallback from exc
    if result is None or result is Undefined:
        raise Fallback
    return result


#: Settings objects whose nested object a writer keeps (then it starts again).
SHARED_OBJECTS = 1024

#: The condition under which a value of a built-in scalar is its own serialisation.
_IDENTITY = {
    GraphQLString: "{v}.__class__ is str",
    GraphQLBoolean: "{v}.__class__ is bool",
    GraphQLFloat: "{v}.__class__ is float and {v} - {v} == 0.0",
    GraphQLInt: "{v}.__class__ is int and -2147483648 <= {v} <= 2147483647",
}


class _Compiler:
    def __init__(self, subfields: Subfields) -> None:
        self.subfields = subfields
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"Fallback": Fallback, "coerce_leaf": coerce_leaf,
                                      **HELPERS}
        self.count = 0
        self.settings = False  # some value reads ``s``: bind it once per item
        self.reads_item = False  # some value of the object being compiled reads ``a``
        self.indent = " " * 8

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def constant(self, prefix: str, value: Any) -> str:
        name = self.fresh(prefix)
        self.names[name] = value
        return name

    def object(self, type_: GraphQLObjectType,
               grouped: dict[str, list[FieldDetails]]) -> str | None:
        """Emit the statements computing the values of one object; return the dict literal
        (None: a field the lane does not cover)."""
        entries: list[str] = []
        for key, details in grouped.items():
            name = details[0].node.name.value
            if name == "__typename":
                entries.append(f"{key!r}: {type_.name!r}")
                continue
            field = type_.fields.get(name)
            if field is None:
                return None
            child_type = OBJECTS.get((type_.name, name))
            if child_type is not None:
                named = field.type.of_type if isinstance(field.type, GraphQLNonNull) \
                    else field.type
                if not (isinstance(field.type, GraphQLNonNull) and
                        isinstance(named, GraphQLObjectType) and named.name == child_type):
                    return None  # the object is always made: only a non-null one is followed
                inner = self.nested(named, self.subfields(named, details))
                if inner is None:
                    return None
                entries.append(f"{key!r}: {inner}")
                continue
            expression = LEAVES.get(type_.name, {}).get(name)
            if expression is None:
                return None
            value = self.leaf(expression, field.type)
            if value is None:
                return None
            entries.append(f"{key!r}: {value}")
        return "{" + ", ".join(entries) + "}"

    def nested(self, type_: GraphQLObjectType,
               grouped: dict[str, list[FieldDetails]]) -> str | None:
        """An object field's dict. When its values depend on the settings alone (a
        QuantityRule), it is made once per settings object — shops share a few — and kept in
        a small table of this writer: the same dict then stands in every item using them."""
        outer, reads_item = self.indent, self.reads_item
        self.indent, self.reads_item = outer + "    ", False
        start = len(self.lines)
        literal = self.object(type_, grouped)
        shared = not self.reads_item
        self.indent, self.reads_item = outer, reads_item or self.reads_item
        if literal is None or not shared:
            self.lines[start:] = [line[4:] for line in self.lines[start:]]  # not memoised
            return literal
        self.settings = True
        memo, entry = self.constant("M", {}), self.fresh("r")
        self.lines[start:start] = [f"{outer}{entry} = {memo}.get(id(s))",
                                   f"{outer}if {entry} is None or {entry}[0] is not s:"]
        self.lines += [f"{outer}    {entry} = (s, {literal})",
                       f"{outer}    if len({memo}) >= {SHARED_OBJECTS}: {memo}.clear()",
                       f"{outer}    {memo}[id(s)] = {entry}"]
        return f"{entry}[1]"

    def leaf(self, expression: str, type_: GraphQLOutputType) -> str | None:
        non_null = isinstance(type_, GraphQLNonNull)
        named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if not isinstance(named, GraphQLLeafType):
            return None
        self.settings = self.settings or uses_settings(expression)
        self.reads_item = self.reads_item or not reads_settings_only(expression)
        v = self.fresh("v")
        t = self.constant("T", named)
        emit = self.lines.append
        emit(f"{self.indent}{v} = {expression}")
        if non_null:
            emit(f"{self.indent}if {v} is None: raise Fallback")
            prefix = self.indent
        else:
            emit(f"{self.indent}if {v} is not None:")
            prefix = self.indent + "    "
        identity = _IDENTITY.get(named) if isinstance(named, GraphQLScalarType) else None
        wrapped: Any = getattr(named, "wrapped_cls", None)
        if identity is not None:
            emit(f"{prefix}if not ({identity.format(v=v)}): {v} = coerce_leaf({t}, {v})")
        elif isinstance(named, GraphQLEnumType) and isinstance(wrapped, type) \
                and issubclass(wrapped, Enum):
            names = self.constant("E", {member: coerce_leaf(named, member)
                                        for member in wrapped})
            cls = self.constant("C", wrapped)
            emit(f"{prefix}{v} = {names}[{v}] if {v}.__class__ is {cls} "
                 f"else coerce_leaf({t}, {v})")
        else:
            emit(f"{prefix}{v} = coerce_leaf({t}, {v})")
        return v


def compile_writer(item_type: GraphQLObjectType, grouped: dict[str, list[FieldDetails]],
                   subfields: Subfields) -> Writer | None:
    """The writer of a list of ``item_type`` (nullable items) for this selection, or None
    when the selection holds a field the lane does not cover."""
    compiler = _Compiler(subfields)
    literal = compiler.object(item_type, grouped)
    if literal is None:
        return None
    body = [
        "def write(items, channel):",
        "    out = []",
        "    append = out.append",
        "    for a in items:",
        "        if a is None:",
        "            append(None)",
        "            continue",
        *([f"        s = {SETTINGS}"] if compiler.settings else []),
        *compiler.lines,
        f"        append({literal})",
        "    return out",
    ]
    namespace = dict(compiler.names)
    exec(compile("\n".join(body), f"<lane writer of {item_type.name}>", "exec"), namespace)
    writer: Writer = namespace["write"]
    writer.__doc__ = "\n".join(body)  # what was compiled, for a reader in a debugger
    return writer
