"""GraphiQL's static files: where they live, the URLs the page loads them from, and how
they are served (long-cached, since every URL the page uses names the file's content)."""

from __future__ import annotations

import functools
import hashlib
import os

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")
MOUNT_PATH = "/graphiql/static"
#: A year, never revalidated: safe because asset_url() changes whenever a file does.
CACHE_CONTROL = "public, max-age=31536000, immutable"


@functools.cache
def fingerprint(name: str) -> str:
    """12 hex digits of the sha256 of ``static/<name>``: a new value for any new content."""
    with open(os.path.join(STATIC_DIR, name), "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:12]


def asset_url(root_path: str, name: str) -> str:
    """The path (no scheme or host) the page loads ``static/<name>`` from, fingerprinted."""
    return f"{root_path}{MOUNT_PATH}/{name}?v={fingerprint(name)}"


class ImmutableStaticFiles(StaticFiles):
    """StaticFiles whose files are cached for a year and never content-sniffed."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result,
                      scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = CACHE_CONTROL
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
