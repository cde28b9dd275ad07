"""Automatic persisted queries (Apollo's APQ protocol), for the lane and the normal path alike.

A client sends ``extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`` instead
of the query text:

- a hash the server knows: the request runs with the stored text (no text sent, and the lane
  skips parsing too);
- an unknown hash: HTTP 200 with one error, ``PersistedQueryNotFound``,
  ``extensions.code = "PERSISTED_QUERY_NOT_FOUND"`` (and ``cache-control: private, no-cache,
  must-revalidate``); the client then sends the query with its hash, which registers it;
- query and hash together: the hash must be the SHA-256 of the query's UTF-8 text, in lowercase
  hex (else HTTP 400, ``BAD_USER_INPUT``), and the text is stored once the operation has
  passed validation and the checks before execution (a refused or invalid document is not);
- ``version`` other than 1, or a hash that is not a string: HTTP 400, ``BAD_USER_INPUT``.

POST only (queries are never served over GET here). The store is per worker process, bounded
in entries and in characters, least recently used first out: a client whose hash was
forgotten gets ``PERSISTED_QUERY_NOT_FOUND`` and sends the text again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from enum import StrEnum
from typing import Any

import orjson
from starlette.responses import Response
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from gateway.api.errors import ApiErrorCode
from gateway.api.refusals import RequestRefused

EXTENSION = "persistedQuery"
VERSION = 1
#: Bounds of the store, per worker process.
MAX_QUERIES = 1000
MAX_CHARACTERS = 4_000_000


class PersistedQueryCode(StrEnum):
    """``extensions.code`` of the protocol's own answer (Apollo's, which APQ clients read)."""

    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"


class PersistedQueryNotFound(RequestRefused):
    """Apollo's answer to an unknown hash: 200, one error, not to be cached."""

    def __init__(self) -> None:
        # (the code given here is not sent: response() writes the protocol's own)
        super().__init__(200, "PersistedQueryNotFound", ApiErrorCode.BAD_USER_INPUT)

    def response(self) -> Response:
        code = PersistedQueryCode.PERSISTED_QUERY_NOT_FOUND.value
        body = orjson.dumps({"errors": [{"message": self.reason,
                                         "extensions": {"code": code}}]})
        return Response(body, status_code=200, media_type="application/json",
                        headers={"cache-control": "private, no-cache, must-revalidate"})


def query_hash(query: str) -> str:
    """The hash APQ names a query by: SHA-256 of its UTF-8 text, lowercase hex."""
    return hashlib.sha256(query.encode()).hexdigest()


def requested_hash(extensions: Any) -> str | None:
    """The hash a request's ``extensions`` asks for (None: not a persisted-query request).

    Raises :class:`RequestRefused` (400) for a malformed ``persistedQuery``.
    """
    if not isinstance(extensions, dict):
        return None
    persisted = extensions.get(EXTENSION)
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise _bad("extensions.persistedQuery must be an object with version and sha256Hash.")
    version = persisted.get("version")
    if version != VERSION or isinstance(version, bool):
        raise _bad("Unsupported persisted query version (expected 1).")
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str):
        raise _bad("extensions.persistedQuery.sha256Hash must be a string.")
    return sha


def _bad(message: str) -> RequestRefused:
    return RequestRefused(400, message, ApiErrorCode.BAD_USER_INPUT)


class PersistedQueries:
    """Query texts by hash, bounded by :data:`MAX_QUERIES` and :data:`MAX_CHARACTERS`."""

    def __init__(self, max_queries: int = MAX_QUERIES,
                 max_characters: int = MAX_CHARACTERS) -> None:
        self.max_queries = max_queries
        self.max_characters = max_characters
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._characters = 0

    def __len__(self) -> int:
        return len(self._texts)

    def lookup(self, sha: str) -> str | None:
        text = self._texts.get(sha)
        if text is not None:
            self._texts.move_to_end(sha)
        return text

    def remember(self, sha: str, query: str) -> None:
        """Store ``query`` under ``sha`` (the caller checked ``sha == query_hash(query)``)."""
        if len(query) > self.max_characters:
            return
        old = self._texts.pop(sha, None)
        if old is not None:
            self._characters -= len(old)
        self._texts[sha] = query
        self._characters += len(query)
        while len(self._texts) > self.max_queries or self._characters > self.max_characters:
            _, evicted = self._texts.popitem(last=False)
            self._characters -= len(evicted)

    def resolve(self, query: Any, extensions: Any) -> Any:
        """The query text to run for a POSTed request (``query`` itself without the extension).

        Raises :class:`PersistedQueryNotFound` or :class:`RequestRefused` (400) as the
        protocol says.
        """
        sha = requested_hash(extensions)
        if sha is None:
            return query
        if query is None:
            text = self.lookup(sha)
            if text is None:
                raise PersistedQueryNotFound
            return text
        if not isinstance(query, str) or query_hash(query) != sha:
            raise _bad("provided sha does not match query")
        return query

    def learn(self, data: GraphQLRequestData, result: ExecutionResult) -> None:
        """Store the query of a persisted-query request once the normal path has run it:
        parsed, validated and not refused before execution (every error, if any, comes from
        execution and has a path)."""
        if not isinstance(data.query, str) or any(e.path is None for e in result.errors or ()):
            return
        try:
            sha = requested_hash(data.extensions)
        except RequestRefused:
            return
        if sha is not None and query_hash(data.query) == sha:
            self.remember(sha, data.query)
