"""Parsing a whole ``availability-catalog/1`` document into a Catalog, or every problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from gateway.catalog.fields import COUNTRY, FieldReader
from gateway.catalog.problems import (
    FORMAT,
    MAX_CODE,
    MAX_NAME,
    MAX_POSTCODE,
    CatalogProblem,
    KnownEntities,
    child_path,
    type_name,
)
from gateway.domain.errors import AdminErrorCode
from gateway.domain.model import EMPTY
from gateway.domain.options import Level
from gateway.domain.records import (
    Catalog,
    LinkRecord,
    ProductRecord,
    ReservationRecord,
    SourceItemRecord,
    SourceItemStatus,
    SourceRecord,
    StockRecord,
)

_TOP = {"format": True, "config": False, "sources": False, "stocks": False, "products": False,
        "source_items": False, "reservations": False}
_SOURCE = {"code": True, "name": False, "enabled": False, "latitude": False, "longitude": False,
           "country": False, "postcode": False}
_STOCK = {"id": True, "name": False, "channels": False, "sources": False, "config": False}
_LINK = {"code": True, "priority": True}
_PRODUCT = {"sku": True, "name": False, "config": False}
_ITEM = {"sku": True, "source": True, "quantity": True, "status": False, "config": False}
_RESERVATION = {"sku": True, "stock": True, "quantity": True, "metadata": False}


class _Parser(FieldReader):
    """The entities of the format, each checked field by field."""

    def __init__(self, known: KnownEntities) -> None:
        super().__init__(known)
        self.implicit: dict[str, ProductRecord] = {}  # products created by their stock

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
        if country is not None and not COUNTRY.match(country):
            self.add(child_path(path, "country"),
                     "must be a two-letter ISO 3166-1 country code in capitals, such as FR")
        postcode = self.text(f, path, "postcode", max_len=MAX_POSTCODE)
        if len(self.problems) > start or code is None:
            return None
        # A missing display name is not worth refusing a file over: the code stands in.
        return SourceRecord(code, name or code, True if enabled is None else enabled, latitude,
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
                self.add(where, f"must be an array, got {type_name(raw_channels)}")
            else:
                for index, value in enumerate(raw_channels):
                    at = child_path(where, index)
                    channel = self.code_value(value, at)
                    if channel is not None and channel in self.channels:
                        self.add(at, f"channel {channel!r} already belongs to a stock "
                                     f"(at {self.channels[channel]})", AdminErrorCode.DUPLICATE)
                    elif channel is not None:
                        self.channels[channel] = at
                        channels.append(channel)
        links: list[LinkRecord] = []
        if "sources" in f:
            where = child_path(path, "sources")
            raw_links = f["sources"]
            if not isinstance(raw_links, list):
                self.add(where, f"must be an array, got {type_name(raw_links)}")
            else:
                linked: dict[str, str] = {}
                for index, value in enumerate(raw_links):
                    link = self.link(value, child_path(where, index), linked)
                    if link is not None:
                        links.append(link)
        config = self.config(f, path, Level.STOCK)
        if len(self.problems) > start or stock_id is None:
            return None
        return StockRecord(stock_id, name or f"Stock {stock_id}", tuple(channels), tuple(links),
                           config or EMPTY)

    def link(self, raw: object, path: str, linked: dict[str, str]) -> LinkRecord | None:
        start = len(self.problems)
        f = self.fields(raw, path, _LINK)
        if f is None:
            return None
        code = self.code(f, path, "code")
        at = child_path(path, "code")
        if code is not None and code in linked:
            self.add(at, f"source {code!r} is linked to this stock twice (first at {linked[code]})",
                     AdminErrorCode.DUPLICATE)
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
        if sku is not None and sku not in self.skus and sku not in self.known.skus:
            # Stock for a SKU the catalog does not know yet creates the product with no
            # settings of its own (every option "Use Config Settings"): MSI keys stock by SKU.
            self.implicit.setdefault(sku, ProductRecord(sku, "", EMPTY))
        source = self.code(f, path, "source")
        self.refer(source, self.sources, self.known.sources, child_path(path, "source"), "source")
        if sku is not None and source is not None:
            self.define(self.items, (sku, source), path, "source item",
                        f"for sku {sku!r} on source {source!r}")
        quantity = self.quantity(f, path, "quantity")
        status = f.get("status")
        if "status" in f and status not in tuple(SourceItemStatus):
            self.add(child_path(path, "status"), f"must be {SourceItemStatus.IN_STOCK.value!r} "
                                                 f"or {SourceItemStatus.OUT_OF_STOCK.value!r}")
        config = self.config(f, path, Level.SOURCE_ITEM)
        if len(self.problems) > start or sku is None or source is None or quantity is None:
            return None
        # No status means in stock: what a merchant sending a quantity expects.
        in_stock = status != SourceItemStatus.OUT_OF_STOCK
        return SourceItemRecord(sku, source, quantity, in_stock, config or EMPTY)

    def reservation(self, raw: object, path: str) -> ReservationRecord | None:
        start = len(self.problems)
        f = self.fields(raw, path, _RESERVATION)
        if f is None:
            return None
        sku = self.code(f, path, "sku")
        if sku not in self.implicit:
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
                                f"{type_name(raw_meta)}")
            else:
                for key, value in raw_meta.items():
                    at = child_path(where, str(key))
                    if not isinstance(key, str) or not key or len(key) > MAX_CODE:
                        self.add(at, f"metadata keys must be 1-{MAX_CODE} characters")
                    elif not isinstance(value, str):
                        self.add(at, f"must be a string, got {type_name(value)}")
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
    if parser.implicit:
        catalog = replace(catalog, products=catalog.products + tuple(parser.implicit.values()))
    return catalog, []


