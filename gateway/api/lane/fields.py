"""What the lane writes for each field of the storefront's availability types.

The normal path builds a :class:`~gateway.api.storefront.types.ProductAvailability` from the
domain's :class:`~gateway.domain.availability.Availability`
(:func:`~gateway.api.storefront.types.product_availability`) and graphql-core reads its
attributes. The lane reads the same values straight from the domain object: each entry below
is a Python expression over ``a`` (the Availability), ``s`` (its effective settings,
:data:`SETTINGS`) and ``channel`` (the argument) that gives the value ``product_availability``
puts in that attribute. The GraphQL type of each field, and so its serialisation, comes from
the schema, never from here.

A field missing from these tables is simply not covered: a query selecting it takes the normal
path (``explain``, or a field added to the type later). ``tests/api/test_lane_fields.py``
checks every entry against ``product_availability``; the differential test checks answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from gateway.api.common import qty

#: Where ``product_availability`` reads the settings: ``a.rules`` once availabilities are read
#: from precomputed facts (which have no provenance, so no ``a.settings``), else ``a.settings``.
SETTINGS = "a.rules"  # the values of the effective settings (facts or engine)

#: The type ``availability`` returns items of, and the one object type nested in it.
PRODUCT_AVAILABILITY = "ProductAvailability"
QUANTITY_RULE = "QuantityRule"

#: Leaf fields: GraphQL type name → field name → the value's expression.
LEAVES: Mapping[str, Mapping[str, str]] = {
    PRODUCT_AVAILABILITY: {
        "sku": "a.sku",
        "channel": "channel",
        "stockId": "a.stock_id",
        "stockStatus": "a.stock_status",
        "isSalable": "a.is_salable",
        "salableQty": "qty(a.salable_qty)",
        "onlyXLeft": "qty(a.only_x_left)",
        "lowStock": "a.low_stock",
        "manageStock": "s.manage_stock",
        "backorders": "s.backorders",
        "assigned": "a.is_assigned",
        "displayWhenOutOfStock": "s.show_out_of_stock",
    },
    QUANTITY_RULE: {
        "minimum": "float(s.min_sale_qty)",
        "maximum": "positive(s.max_sale_qty)",
        "increment": "positive(s.qty_increments)",
        "allowsDecimals": "s.is_qty_decimal",
        "allowsMultipleBoxes": "s.is_decimal_divided",
    },
}

#: Object fields: (parent type name, field name) → the object type it holds. Its leaves read
#: the same ``a``/``s``: a QuantityRule is made from the settings of its availability.
OBJECTS: Mapping[tuple[str, str], str] = {
    (PRODUCT_AVAILABILITY, "quantityRule"): QUANTITY_RULE,
}


def positive(value: Decimal) -> float | None:
    """A limit that is off at 0 (``max_sale_qty``, ``qty_increments``): None, else a Float."""
    return float(value) if value > 0 else None


#: The names the expressions may use besides ``a``, ``s`` and ``channel``.
HELPERS: Mapping[str, Any] = {"qty": qty, "positive": positive}


def uses_settings(expression: str) -> bool:
    """The expression reads ``s`` (so the writer binds ``s`` once per item)."""
    return expression.startswith("s.") or "(s." in expression


def reads_settings_only(expression: str) -> bool:
    """The expression's value depends on ``s`` alone (not on ``a`` nor ``channel``)."""
    return "a." not in expression and "channel" not in expression
