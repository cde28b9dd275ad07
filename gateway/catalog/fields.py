"""Reading one JSON object of a catalog: keys, scalars, configs, duplicates and references.

Every reader reports what it refuses (with its path) and returns None, so a caller can carry on
and collect every problem of a document in one pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TypeVar

from gateway.catalog.problems import (
    MAX_CODE,
    MAX_INT,
    MAX_NAME,
    CatalogProblem,
    Fields,
    KnownEntities,
    child_path,
    is_int,
    is_number,
    type_name,
)
from gateway.domain.errors import AdminErrorCode
from gateway.domain.model import EMPTY
from gateway.domain.options import OPTIONS, Kind, Level, parse_config
from gateway.domain.quantity import QuantityError, parse_quantity
from gateway.domain.records import Config

COUNTRY = re.compile(r"[A-Z]{2}\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

T = TypeVar("T")


class FieldReader:
    """Validating accessors over a document; collects :attr:`problems`."""

    def __init__(self, known: KnownEntities) -> None:
        self.known = known
        self.problems: list[CatalogProblem] = []
        self.sources: dict[str, str] = {}  # code -> path of its definition
        self.stocks: dict[int, str] = {}
        self.skus: dict[str, str] = {}
        self.channels: dict[str, str] = {}
        self.items: dict[tuple[str, str], str] = {}

    def add(self, path: str, message: str, code: AdminErrorCode = AdminErrorCode.INVALID) -> None:
        self.problems.append(CatalogProblem(path, message, code))

    # -- structure ---------------------------------------------------------------------------

    def fields(self, raw: object, path: str, spec: Mapping[str, bool]) -> Fields | None:
        """The known, non-null keys of object ``raw``; reports unknown and missing keys."""
        if not isinstance(raw, Mapping):
            self.add(path, f"must be an object, got {type_name(raw)}")
            return None
        found: Fields = {}
        for key, value in raw.items():
            if not isinstance(key, str) or key not in spec:
                self.add(child_path(path, str(key)), f"unknown key {str(key)!r}",
                         AdminErrorCode.UNKNOWN_FIELD)
            elif value is not None:
                found[key] = value
        for key, required in spec.items():
            if required and key not in found:
                self.add(child_path(path, key), "is required", AdminErrorCode.REQUIRED)
        return found

    def section(self, doc: Fields, name: str,
                parse: Callable[[object, str], T | None]) -> tuple[T, ...]:
        raw = doc.get(name)
        if raw is None:
            return ()
        path = child_path("$", name)
        if not isinstance(raw, list):
            self.add(path, f"must be an array, got {type_name(raw)}")
            return ()
        parsed = [parse(item, child_path(path, index)) for index, item in enumerate(raw)]
        return tuple(record for record in parsed if record is not None)

    # -- scalars (each returns None when absent or refused; refusals are reported) -----------

    def code(self, f: Fields, path: str, key: str) -> str | None:
        """A key such as a source code, SKU or channel: 1-64 characters, no outer spaces."""
        if key not in f:
            return None
        return self.code_value(f[key], child_path(path, key))

    def code_value(self, raw: object, path: str) -> str | None:
        if not isinstance(raw, str):
            self.add(path, f"must be a string, got {type_name(raw)}")
        elif not raw:
            self.add(path, "must not be empty")
        elif len(raw) > MAX_CODE:
            self.add(path, f"must be at most {MAX_CODE} characters")
        elif raw != raw.strip():
            self.add(path, "must not start or end with whitespace")
        elif _CONTROL.search(raw):
            self.add(path, "must not contain control characters")
        else:
            return raw
        return None

    def text(self, f: Fields, path: str, key: str, *, max_len: int = MAX_NAME,
             allow_empty: bool = False) -> str | None:
        if key not in f:
            return None
        raw, where = f[key], child_path(path, key)
        if not isinstance(raw, str):
            self.add(where, f"must be a string, got {type_name(raw)}")
        elif not allow_empty and not raw.strip():
            self.add(where, "must not be empty")
        elif len(raw) > max_len:
            self.add(where, f"must be at most {max_len} characters")
        else:
            return raw
        return None

    def boolean(self, f: Fields, path: str, key: str) -> bool | None:
        if key not in f:
            return None
        raw = f[key]
        if isinstance(raw, bool):
            return raw
        self.add(child_path(path, key), f"must be true or false, got {type_name(raw)}")
        return None

    def positive_int(self, f: Fields, path: str, key: str) -> int | None:
        if key not in f:
            return None
        raw, where = f[key], child_path(path, key)
        if not is_int(raw):
            self.add(where, f"must be an integer, got {type_name(raw)}")
        else:
            assert isinstance(raw, int)
            if 0 < raw <= MAX_INT:
                return raw
            self.add(where, f"must be an integer from 1 to {MAX_INT}")
        return None

    def quantity(self, f: Fields, path: str, key: str, *, non_zero: bool = False) -> Decimal | None:
        if key not in f:
            return None
        raw, where = f[key], child_path(path, key)
        if not is_number(raw):
            self.add(where, f"must be a number, got {type_name(raw)}")
            return None
        try:
            value = parse_quantity(raw)
        except QuantityError as exc:
            self.add(where, str(exc))
            return None
        if non_zero and value == 0:
            self.add(where, "must not be 0")
            return None
        return value

    def coordinate(self, f: Fields, path: str, key: str, limit: int) -> float | None:
        if key not in f:
            return None
        raw, where = f[key], child_path(path, key)
        if not is_number(raw):
            self.add(where, f"must be a number, got {type_name(raw)}")
        elif (isinstance(raw, float) and not math.isfinite(raw)) or (
                isinstance(raw, Decimal) and not raw.is_finite()):
            self.add(where, "must be a finite number")
        else:
            assert isinstance(raw, int | float | Decimal)
            if -limit <= raw <= limit:
                return float(raw)
            self.add(where, f"must be between -{limit} and {limit}")
        return None

    def config(self, f: Fields, path: str, level: Level) -> Config | None:
        """A config object for ``level`` via the option registry (None when absent or bad)."""
        if "config" not in f:
            return None
        raw, where = f["config"], child_path(path, "config")
        if not isinstance(raw, Mapping):
            self.add(where, f"must be an object of option name -> value, got {type_name(raw)}")
            return None
        # JSON quantities are numbers: refuse strings the registry would otherwise convert.
        checked: dict[object, object] = {}
        type_problems: list[CatalogProblem] = []
        for key, value in raw.items():
            option = OPTIONS.get(key) if isinstance(key, str) else None
            if option is not None and option.kind is Kind.QTY and isinstance(value, str):
                type_problems.append(CatalogProblem(child_path(where, key),
                                                    f"{key} must be a number, got string"))
                continue
            if option is not None and option.kind is Kind.GROUP_QTY and isinstance(value, Mapping):
                kept: dict[object, object] = {}
                for group, qty in value.items():
                    if isinstance(qty, str):
                        type_problems.append(CatalogProblem(
                            child_path(child_path(where, key), str(group)),
                            f"{key} must be a number, got string"))
                    else:
                        kept[group] = qty
                value = kept
            checked[key] = value
        values, problems = parse_config(checked, level)
        for problem in problems:
            at = where
            for part in problem.path:
                at = child_path(at, part)
            self.add(at, problem.message, problem.code)
        self.problems.extend(type_problems)
        if problems or type_problems:
            return None
        return values or EMPTY

    # -- references and duplicates -----------------------------------------------------------

    def define(self, registry: dict[T, str], key: T | None, path: str, what: str,
               shown: str | None = None) -> None:
        if key is None:
            return
        if key in registry:
            label = shown if shown is not None else repr(key)
            self.add(path, f"duplicate {what} {label} (first defined at {registry[key]})",
                     AdminErrorCode.DUPLICATE)
        else:
            registry[key] = path

    def refer(self, key: T | None, defined: Mapping[T, str], known: frozenset[T], path: str,
              what: str) -> None:
        if key is not None and key not in defined and key not in known:
            self.add(path, f"unknown {what} {key!r}: not in this document nor already stored",
                     AdminErrorCode.NOT_FOUND)

