"""A small catalog subgraph for the federation tests: it owns ``Product`` and its ``name``.

    python -m uvicorn tests.federation.catalog_subgraph:app --port 4001
"""

from __future__ import annotations

import strawberry
from strawberry.asgi import GraphQL

NAMES = {"SHIRT": "Shirt", "PACK": "Pack of 6", "NOPE": "Not stocked here"}


@strawberry.federation.type(keys=["sku"])
class Product:
    sku: str
    name: str

    @classmethod
    def resolve_reference(cls, sku: str) -> Product:
        return Product(sku=sku, name=NAMES.get(sku, sku))


@strawberry.type
class Query:
    @strawberry.field
    def product(self, sku: str) -> Product | None:
        return Product(sku=sku, name=NAMES[sku]) if sku in NAMES else None

    @strawberry.field
    def products(self) -> list[Product]:
        return [Product(sku=sku, name=name) for sku, name in NAMES.items()]


schema = strawberry.federation.Schema(query=Query, federation_version="2.3")
app = GraphQL(schema, graphql_ide=None)
