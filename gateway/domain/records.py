"""Inventory entities as stored and as carried by the catalog file: plain immutable records.

The store reads and writes these; the catalog module parses files into them; the service turns
them into :mod:`gateway.domain.model` snapshots for the rules. Option values in ``config`` are
typed by the option registry (absent key = "use the level below").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from gateway.domain.facts import StockFacts
from gateway.domain.model import EMPTY
from gateway.domain.options import OptionValue

Config = Mapping[str, OptionValue]


class SourceItemStatus(StrEnum):
    """A source item's status as stored and as written in catalog files."""

    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"

    @classmethod
    def of(cls, in_stock: bool) -> SourceItemStatus:
        return cls.IN_STOCK if in_stock else cls.OUT_OF_STOCK


@dataclass(frozen=True, slots=True)
class SourceRecord:
    code: str
    name: str
    enabled: bool = True
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = None
    postcode: str | None = None


@dataclass(frozen=True, slots=True)
class LinkRecord:
    source_code: str
    priority: int


@dataclass(frozen=True, slots=True)
class StockRecord:
    id: int
    name: str
    channels: tuple[str, ...] = ()
    sources: tuple[LinkRecord, ...] = ()
    config: Config = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True, slots=True)
class ProductRecord:
    sku: str
    name: str = ""
    config: Config = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True, slots=True)
class SourceItemRecord:
    sku: str
    source: str
    quantity: Decimal
    in_stock: bool
    config: Config = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True, slots=True)
class ReservationRecord:
    sku: str
    stock: int
    quantity: Decimal
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Catalog:
    """A whole or partial catalog (one import or one export).

    ``config`` is None when the document has no global config section (nothing to change).
    """

    config: Config | None = None
    sources: tuple[SourceRecord, ...] = ()
    stocks: tuple[StockRecord, ...] = ()
    products: tuple[ProductRecord, ...] = ()
    source_items: tuple[SourceItemRecord, ...] = ()
    reservations: tuple[ReservationRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class Topology:
    """Everything small and slowly changing, cached in-process per ``version``.

    ``channels`` maps a sales channel code to its stock id.
    """

    version: int
    global_config: Config
    sources: Mapping[str, SourceRecord]
    stocks: Mapping[int, StockRecord]
    channels: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class SkuData:
    """What one request needs about a set of SKUs in one stock, loaded in bulk.

    ``source_items`` holds every source item of each SKU (on any source), ``reserved`` the
    reservation total of each SKU in the requested stock (absent = 0). SKUs that do not exist
    are absent from ``products``. ``version`` is the data version seen with them.
    """

    products: Mapping[str, ProductRecord]
    source_items: Mapping[str, tuple[SourceItemRecord, ...]]
    reserved: Mapping[str, Decimal]
    version: int = 0


@dataclass(frozen=True, slots=True)
class ProductView:
    """One product as stored, with every source item of it (on any source)."""

    product: ProductRecord
    source_items: tuple[SourceItemRecord, ...]


#: A changed (sku, stock) key; ``None`` for the stock means every stock, and a key whose SKU
#: is ``None`` means everything may have changed (configuration or topology was written).
ChangedKey = tuple[str | None, int | None]


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """What changed in the store after a position of its change log.

    ``sequence`` is the position to ask from next time; ``keys`` are the changed keys in log
    order (duplicates possible).
    """

    sequence: int
    keys: tuple[ChangedKey, ...] = ()

    @property
    def everything(self) -> bool:
        """Configuration or topology changed: every availability answer may differ."""
        return any(sku is None for sku, _ in self.keys)


@dataclass(frozen=True, slots=True)
class FactsData:
    """The availability facts of some SKUs in one stock (unknown SKUs absent), and the data
    version they were read at."""

    version: int
    facts: Mapping[str, StockFacts]
