"""Conversions between stored column values and domain records, shared by the SQL backends.

Guarantees:
- quantities are stored as the text of the :class:`~decimal.Decimal` and read back with
  ``Decimal(text)``, so every quantity round-trips exactly (no float on the way);
- option values are stored as a JSON object written with the registry's
  :func:`~gateway.domain.options.dump_value` and read back through
  ``OPTIONS[name].parse(raw, level)``, so records always carry typed values (Decimal, bool,
  Backorders, group mapping), validated for the level they are stored at;
- JSON text is canonical (sorted keys, no spaces), so equal configs give equal text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from gateway.domain import facts
from gateway.domain.facts import Rules, StockFacts
from gateway.domain.model import EMPTY
from gateway.domain.options import OPTIONS, Level, OptionValue, dump_value
from gateway.domain.records import (
    Catalog,
    Config,
    FactsData,
    LinkRecord,
    ProductRecord,
    ReservationRecord,
    SkuData,
    SourceItemRecord,
    SourceItemStatus,
    SourceRecord,
    StockRecord,
    Topology,
)

#: One encoder for every call: ``json.dumps`` with options builds a new one each time, which
#: shows when a large import encodes 100,000+ rows while it holds the write lock.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dump_json(value: object) -> str:
    """Canonical JSON text: sorted keys, compact separators."""
    return _CANONICAL.encode(value)


def dump_qty(value: Decimal) -> str:
    """The exact text of a quantity (``Decimal(dump_qty(q)) == q`` always)."""
    return str(value)


def load_qty(text: str | int | float) -> Decimal:
    """A stored quantity as a Decimal; numbers written by other tools are read through str."""
    return Decimal(str(text))


def dump_config(config: Config) -> str:
    """A config mapping as a JSON object text (an empty config is ``{}``)."""
    if not config:  # most products and source items set nothing of their own
        return "{}"
    return dump_json({name: dump_value(value) for name, value in config.items()})


_INTERNED: dict[tuple[str, Level], Config] = {}
_MAX_INTERNED = 100_000


def load_config(text: str, level: Level) -> Config:
    """A stored JSON config, typed and validated by the option registry for ``level``.

    Equal texts give the same (read-only) object, so callers may memoise on identity and the
    JSON is parsed once per distinct config rather than once per row.
    """
    found = _INTERNED.get((text, level))
    if found is not None:
        return found
    raw = json.loads(text)
    config: Config = EMPTY if not raw else MappingProxyType(
        {name: OPTIONS[name].parse(value, level) for name, value in raw.items()})
    if len(_INTERNED) >= _MAX_INTERNED:
        _INTERNED.clear()
    _INTERNED[text, level] = config
    return config


def dump_metadata(metadata: Mapping[str, str]) -> str:
    return dump_json(dict(metadata))


def load_metadata(text: str) -> dict[str, str]:
    raw = json.loads(text)
    return {str(key): str(value) for key, value in raw.items()}


def json_list(values: Iterable[Any]) -> str:
    """A JSON array parameter for ``json_each(?)``: one bound variable however many values."""
    return json.dumps(list(values), ensure_ascii=False)


# Row shapes: the column order of the SELECT statements in the SQL backends.


def source_row(record: SourceRecord) -> tuple[object, ...]:
    return (record.code, record.name, int(record.enabled), record.latitude, record.longitude,
            record.country, record.postcode)


def source_from_row(row: Sequence[Any]) -> SourceRecord:
    code, name, enabled, latitude, longitude, country, postcode = row
    return SourceRecord(code=code, name=name, enabled=bool(enabled), latitude=latitude,
                        longitude=longitude, country=country, postcode=postcode)


def stock_row(record: StockRecord) -> tuple[object, ...]:
    return (record.id, record.name, dump_config(record.config))


def stocks_from_rows(stocks: Sequence[Sequence[Any]], channels: Sequence[Sequence[Any]],
                     links: Sequence[Sequence[Any]]) -> list[StockRecord]:
    """Stocks with their channels and links, keeping the order of each row list.

    Channels or links of a stock absent from ``stocks`` are dropped: the three lists may come
    from statements that do not share a snapshot.
    """
    channels_of: dict[int, list[str]] = {}
    for stock_id, channel in channels:
        channels_of.setdefault(stock_id, []).append(channel)
    links_of: dict[int, list[LinkRecord]] = {}
    for stock_id, source_code, priority in links:
        links_of.setdefault(stock_id, []).append(LinkRecord(source_code, priority))
    return [StockRecord(id=stock_id, name=name, channels=tuple(channels_of.get(stock_id, ())),
                        sources=tuple(links_of.get(stock_id, ())),
                        config=load_config(config, Level.STOCK))
            for stock_id, name, config in stocks]


def product_row(record: ProductRecord) -> tuple[object, ...]:
    return (record.sku, record.name, dump_config(record.config))


def product_from_row(row: Sequence[Any]) -> ProductRecord:
    sku, name, config = row
    return ProductRecord(sku=sku, name=name, config=load_config(config, Level.PRODUCT))


def source_item_row(record: SourceItemRecord) -> tuple[object, ...]:
    status = SourceItemStatus.of(record.in_stock).value
    return (record.sku, record.source, dump_qty(record.quantity), status,
            dump_config(record.config))


def source_item_from_row(row: Sequence[Any]) -> SourceItemRecord:
    sku, source, quantity, status, config = row
    return SourceItemRecord(sku=sku, source=source, quantity=load_qty(quantity),
                            in_stock=status == SourceItemStatus.IN_STOCK,
                            config=load_config(config, Level.SOURCE_ITEM))


def reservation_row(record: ReservationRecord) -> tuple[object, ...]:
    return (record.sku, record.stock, dump_qty(record.quantity),
            dump_metadata(record.metadata))


def reservation_from_row(row: Sequence[Any]) -> ReservationRecord:
    sku, stock, quantity, metadata = row
    return ReservationRecord(sku=sku, stock=stock, quantity=load_qty(quantity),
                             metadata=load_metadata(metadata))


def reservation_deltas(reservations: Iterable[ReservationRecord]) -> dict[tuple[str, int], Decimal]:
    """The exact Decimal sum of ``reservations`` per (sku, stock)."""
    deltas: dict[tuple[str, int], Decimal] = {}
    for r in reservations:
        deltas[r.sku, r.stock] = deltas.get((r.sku, r.stock), Decimal(0)) + r.quantity
    return deltas


def global_config_rows(config: Config) -> list[tuple[str, str]]:
    return [(name, dump_json(dump_value(value))) for name, value in sorted(config.items())]


def global_config_from_rows(rows: Sequence[Sequence[Any]]) -> Config:
    values: dict[str, OptionValue] = {
        name: OPTIONS[name].parse(json.loads(value), Level.GLOBAL) for name, value in rows
    }
    return MappingProxyType(values) if values else EMPTY


def sku_snapshot(rows: Sequence[Sequence[Any]]) -> SkuData:
    """SkuData from the tagged rows of the one-statement SKU snapshot (see schema.SKU_SNAPSHOT):
    every product gets an items entry (possibly empty); ``version`` is the data version read
    in the same snapshot."""
    version = 0
    products: dict[str, ProductRecord] = {}
    items_of: dict[str, list[SourceItemRecord]] = {}
    reserved: dict[str, Decimal] = {}
    for kind, sku, source, value, status, config in rows:
        if kind == "i":
            items_of.setdefault(sku, []).append(
                source_item_from_row((sku, source, value, status, config)))
        elif kind == "p":
            products[sku] = product_from_row((sku, value, config))
        elif kind == "t":
            reserved[sku] = load_qty(value)
        else:
            version = int(value)
    return SkuData(products=products,
                   source_items={sku: tuple(items_of.get(sku, ())) for sku in products},
                   reserved={sku: qty for sku, qty in reserved.items()
                             if sku in products and qty != 0},
                   version=version)


def catalog(topology: Topology, products: Sequence[Sequence[Any]],
            items: Sequence[Sequence[Any]], reservations: Sequence[Sequence[Any]]) -> Catalog:
    """A whole catalog; the topology's mappings keep the order they were read in."""
    return Catalog(config=topology.global_config, sources=tuple(topology.sources.values()),
                   stocks=tuple(topology.stocks.values()),
                   products=tuple(map(product_from_row, products)),
                   source_items=tuple(map(source_item_from_row, items)),
                   reservations=tuple(map(reservation_from_row, reservations)))


