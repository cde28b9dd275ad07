"""Shared pieces of the catalog format: limits, problems, paths and type names."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from gateway.domain.errors import AdminErrorCode

FORMAT = "availability-catalog/1"
MAX_CODE = 64  # source codes, SKUs, channel codes, metadata keys
MAX_NAME = 255  # display names, metadata values
MAX_POSTCODE = 32
MAX_INT = 2**31 - 1  # stock ids and priorities travel as GraphQL Int (32-bit)

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")



@dataclass(frozen=True)
class CatalogProblem:
    """One refused part of a catalog document: where (``$.stocks[1].sources[0].priority``), why."""

    path: str
    message: str
    code: AdminErrorCode = AdminErrorCode.INVALID

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class KnownEntities:
    """What is already stored, so a merged document may refer to it without redefining it."""

    sources: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    stocks: frozenset[int] = frozenset()


def child_path(path: str, key: str | int) -> str:
    """``path`` extended by an array index or an object key (bracket-quoted when not a name)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if IDENTIFIER.match(key) else f"{path}[{json.dumps(key)}]"


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


Fields = dict[str, object]
