"""Source selection for shipping an order (docs/rules.md §9), offline.

``priority`` walks the stock's enabled sources by link priority (ties by code); ``distance``
walks them by great-circle distance from the destination. Reservations are ignored: this is
about what is physically on the shelves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from gateway.domain.quantity import ZERO, compare

EARTH_RADIUS_KM = 6371.0088


class Algorithm(StrEnum):
    PRIORITY = "priority"
    DISTANCE = "distance"


@dataclass(frozen=True)
class SourceInfo:
    """A source as linked to one stock."""

    code: str
    priority: int
    enabled: bool = True
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = None
    postcode: str | None = None


@dataclass(frozen=True)
class Destination:
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = None
    postcode: str | None = None


@dataclass(frozen=True)
class StockOnShelf:
    """A source item's quantity and status, for selection."""

    quantity: Decimal
    in_stock: bool


@dataclass(frozen=True)
class SelectionItem:
    source_code: str
    sku: str
    qty_to_deduct: Decimal
    qty_available: Decimal


@dataclass(frozen=True)
class Selection:
    shippable: bool
    items: tuple[SelectionItem, ...]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def order_sources(sources: Sequence[SourceInfo], algorithm: Algorithm,
                  destination: Destination | None = None) -> list[SourceInfo]:
    """The enabled sources in the order the algorithm would take from them."""
    enabled = [s for s in sources if s.enabled]
    by_priority = sorted(enabled, key=lambda s: (s.priority, s.code))
    if algorithm is Algorithm.PRIORITY or destination is None:
        return by_priority

    has_point = destination.latitude is not None and destination.longitude is not None

    def distance_key(source: SourceInfo) -> tuple[int, float, int, str]:
        if has_point:
            if source.latitude is None or source.longitude is None:
                return (1, 0.0, source.priority, source.code)  # no coordinates: last
            assert destination.latitude is not None and destination.longitude is not None
            distance = haversine_km(destination.latitude, destination.longitude,
                                    source.latitude, source.longitude)
            return (0, distance, source.priority, source.code)
        # Offline there is no geocoder: without coordinates, same postcode, then same country.
        same_country = bool(destination.country) and source.country == destination.country
        same_postcode = same_country and bool(destination.postcode) and (
            source.postcode == destination.postcode)
        group = 0 if same_postcode else 1 if same_country else 2
        return (group, 0.0, source.priority, source.code)

    return sorted(enabled, key=distance_key)


def select_sources(lines: Sequence[tuple[str, Decimal]], sources: Sequence[SourceInfo],
                   shelves: Mapping[tuple[str, str], StockOnShelf],
                   algorithm: Algorithm = Algorithm.PRIORITY,
                   destination: Destination | None = None) -> Selection:
    """Choose what to deduct from which source for each (sku, qty) line.

    ``shelves`` maps (source code, sku) to the source item. Lines of the same SKU are merged.
    Guarantees: never deducts more than a source item holds (nor from a negative one), lists
    zero-deduction in-stock items too, and ``shippable`` is true only when every line is
    fully covered.
    """
    wanted: dict[str, Decimal] = {}
    for sku, qty in lines:
        wanted[sku] = wanted.get(sku, ZERO) + qty
    ordered = order_sources(sources, algorithm, destination)
    items: list[SelectionItem] = []
    shippable = True
    for sku, qty in wanted.items():
        remaining = qty
        for source in ordered:
            shelf = shelves.get((source.code, sku))
            if shelf is None or not shelf.in_stock:
                continue
            deduct = min(max(shelf.quantity, ZERO), remaining)
            items.append(SelectionItem(source.code, sku, deduct, shelf.quantity))
            remaining -= deduct
        if compare(remaining, ZERO) > 0:
            shippable = False
    return Selection(shippable, tuple(items))