def topology(version: int, global_rows: Sequence[Sequence[Any]],
             source_rows: Sequence[Sequence[Any]], stock_rows: Sequence[Sequence[Any]],
             channel_rows: Sequence[Sequence[Any]], link_rows: Sequence[Sequence[Any]]) -> Topology:
    """A Topology whose mappings keep the order of the rows (sources by code, stocks by id)."""
    sources = map(source_from_row, source_rows)
    stocks = stocks_from_rows(stock_rows, channel_rows, link_rows)
    return Topology(version=version, global_config=global_config_from_rows(global_rows),
                    sources={source.code: source for source in sources},
                    stocks={stock.id: stock for stock in stocks},
                    channels={c: stock.id for stock in stocks for c in stock.channels})


_RULES: dict[str, Rules] = {}


def load_rules(text: str) -> Rules:
    """Stored rules, parsed once per distinct text (most SKUs of a shop share theirs)."""
    found = _RULES.get(text)
    if found is None:
        if len(_RULES) >= _MAX_INTERNED:
            _RULES.clear()
        found = _RULES[text] = facts.load_rules(text)
    return found


def facts_row(f: StockFacts) -> tuple[object, ...]:
    """Column values in the order of UPSERT_FACTS."""
    floor = f.floor
    return (f.sku, f.stock_id, int(f.is_assigned), int(f.any_in_stock), dump_qty(f.physical),
            None if floor is None else dump_qty(floor), int(f.sellable),
            facts.dump_rules(f.rules))


def stock_facts(stock_id: int, row: Sequence[Any]) -> StockFacts:
    """A facts row (sku, assigned, in_stock, physical, reserved, rules) of ``stock_id``."""
    sku, assigned, in_stock, physical, reserved, rules = row
    return StockFacts(sku, stock_id, bool(assigned), bool(in_stock), Decimal(physical),
                      Decimal(reserved), load_rules(rules))


def facts_from_rows(stock_id: int, rows: Sequence[Sequence[Any]]) -> FactsData:
    """FactsData from the rows of FACTS_FOR_SKUS (the version row has no SKU)."""
    version = 0
    found: dict[str, StockFacts] = {}
    for row in rows:
        if row[0] is None:
            version = int(row[1])
            continue
        found[row[0]] = stock_facts(stock_id, row)
    return FactsData(version, found)
