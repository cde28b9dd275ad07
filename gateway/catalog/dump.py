"""Export: the canonical ``availability-catalog/1`` document of a Catalog."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.catalog.problems import FORMAT
from gateway.domain.options import OPTIONS, OptionValue, dump_value
from gateway.domain.quantity import to_number
from gateway.domain.records import (
    Catalog,
    Config,
    ProductRecord,
    ReservationRecord,
    SourceItemRecord,
    SourceItemStatus,
    SourceRecord,
    StockRecord,
)


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
        "status": SourceItemStatus.of(item.in_stock).value,
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

