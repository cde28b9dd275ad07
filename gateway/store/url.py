"""The one place a database setting (``--db``, ``GATEWAY_DATABASE``) is understood.

Accepted: a plain file path (``data/gateway.sqlite3``), ``sqlite:///relative/path`` or
``sqlite:////absolute/path`` (SQLAlchemy's spelling: three slashes, then the path), and
``postgresql://…`` / ``postgres://…`` (any libpq URL: user, password, host, port, database,
query parameters such as ``sslmode``). Any other ``scheme://`` is refused: it must never become
a directory named after the scheme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
POSTGRESQL_SCHEMES = frozenset({"postgresql", "postgres"})


class DatabaseKind(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class DatabaseUrlError(ValueError):
    """A database setting the gateway cannot use; the message says what is accepted."""


class UnsupportedDatabase(DatabaseUrlError):
    """A database kind this version of the gateway cannot open."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """``target`` is a file path for SQLite and the whole URL (the DSN) for PostgreSQL."""

    kind: DatabaseKind
    target: str


def parse_database_url(value: str) -> DatabaseUrl:
    """What ``value`` names; raises DatabaseUrlError for an empty value, an unknown scheme or
    an in-memory SQLite database (each connection would see its own empty database)."""
    text = value.strip()
    if not text:
        raise DatabaseUrlError("the database is empty: give a file path, sqlite:///path or "
                               "postgresql://user@host/db")
    match = _SCHEME.match(text)
    if match is None:
        return _sqlite(text)
    scheme = match.group(1).lower()
    if scheme in POSTGRESQL_SCHEMES:
        return DatabaseUrl(DatabaseKind.POSTGRESQL, text)
    if scheme == "sqlite":
        rest = text[len(match.group(0)):]
        if not rest.startswith("/") or len(rest) < 2:
            raise DatabaseUrlError(f"{value!r}: write sqlite:///relative/path or "
                                   "sqlite:////absolute/path")
        return _sqlite(rest[1:])
    raise DatabaseUrlError(f"unknown database scheme {scheme + '://'!r}: give a file path, "
                           "sqlite:///path or postgresql://user@host/db")


def _sqlite(path: str) -> DatabaseUrl:
    if path == ":memory:" or path.startswith("file::memory:"):
        raise DatabaseUrlError("an in-memory database cannot be shared by the gateway's "
                               "connections: give a file path")
    return DatabaseUrl(DatabaseKind.SQLITE, path)


def sqlite_path(url: DatabaseUrl) -> str:
    """The SQLite file of ``url``; raises UnsupportedDatabase for another kind of database."""
    if url.kind is not DatabaseKind.SQLITE:
        raise UnsupportedDatabase(f"{display(url.target)} is a PostgreSQL database, not a "
                                  "SQLite file")
    return url.target


def display(value: str) -> str:
    """A database setting as it may be printed or logged: a URL's password is masked."""
    match = _SCHEME.match(value)
    if match is None:
        return value
    scheme, rest = match.group(0), value[len(match.group(0)):]
    authority, slash, path = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if at and ":" in user:
        authority = f"{user.split(':', 1)[0]}:***@{host}"
    return f"{scheme}{authority}{slash}{path}"
