"""The compiled lane for storefront ``availability`` queries and ``placeOrder``, and persisted
queries.

The normal path (Strawberry, graphql-core) answers every request first; when it answers a
covered query without error, the lane learns a plan for that document. From then on the lane
answers that document's requests itself — the same checks, the same service call, the same
JSON — and hands anything it does not follow, errors included, to the normal path.
``gateway/api/app.py`` wires it in (:class:`~gateway.api.app.GatewayGraphQL`); README,
"Performance", says what it saves.
"""

from gateway.api.lane.persisted import PersistedQueries
from gateway.api.lane.runner import Lane, Miss, read_body

__all__ = ["Lane", "Miss", "PersistedQueries", "read_body"]
