"""``_service { sdl }``: the storefront subgraph, committed as ``subgraph.graphql``.

It advertises the public storefront (and the ``Product`` entity), never the back office, and
every advertised field is served by the full schema with the same type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphql
import pytest

from gateway.api.federation.sdl import subgraph_sdl
from gateway.api.schema import build_schema
from tests.security.test_auth import EXPECTED_BACK_OFFICE
from tests.servers import ROOT
from tests.support import SHOP, TOKEN

SERVICE = "{ _service { sdl } }"


def test_subgraph_file_matches_the_code() -> None:
    committed = (ROOT / "subgraph.graphql").read_text()
    assert committed == subgraph_sdl() + "\n", (
        "subgraph.graphql is stale: run `make schema` and commit it")


def test_the_subgraph_is_the_storefront_and_the_product_entity() -> None:
    sdl = subgraph_sdl()
    assert '@link(url: "https://specs.apollo.dev/federation/v2.' in sdl
    assert 'type Product @key(fields: "sku")' in sdl
    subgraph = graphql.build_schema(sdl, assume_valid_sdl=True)
    product = subgraph.get_type("Product")
    assert isinstance(product, graphql.GraphQLObjectType)
    assert set(product.fields) == {"sku", "availability"}
    assert set(product.fields["availability"].args) == {"channel", "customerGroup"}
    advertised = {name for root in (subgraph.query_type, subgraph.mutation_type,
                                    subgraph.subscription_type) if root
                  for name in root.fields}
    assert not advertised & EXPECTED_BACK_OFFICE
    assert {"availability", "validateCart", "_entities", "_service"} <= advertised
    assert "ProductSettings" not in sdl and "placeOrder(" not in sdl


def test_every_advertised_field_is_served_with_the_same_type() -> None:
    subgraph = graphql.build_schema(subgraph_sdl(), assume_valid_sdl=True)
    served = graphql.build_schema(build_schema().as_str(), assume_valid_sdl=True)
    for name, type_ in subgraph.type_map.items():
        if name.startswith("__") or not isinstance(type_, graphql.GraphQLObjectType):
            continue
        full = served.get_type(name)
        assert isinstance(full, graphql.GraphQLObjectType), name
        for field_name, field in type_.fields.items():
            assert field_name in full.fields, f"{name}.{field_name}"
            assert str(full.fields[field_name].type) == str(field.type), f"{name}.{field_name}"
            assert ({a: str(arg.type) for a, arg in full.fields[field_name].args.items()}
                    == {a: str(arg.type) for a, arg in field.args.items()})


@pytest.mark.parametrize("env", ["development", "production"])
async def test_service_answers_the_subgraph_in_both_modes(make_api: Callable[..., Any],
                                                          env: str) -> None:
    async with make_api(env=env) as api:
        await api.load(SHOP)
        for token in (None, TOKEN):
            assert (await api.data(SERVICE, token=token))["_service"]["sdl"] == subgraph_sdl()
        if env == "production":  # while introspection stays refused
            body = await api.gql("{ __schema { types { name } } }")
            assert body.get("data") is None and body["errors"]
