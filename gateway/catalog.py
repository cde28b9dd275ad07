"""The catalog file format ``availability-catalog/1``: validation with exact paths, and export.

:func:`parse_catalog` turns a decoded JSON document into a :class:`~gateway.domain.records.Catalog`
or reports *every* problem it finds, each with a JSONPath-like location such as
``$.source_items[3].quantity`` or ``$.products[0].config.backorders``. :func:`dump_catalog` is its
inverse and produces the canonical document (see DESIGN.md):

- keys in a fixed order: ``format``, ``config``, ``sources``, ``stocks``, ``products``,
  ``source_items``, ``reservations``; the global ``config`` is present exactly when the catalog
  has one; other sections are omitted when empty;
- a source always has ``code``, ``name``, ``enabled``, then ``latitude``, ``longitude``,
  ``country``, ``postcode`` when set; a stock always has ``id``, ``name``, ``channels``,
  ``sources``; a product always has ``sku`` and ``name``; nested ``config`` objects and
  reservation ``metadata`` are omitted when empty;
- config keys in registry order (:data:`~gateway.domain.options.OPTIONS`), customer groups
  sorted; numbers are ints when integral, else floats.

Parsing is pure (no I/O); file reading and writing live in :mod:`gateway.catalog_io`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from gateway.domain.model import EMPTY
from gateway.domain.options import OPTIONS, Kind, Level, OptionValue, dump_value, parse_config
from gateway.domain.quantity import QuantityError, parse_quantity, to_number
from gateway.domain.records import (
    Catalog,
    Config,
    LinkRecord,
    ProductRecord,
    ReservationRecord,
    SourceItemRecord,
    SourceRecord,
    StockRecord,
)

FORMAT = "availability-catalog/1"
MAX_CODE = 64  # source codes, SKUs, channel codes, metadata keys
MAX_NAME = 255  # display names, metadata values
MAX_POSTCODE = 32
MAX_INT = 2**31 - 1  # stock ids and priorities travel as GraphQL Int (32-bit)

IN_STOCK = "in_stock"
OUT_OF_STOCK = "out_of_stock"

_TOP = {"format": True, "config": False, "sources": False, "stocks": False, "products": False,
        "source_items": False, "reservations": False}
_SOURCE = {"code": True, "name": True, "enabled": False, "latitude": False, "longitude": False,
           "country": False, "postcode": False}
_STOCK = {"id": True, "name": True, "channels": False, "sources": False, "config": False}
_LINK = {"code": True, "priority": True}
_PRODUCT = {"sku": True, "name": False, "config": False}
_ITEM = {"sku": True, "source": True, "quantity": True, "status": True, "config": False}
_RESERVATION = {"sku": True, "stock": True, "quantity": True, "metadata": False}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_COUNTRY = re.compile(r"[A-Z]{2}\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

T = TypeVar("T")


@dataclass(frozen=True)
class CatalogProblem:
    """One refused part of a catalog document: where (``$.stocks[1].sources[0].priority``), why."""

    path: str
    message: str

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
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f"{path}[{json.dumps(key)}]"


def _type_name(value: object) -> str:
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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


Fields = dict[str, object]


class _Parser:
    def __init__(self, known: KnownEntities) -> None:
        self.known = known
        self.problems: list[CatalogProblem] = []
        self.sources: dict[str, str] = {}  # code -> path of its definition
        self.stocks: dict[int, str] = {}
        self.skus: dict[str, str] = {}
        self.channels: dict[str, str] = {}
        self.items: dict[tuple[str, str], str] = {}

    def add(self, path: str, message: str) -> None:
        self.problems.append(CatalogProblem(path, message))

    # -- structure ---------------------------------------------------------------------------

    def fields(self, raw: object, path: str, spec: Mapping[str, bool]) -> Fields | None:
        """The known, non-null keys of object ``raw``; reports unknown and missing keys."""
        if not isinstance(raw, Mapping):
            self.add(path, f"must be an object, got {_type_name(raw)}")
            return None
        found: Fields = {}
        for key, value in raw.items():
            if not isinstance(key, str) or key not in spec:
                self.add(child_path(path, str(key)), f"unknown key {str(key)!r}")
            elif value is not None:
                found[key] = value
        for key, required in spec.items():
            if required and key not in found:
                self.add(child_path(path, key), "is required")
        return found

    def section(self, doc: Fields, name: str,
                parse: Callable[[object, str], T | None]) -> tuple[T, ...]:
        raw = doc.get(name)
        if raw is None:
            return ()
        path = child_path("$", name)
        if not isinstance(raw, list):
            self.add(path, f"must be an array, got {_type_name(raw)}")
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
            self.add(path, f"must be a string, got {_type_name(raw)}")
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
            self.add(where, f"must be a string, got {_type_name(raw)}")
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
        self.add(child_path(path, key), f"must be true or false, got {_type_name(raw)}")
        return None

    def positive_int(self, f: Fields, path: str, key: str) -> int | None:
        if key not in f:
            return None
        raw, where = f[key], child_path(path, key)
        if not _is_int(raw):
            self.add(where, f"must be an integer, got {_type_name(raw)}")
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
        if not _is_number(raw):
            self.add(where, f"must be a number, got {_type_name(raw)}")
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
        if not _is_number(raw):
            self.add(where, f"must be a number, got {_type_name(raw)}")
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
            self.add(where, f"must be an object of option name -> value, got {_type_name(raw)}")
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
            self.add(at, problem.message)
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
            self.add(path, f"duplicate {what} {label} (first defined at {registry[key]})")
        else:
            registry[key] = path

    def refer(self, key: T | None, defined: Mapping[T, str], known: frozenset[T], path: str,
              what: str) -> None:
        if key is not None and key not in defined and key not in known:
            self.add(path, f"unknown {what} {key!r}: not in this document nor already stored")

    # -- entities ----------------------------------------------------------------------------

    def source(self, raw: object, path: str) -> SourceRecord | None:
        start = len(self.problems)
        f = self.fields(raw, path, _SOURCE)
        if f is None:
            return None
        code = self.code(f, path, "code")
        self.define(self.sources, code, child_path(path, "code"), "source code")
        name = self.text(f, path, "name")
        enabled = self.boolean(f, path, "enabled")
        latitude = self.coordinate(f, path, "latitude", 90)
        longitude = self.coordinate(f, path, "longitude", 180)
        if ("latitude" in f) != ("longitude" in f):
            self.add(path, "latitude and longitude must be given together")
        country = self.text(f, path, "country")
        if country is not None and not _COUNTRY.match(country):
            self.add(child_path(path, "country"),
                     "must be a two-letter ISO 3166-1 country code in capitals, such as FR")
        postcode = self.text(f, path, "postcode", max_len=MAX_POSTCODE)
        if len(self.problems) > start or code is None or name is None:
            return None
        return SourceRecord(code, name, True if enabled is None else enabled, latitude,
                            longitude, country, postcode)

    def stock(self, raw: object, path: str) -> StockRecord | None:
        start = len(self.problems)
        f = self.fields(raw, path, _STOCK)
        if f is None:
            return None
        stock_id = self.positive_int(f, path, "id")
        self.define(self.stocks, stock_id, child_path(path, "id"), "stock id")
        name = self.text(f, path, "name")
        channels: list[str] = []
        if "channels" in f:
            where = child_path(path, "channels")
            raw_channels = f["channels"]
            if not isinstance(raw_channels, list):
                self.add(where, f"must be an array, got {_type_name(raw_channels)}")
            else:
                for index, value in enumerate(raw_channels):
                    at = child_path(where, index)
                    channel = self.code_value(value, at)
                    if channel is not None and channel in self.channels:
                        self.add(at, f"channel {channel!r} already belongs to a stock "
                                     f"(at {self.channels[channel]})")
                    elif channel is not None:
                        self.channels[channel] = at
                        channels.append(channel)
        links: list[LinkRecord] = []
        if "sources" in f:
            where = child_path(path, "sources")
            raw_links = f["sources"]
            if not isinstance(raw_links, list):
                self.add(where, f"must be an array, got {_type_name(raw_links)}")
            else:
                linked: dict[str, str] = {}
                for index, value in enumerate(raw_links):
                    link = self.link(value, child_path(where, index), linked)
                    if link is not None:
                        links.append(link)
        config = self.config(f, path, Level.STOCK)
        if len(self.problems) > start or stock_id is None or name is None:
            return None
        return StockRecord(stock_id, name, tuple(channels), tuple(links), config or EMPTY)

    def link(self, raw: object, path: str, linked: dict[str, str]) -> LinkRecord | None:
        start = len(self.problems)
        f = self.fields(raw, path, _LINK)
        if f is None:
            return None
        code = self.code(f, path, "code")
        at = child_path(path, "code")
        if code is not None and code in linked:
            self.add(at, f"source {code!r} is linked to this stock twice (first at {linked[code]})")
        elif code is not None:
            linked[code] = at
            self.refer(code, self.sources, self.known.sources, at, "source")
        priority = self.positive_int(f, path, "priority")
        if len(self.problems) > start or code is None or priority is None:
            return None
        return LinkRecord(code, priority)

    def product(self, raw: object, path: str) -> ProductRecord | None:
        start = len(self.problems)
        f = self.fields(raw, path, _PRODUCT)
        if f is None:
            return None
        sku = self.code(f, path, "sku")
        self.define(self.skus, sku, child_path(path, "sku"), "sku")
        name = self.text(f, path, "name", allow_empty=True)
        config = self.config(f, path, Level.PRODUCT)
        if len(self.problems) > start or sku is None:
            return None
        return ProductRecord(sku, name or "", config or EMPTY)

    def source_item(self, raw: object, path: str) -> SourceItemRecord | None:
        start = len(self.problems)
        f = self.fields(raw, path, _ITEM)
        if f is None:
            return None
        sku = self.code(f, path, "sku")
        self.refer(sku, self.skus, self.known.skus, child_path(path, "sku"), "sku")
        source = self.code(f, path, "source")
        self.refer(source, self.sources, self.known.sources, child_path(path, "source"), "source")
        if sku is not None and source is not None:
            self.define(self.items, (sku, source), path, "source item",
                        f"for sku {sku!r} on source {source!r}")
        quantity = self.quantity(f, path, "quantity")
        status = f.get("status")
        if "status" in f and status not in (IN_STOCK, OUT_OF_STOCK):
            self.add(child_path(path, "status"), f"must be {IN_STOCK!r} or {OUT_OF_STOCK!r}")
        config = self.config(f, path, Level.SOURCE_ITEM)
        if len(self.problems) > start or sku is None or source is None or quantity is None:
            return None
        return SourceItemRecord(sku, source, quantity, status == IN_STOCK, config or EMPTY)

    def reservation(self, raw: object, path: str) -> ReservationRecord | None:
        start = len(self.problems)
        f = self.fields(raw, path, _RESERVATION)
        if f is None:
            return None
        sku = self.code(f, path, "sku")
        self.refer(sku, self.skus, self.known.skus, child_path(path, "sku"), "sku")
        stock = self.positive_int(f, path, "stock")
        self.refer(stock, self.stocks, self.known.stocks, child_path(path, "stock"), "stock")
        quantity = self.quantity(f, path, "quantity", non_zero=True)
        metadata: dict[str, str] = {}
        if "metadata" in f:
            where = child_path(path, "metadata")
            raw_meta = f["metadata"]
            if not isinstance(raw_meta, Mapping):
                self.add(where, f"must be an object of string -> string, got "
                                f"{_type_name(raw_meta)}")
            else:
                for key, value in raw_meta.items():
                    at = child_path(where, str(key))
                    if not isinstance(key, str) or not key or len(key) > MAX_CODE:
                        self.add(at, f"metadata keys must be 1-{MAX_CODE} characters")
                    elif not isinstance(value, str):
                        self.add(at, f"must be a string, got {_type_name(value)}")
                    elif len(value) > MAX_NAME:
                        self.add(at, f"must be at most {MAX_NAME} characters")
                    else:
                        metadata[key] = value
        if len(self.problems) > start or sku is None or stock is None or quantity is None:
            return None
        return ReservationRecord(sku, stock, quantity, metadata)


def parse_catalog(document: object, known: KnownEntities | None = None,
                  ) -> tuple[Catalog | None, list[CatalogProblem]]:
    """Validate a decoded ``availability-catalog/1`` document.

    Returns ``(catalog, [])`` when the document is entirely valid, else ``(None, problems)``
    with every problem found, in document order. References (stock links, source items,
    reservations) may point to entities defined in the document or listed in ``known`` (what
    is already stored, when merging). Never raises for any JSON-like input.
    """
    parser = _Parser(known or KnownEntities())
    doc = parser.fields(document, "$", _TOP)
    if doc is None:
        return None, parser.problems
    if "format" in doc and doc["format"] != FORMAT:
        parser.add("$.format", f"must be {FORMAT!r}")
    config = parser.config(doc, "$", Level.GLOBAL)
    catalog = Catalog(
        config=config,
        sources=parser.section(doc, "sources", parser.source),
        stocks=parser.section(doc, "stocks", parser.stock),
        products=parser.section(doc, "products", parser.product),
        source_items=parser.section(doc, "source_items", parser.source_item),
        reservations=parser.section(doc, "reservations", parser.reservation),
    )
    if parser.problems:
        return None, parser.problems
    return catalog, []


# -- export ----------------------------------------------------------------------------------


def dump_config(config: Config) -> dict[str, object]:
    """A config object in canonical form: set keys only, registry order, groups sorted."""
    out: dict[str, object] = {}
    for name in OPTIONS:
        if name not in config:
            continue
        value: OptionValue = config[name]
        if isinstance(value, Mapping):
            value = {group: value[group] for group in sorted(value)}
        out[name] = dump_value(value)
    return out


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _dump_source(source: SourceRecord) -> dict[str, object]:
    out: dict[str, object] = {"code": source.code, "name": source.name, "enabled": source.enabled}
    if source.latitude is not None:
        out["latitude"] = _number(source.latitude)
    if source.longitude is not None:
        out["longitude"] = _number(source.longitude)
    if source.country is not None:
        out["country"] = source.country
    if source.postcode is not None:
        out["postcode"] = source.postcode
    return out


def dump_stock(stock: StockRecord) -> dict[str, object]:
    out: dict[str, object] = {
        "id": stock.id,
        "name": stock.name,
        "channels": list(stock.channels),
        "sources": [{"code": link.source_code, "priority": link.priority}
                    for link in stock.sources],
    }
    if stock.config:
        out["config"] = dump_config(stock.config)
    return out


def _dump_product(product: ProductRecord) -> dict[str, object]:
    out: dict[str, object] = {"sku": product.sku, "name": product.name}
    if product.config:
        out["config"] = dump_config(product.config)
    return out


def _dump_source_item(item: SourceItemRecord) -> dict[str, object]:
    out: dict[str, object] = {
        "sku": item.sku,
        "source": item.source,
        "quantity": to_number(item.quantity),
        "status": IN_STOCK if item.in_stock else OUT_OF_STOCK,
    }
    if item.config:
        out["config"] = dump_config(item.config)
    return out


def _dump_reservation(reservation: ReservationRecord) -> dict[str, object]:
    out: dict[str, object] = {
        "sku": reservation.sku,
        "stock": reservation.stock,
        "quantity": to_number(reservation.quantity),
    }
    if reservation.metadata:
        out["metadata"] = dict(reservation.metadata)
    return out


def dump_catalog(catalog: Catalog) -> dict[str, object]:
    """The canonical ``availability-catalog/1`` document of ``catalog`` (module docstring)."""
    doc: dict[str, object] = {"format": FORMAT}
    if catalog.config is not None:
        doc["config"] = dump_config(catalog.config)
    sections: list[tuple[str, list[dict[str, object]]]] = [
        ("sources", [_dump_source(s) for s in catalog.sources]),
        ("stocks", [dump_stock(s) for s in catalog.stocks]),
        ("products", [_dump_product(p) for p in catalog.products]),
        ("source_items", [_dump_source_item(i) for i in catalog.source_items]),
        ("reservations", [_dump_reservation(r) for r in catalog.reservations]),
    ]
    for name, entries in sections:
        if entries:
            doc[name] = entries
    return doc
