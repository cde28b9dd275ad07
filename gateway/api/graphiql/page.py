"""The GraphiQL page (page.html, no inline script or style) and the security headers it is
served with."""

from __future__ import annotations

import functools
import html
from pathlib import Path
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse

from gateway.api.graphiql.assets import asset_url

#: Every file the page loads, by its placeholder in page.html (paths under static/).
ASSETS = {
    "graphiql_css": "vendor/graphiql.min.css",
    "explorer_css": "vendor/plugin-explorer.css",
    "page_css": "page.css",
    "react_js": "vendor/react.production.min.js",
    "react_dom_js": "vendor/react-dom.production.min.js",
    "graphiql_js": "vendor/graphiql.min.js",
    "explorer_js": "vendor/plugin-explorer.umd.js",
    "page_js": "page.js",
}

#: The one inline <style> GraphiQL adds: the scroll lock its (Radix) dialogs put in <head>.
#: Its text is fixed as long as the page has no scrollbar (page.css sees to it); a new
#: GraphiQL may change it, and then the browser test fails on the console error, which names
#: the new hash.
SCROLL_LOCK_STYLE_HASH = "sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc="

# Everything from this origin only; see the README's GraphiQL section for why each line.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    f"style-src 'self' '{SCROLL_LOCK_STYLE_HASH}'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page itself is small and changes with the gateway: always revalidate it.
    "Cache-Control": "no-cache",
}


@functools.cache
def _template() -> Template:
    return Template(Path(__file__).with_name("page.html").read_text(encoding="utf-8"))


def render(root_path: str = "") -> str:
    """The page's HTML; every URL in it is a path on this server under ``root_path``."""
    return _template().substitute({key: html.escape(asset_url(root_path, name))
                                   for key, name in ASSETS.items()})


def response(request: Request) -> HTMLResponse:
    """The page for ``request`` with the Content-Security-Policy and other HEADERS."""
    return HTMLResponse(render(request.scope.get("root_path", "")), headers=HEADERS)
