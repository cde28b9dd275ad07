"""Self-hosted GraphiQL: a page of our own and its assets, served by the gateway itself.

Nothing is loaded from another origin, so GraphiQL works offline and under a strict
Content-Security-Policy. The vendored files (static/vendor/) come from the npm registry; see
static/vendor/VERSIONS.json and scripts/vendor_graphiql.py.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from gateway.api.graphiql import page
from gateway.api.graphiql.assets import MOUNT_PATH, STATIC_DIR, ImmutableStaticFiles

__all__ = ["render_page", "routes"]


def render_page(request: Request) -> Response:
    """The GraphiQL page, with its Content-Security-Policy header."""
    return page.response(request)


def routes(enabled: bool) -> list[BaseRoute]:
    """The route serving GraphiQL's assets, or none when GraphiQL is off (production): a
    gateway without GraphiQL does not advertise, or serve, a developer tool's files."""
    if not enabled:
        return []
    return [Mount(MOUNT_PATH, app=ImmutableStaticFiles(directory=STATIC_DIR),
                  name="graphiql-static")]
