"""The lane's field table gives, for every availability the shop has, the value the normal
path's ``product_availability`` puts in each attribute; and it covers every plain field."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.api.lane.fields import (
    HELPERS,
    LEAVES,
    OBJECTS,
    PRODUCT_AVAILABILITY,
    QUANTITY_RULE,
    SETTINGS,
)
from gateway.api.schema import build_schema
from gateway.api.storefront.types import product_availability
from tests.support import SHOP, Api

SKUS = [product["sku"] for product in SHOP["products"]]


def python_names(type_name: str) -> dict[str, str]:
    """GraphQL field name → attribute of the Strawberry type."""
    schema = build_schema()
    definition = schema.get_type_by_name(type_name)
    assert definition is not None
    return {schema.config.name_converter.get_graphql_name(f): f.python_name
            for f in definition.fields}  # type: ignore[union-attr]


def test_every_plain_field_is_in_the_table() -> None:
    schema = build_schema()._schema
    for type_name in (PRODUCT_AVAILABILITY, QUANTITY_RULE):
        fields = set(schema.type_map[type_name].fields)  # type: ignore[union-attr]
        objects = {name for parent, name in OBJECTS if parent == type_name}
        # explain is computed on demand (provenance): always the normal path
        assert fields - {"explain"} == set(LEAVES[type_name]) | objects


@pytest.mark.parametrize("channel", ["eu_website", "us_website"])
@pytest.mark.parametrize("group", [None, "wholesale"])
async def test_each_expression_gives_the_attribute_of_the_normal_path(
        api: Api, channel: str, group: str | None) -> None:
    found = await api.services.storefront.availability(channel, SKUS, group)
    names = {type_name: python_names(type_name)
             for type_name in (PRODUCT_AVAILABILITY, QUANTITY_RULE)}
    compared = 0
    for a in found:
        if a is None:
            continue
        expected: dict[str, Any] = {PRODUCT_AVAILABILITY: product_availability(channel, a)}
        expected[QUANTITY_RULE] = expected[PRODUCT_AVAILABILITY].quantity_rule
        scope = {**HELPERS, "a": a, "channel": channel}
        scope["s"] = eval(SETTINGS, scope)
        for type_name, leaves in LEAVES.items():
            for field, expression in leaves.items():
                value = eval(expression, scope)  # the table's own expression, as the writer
                wanted = getattr(expected[type_name], names[type_name][field])
                assert (value, type(value)) == (wanted, type(wanted)), (a.sku, field)
                compared += 1
    assert compared > 100
