"""What a subscriber selected, so that only a change it can see is sent to it.

A product page that selects ``isSalable stockStatus`` should not get an event each time an
order moves ``salableQty``. The view of an answer is the tuple of the selected top-level
fields; a field computed by a resolver (``explain``) or one the view cannot place stands for
the whole domain answer, which errs on the side of sending.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from strawberry.types import Info
from strawberry.types.base import get_object_definition
from strawberry.types.nodes import FragmentSpread, InlineFragment, Selection

from gateway.api.storefront.types import ProductAvailability

View = Callable[[ProductAvailability], tuple[object, ...]]


def _field_names(selections: Iterable[Selection]) -> set[str]:
    names: set[str] = set()
    for selection in selections:
        if isinstance(selection, FragmentSpread | InlineFragment):
            names |= _field_names(selection.selections)
        else:
            names.add(selection.name)
    return names


def answer_view(info: Info[Any, Any]) -> View:
    """The comparable view of an answer under the current field's selection."""
    definition = get_object_definition(ProductAvailability, strict=True)
    converter = info.schema.config.name_converter
    fields = {converter.from_field(field): field for field in definition.fields}
    attributes: list[str] = []
    whole = False
    for name in sorted(_field_names(info.selected_fields[0].selections)):
        field = fields.get(name)
        if name == "__typename":
            continue
        if field is None or field.base_resolver is not None:
            whole = True
        else:
            attributes.append(field.python_name)

    def view(answer: ProductAvailability) -> tuple[object, ...]:
        selected = tuple(getattr(answer, attribute) for attribute in attributes)
        return (*selected, answer._availability) if whole else selected

    return view
