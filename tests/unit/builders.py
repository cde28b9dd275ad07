"""Small helpers to build domain snapshots in tests (no I/O).

Option values are given the way a catalog file would carry them (``backorders="allow"``,
``min_qty=-1``) and go through the option registry, so a test can never build a configuration
the registry would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from gateway.domain.availability import Availability, assess
from gateway.domain.cart import LineResult, RequestedLine, check_cart
from gateway.domain.inheritance import EffectiveSettings, resolve
from gateway.domain.model import ConfigChain, SourceItemState, StockSnapshot
from gateway.domain.options import Level, OptionValue, parse_config

SKU = "SKU-1"
STOCK_ID = 10


def d(value: object) -> Decimal:
    """An exact Decimal from a literal (floats through ``str`` so 0.17 is 0.17)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def config(level: Level, raw: Mapping[str, object] | None) -> dict[str, OptionValue]:
    """Typed option values for ``level``; fails the test on any value the registry refuses."""
    values, problems = parse_config(dict(raw or {}), level)
    assert not problems, problems
    return values


def item(code: str = "s1", qty: object = 10, *, in_stock: bool = True, enabled: bool = True,
         linked: bool = True, **options: object) -> SourceItemState:
    """A source item as seen from the stock; ``options`` are source-item level settings."""
    return SourceItemState(code, d(qty), in_stock, enabled, linked,
                           config(Level.SOURCE_ITEM, options))


def chain(product: Mapping[str, object] | None = None, stock: Mapping[str, object] | None = None,
          global_: Mapping[str, object] | None = None) -> ConfigChain:
    return ConfigChain(config(Level.PRODUCT, product), config(Level.STOCK, stock),
                       config(Level.GLOBAL, global_))


def snapshot(*items: SourceItemState, reserved: object = 0,
             product: Mapping[str, object] | None = None,
             stock: Mapping[str, object] | None = None,
             global_: Mapping[str, object] | None = None, sku: str = SKU) -> StockSnapshot:
    return StockSnapshot(sku, STOCK_ID, tuple(items), d(reserved),
                         chain(product, stock, global_))


def settings(*items: SourceItemState, product: Mapping[str, object] | None = None,
             stock: Mapping[str, object] | None = None,
             global_: Mapping[str, object] | None = None,
             group: str | None = None) -> EffectiveSettings:
    return resolve(chain(product, stock, global_), items, group)


def availability(*items: SourceItemState, reserved: object = 0,
                 product: Mapping[str, object] | None = None,
                 stock: Mapping[str, object] | None = None,
                 global_: Mapping[str, object] | None = None, group: str | None = None,
                 sku: str = SKU) -> Availability:
    return assess(snapshot(*items, reserved=reserved, product=product, stock=stock,
                           global_=global_, sku=sku), group)


def check(quantities: Sequence[object] | object, avail: Availability | None,
          sku: str = SKU) -> tuple[LineResult, ...]:
    """Check one or several lines of the same SKU against ``avail``."""
    qtys = list(quantities) if isinstance(quantities, list | tuple) else [quantities]
    return check_cart([RequestedLine(sku, q) for q in qtys], {sku: avail})


def check_one(quantity: object, avail: Availability | None, sku: str = SKU) -> LineResult:
    (result,) = check([quantity], avail, sku)
    return result


def codes(result: LineResult) -> list[str]:
    return [issue.code.value for issue in result.errors]
