"""The subgraph SDL that ``_service { sdl }`` answers: the public storefront part of the schema.

A router plans only against what a subgraph advertises. The gateway advertises its storefront
operations (``availability``, ``validateCart``, ``availabilityChanged``) and the ``Product``
entity, not its back office: the back office is called on the gateway itself with its token,
never through a shop's public router, and fields such as ``product(sku)`` or ``order`` would
collide with the catalog's and orders' own root fields at composition. Everything advertised
is served by the full schema with exactly the same types, so the router's queries run as is.

``python -m gateway.api.federation.sdl`` prints it (``make schema`` writes ``subgraph.graphql``).
"""

from __future__ import annotations

import functools
from typing import Final

import strawberry

from gateway.api.federation.types import Product
from gateway.api.live.resolvers import LiveSubscription
from gateway.api.storefront.resolvers import StorefrontMutation, StorefrontQuery

#: The oldest Federation 2 version with everything the subgraph uses (``@key``), so that older
#: routers accept it too; composition takes the highest version among the subgraphs.
FEDERATION_VERSION: Final = "2.3"


@strawberry.type(name="_Service")
class Service:
    sdl: str


@strawberry.type
class FederationQuery:
    @strawberry.field(name="_service", description="The subgraph's SDL for routers and "
                                                   "composition: the public storefront part.")
    def service(self) -> Service:
        return Service(sdl=subgraph_sdl())


@functools.cache
def subgraph_sdl() -> str:
    """The SDL of the storefront subgraph (computed once per process); the subgraph's own
    ``_service`` field is part of what it describes."""

    @strawberry.type(name="Query")
    class SubgraphQuery(StorefrontQuery, FederationQuery):
        pass

    @strawberry.type(name="Mutation")
    class SubgraphMutation(StorefrontMutation):
        pass

    @strawberry.type(name="Subscription")
    class SubgraphSubscription(LiveSubscription):
        pass

    schema = strawberry.federation.Schema(query=SubgraphQuery, mutation=SubgraphMutation,
                                          subscription=SubgraphSubscription,
                                          types=[Product], federation_version=FEDERATION_VERSION)
    return schema.as_str()


if __name__ == "__main__":
    print(subgraph_sdl())
