"""Orders against stock: what placing, cancelling, shipping and refunding change (docs/rules.md §7).

Pure planning: each function takes the order as it stands (and, for shipments, what is on the
shelves) and returns the new order plus the reservations and source-item changes to write.
The store applies a plan inside one transaction; nothing here does I/O.

Per SKU an order tracks ``ordered``, ``shipped``, ``cancelled`` (by cancellation, or by a refund
of what had not shipped yet) and ``returned`` (shipped quantity a refund put back on a source).
The quantity still reserved is ``open = ordered − shipped − cancelled``; reservations exist
only for SKUs whose stock was managed when the order was placed, and only while
``can_subtract`` ("Decrease Stock When Order is Placed") was on then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from gateway.domain.cart import LineResult, RequestedLine, backordered_notice
from gateway.domain.errors import SHIPMENT_SHORTFALL, DomainError, OrderErrorCode
from gateway.domain.inheritance import adapt_min_qty, resolve_chain, resolve_source_item
from gateway.domain.model import StockSnapshot
from gateway.domain.options import Backorders
from gateway.domain.quantity import ZERO, compare, format_qty
from gateway.domain.sourcing import Selection

# Reservation event types: Magento's own names (and spelling) for the reservation metadata.
PLACED = "order_placed"
CANCELED = "order_canceled"
SHIPPED = "shipment_created"
REFUNDED = "creditmemo_created"

MAX_ORDER_ID = 64


class OrderStatus(StrEnum):
    """Where an order stands; the last two only describe an operation that was refused."""

    PLACED = "placed"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    REJECTED = "rejected"  # a placement refused by the checks: nothing was stored
    NOT_FOUND = "not_found"  # the operation named an order that does not exist


@dataclass(frozen=True)
class OrderSku:
    """One SKU of an order and everything that happened to it."""

    sku: str
    ordered: Decimal
    managed: bool
    backorder_qty: Decimal = ZERO
    shipped: Decimal = ZERO
    cancelled: Decimal = ZERO
    returned: Decimal = ZERO
    subtract: bool = True  # can_subtract was on at placement

    @property
    def reserves(self) -> bool:
        """Placing this SKU appended a reservation, so cancelling, shipping and refunding
        compensate it; otherwise they append nothing."""
        return self.managed and self.subtract

    @property
    def open(self) -> Decimal:
        """Ordered, not shipped and not cancelled: what is still reserved."""
        return self.ordered - self.shipped - self.cancelled

    @property
    def refundable(self) -> Decimal:
        """What a refund may still take back: the open part plus shipped, not yet returned."""
        return self.open + self.shipped - self.returned


@dataclass(frozen=True)
class ShipmentLine:
    """Quantity taken from (or, negative, returned to) a source for one SKU."""

    source_code: str | None  # None for unmanaged SKUs: nothing tracked on the shelves
    sku: str
    qty: Decimal


@dataclass(frozen=True)
class PlacedLine:
    """A line as placed: what the replay of a placement answers again."""

    sku: str
    qty: Decimal
    backorder_qty: Decimal = ZERO
    notify: bool = False  # the BACKORDERED notice was given (backorders = allow_notify)


@dataclass(frozen=True)
class Order:
    order_id: str
    channel: str
    stock_id: int
    customer_group: str | None
    skus: tuple[OrderSku, ...]
    shipments: tuple[ShipmentLine, ...] = ()
    lines: tuple[PlacedLine, ...] = ()
    request_key: str = ""  # canonical form of the placing request, for idempotent replays

    @property
    def status(self) -> OrderStatus:
        ordered = sum((s.ordered for s in self.skus), ZERO)
        shipped = sum((s.shipped for s in self.skus), ZERO)
        cancelled = sum((s.cancelled for s in self.skus), ZERO)
        returned = sum((s.returned for s in self.skus), ZERO)
        open_qty = ordered - shipped - cancelled
        if open_qty == 0 and shipped > 0 and returned == shipped:
            return OrderStatus.REFUNDED
        if open_qty == 0 and shipped > 0:
            return OrderStatus.SHIPPED
        if shipped > 0:
            return OrderStatus.PARTIALLY_SHIPPED
        if open_qty == 0:
            return OrderStatus.CANCELLED
        return OrderStatus.PLACED

    def sku(self, sku: str) -> OrderSku:
        for entry in self.skus:
            if entry.sku == sku:
                return entry
        raise DomainError(OrderErrorCode.SKU_NOT_IN_ORDER,
                          f"SKU {sku!r} is not part of order {self.order_id}.")


@dataclass(frozen=True)
class ReservationDelta:
    sku: str
    qty: Decimal
    event_type: str


@dataclass(frozen=True)
class ShelfChange:
    """New quantity (and status) of one source item after a shipment or a return."""

    sku: str
    source_code: str
    quantity: Decimal
    in_stock: bool


@dataclass(frozen=True)
class Plan:
    order: Order
    reservations: tuple[ReservationDelta, ...] = ()
    shelves: tuple[ShelfChange, ...] = ()
    shipped: tuple[ShipmentLine, ...] = field(default=())


def check_order_id(order_id: str) -> None:
    """Raise INVALID_ORDER_ID unless ``order_id`` is 1-64 characters without outer spaces."""
    if not order_id or len(order_id) > MAX_ORDER_ID or order_id != order_id.strip():
        raise DomainError(OrderErrorCode.INVALID_ORDER_ID,
                          f"orderId must be 1-{MAX_ORDER_ID} characters without surrounding "
                          "spaces.", "orderId")


def request_key(channel: str, customer_group: str | None,
                lines: Sequence[RequestedLine]) -> str:
    """The canonical form of a placing request: a replay is idempotent only when equal."""
    return json.dumps([channel, customer_group,
                       [[line.sku, repr(line.quantity)] for line in lines]])


def order_from_check(order_id: str, channel: str, stock_id: int, customer_group: str | None,
                     key: str, results: Sequence[LineResult]) -> Order:
    """The order a fully accepted cart check places (lines of one SKU are summed).

    Every result must be ok (a quantity and an availability): a refused check places nothing.
    """
    skus: dict[str, OrderSku] = {}
    for result in results:
        assert result.quantity is not None and result.availability is not None
        settings = result.availability.settings
        prior = skus.get(result.sku, OrderSku(result.sku, ZERO, settings.manage_stock))
        skus[result.sku] = OrderSku(result.sku, prior.ordered + result.quantity,
                                    settings.manage_stock,
                                    prior.backorder_qty + result.backorder_qty,
                                    subtract=settings.can_subtract)
    lines = tuple(PlacedLine(r.sku, r.quantity or ZERO, r.backorder_qty, bool(r.notices))
                  for r in results)
    return Order(order_id, channel, stock_id, customer_group, tuple(skus.values()),
                 lines=lines, request_key=key)


def replayed_lines(order: Order) -> tuple[LineResult, ...]:
    """The line results a replay of the placement answers: what was placed, with its notices."""
    return tuple(LineResult(line.sku, line.qty, (), (backordered_notice(line.backorder_qty),)
                            if line.notify else (), line.backorder_qty)
                 for line in order.lines)


def place(order: Order) -> Plan:
    """The reservations of a freshly checked order: −qty per managed SKU, none at all while
    ``can_subtract`` is off."""
    return Plan(order, tuple(ReservationDelta(s.sku, -s.ordered, PLACED)
                             for s in order.skus if s.reserves and s.ordered > 0))


def cancel(order: Order) -> Plan:
    """Give back every open quantity that was reserved; cancelling twice gives back nothing
    more."""
    deltas = tuple(ReservationDelta(s.sku, s.open, CANCELED)
                   for s in order.skus if s.reserves and s.open > 0)
    skus = tuple(replace(s, cancelled=s.cancelled + s.open) for s in order.skus)
    return Plan(replace(order, skus=skus), deltas)


def requested(order: Order, lines: Sequence[tuple[str, Decimal]] | None,
              limit: str) -> dict[str, Decimal]:
    """Quantities per SKU asked for by ``lines`` (all of ``limit`` when None), validated."""
    if lines is None:
        wanted = {s.sku: getattr(s, limit) for s in order.skus}
        return {sku: qty for sku, qty in wanted.items() if qty > 0}
    wanted = {}
    for sku, qty in lines:
        wanted[sku] = wanted.get(sku, ZERO) + qty
    for sku, qty in wanted.items():
        available = getattr(order.sku(sku), limit)
        if compare(qty, available) > 0:
            raise DomainError(OrderErrorCode.QTY_EXCEEDS_ORDER,
                              f"{format_qty(qty)} of {sku} requested but only "
                              f"{format_qty(available)} can be taken from this order.")
    return wanted


def to_ship(order: Order, lines: Sequence[tuple[str, Decimal]] | None) -> dict[str, Decimal]:
    """What a shipment takes per SKU: ``lines``, or everything still open; never nothing."""
    wanted = requested(order, lines, "open")
    if not wanted:
        raise DomainError(OrderErrorCode.NOTHING_TO_SHIP,
                          f"Order {order.order_id} has nothing open to ship.")
    return wanted


def to_refund(order: Order, lines: Sequence[tuple[str, Decimal]] | None) -> dict[str, Decimal]:
    """What a refund takes back per SKU: ``lines``, or everything refundable; never nothing."""
    wanted = requested(order, lines, "refundable")
    if not wanted:
        raise DomainError(OrderErrorCode.NOTHING_TO_REFUND,
                          f"Order {order.order_id} has nothing left to refund.")
    return wanted


@dataclass(frozen=True)
class Shelf:
    """A source item as a shipment or a return sees it, with its status thresholds.

    ``out_of_stock_at``: the quantity at which a shipment takes it out of stock (the adapted
    ``min_qty`` when its backorders are off, None when they are on). ``back_in_stock_above``:
    the quantity a return must exceed to put it back in stock (the adapted ``min_qty``), None
    while ``can_back_in_stock`` is off.
    """

    quantity: Decimal
    in_stock: bool
    out_of_stock_at: Decimal | None
    back_in_stock_above: Decimal | None


def shelves(snapshots: Iterable[StockSnapshot]) -> dict[tuple[str, str], Shelf]:
    """Every source item of the snapshots' SKUs, keyed by (source code, sku), with its status
    thresholds (docs/rules.md §7), read through the inheritance engine: ``min_qty`` and the
    global ``can_back_in_stock`` from the chain, ``backorders`` per source item."""
    found = {}
    for snapshot in snapshots:
        min_qty = resolve_chain("min_qty", snapshot.chain).value
        back_in = resolve_chain("can_back_in_stock", snapshot.chain).value
        assert isinstance(min_qty, Decimal)
        for item in snapshot.source_items:
            backorders = resolve_source_item("backorders", item, snapshot.chain).value
            assert isinstance(backorders, Backorders)
            threshold = adapt_min_qty(min_qty, backorders)
            found[item.source_code, snapshot.sku] = Shelf(
                item.quantity, item.in_stock, None if backorders.enabled else threshold,
                threshold if back_in else None)
    return found


def deductions(order: Order, wanted: Mapping[str, Decimal],
               selection: Selection) -> list[ShipmentLine]:
    """The shipment lines of ``wanted``: the selection's deductions for managed SKUs, and a
    line without a source for each unmanaged SKU. Raises SHIPMENT_SHORTFALL (Magento's
    message) when the selection cannot cover the managed quantities."""
    if not selection.shippable:
        raise DomainError(OrderErrorCode.SHIPMENT_SHORTFALL, SHIPMENT_SHORTFALL)
    lines = [ShipmentLine(i.source_code, i.sku, i.qty_to_deduct)
             for i in selection.items if i.qty_to_deduct > 0]
    lines += [ShipmentLine(None, sku, qty) for sku, qty in wanted.items()
              if not order.sku(sku).managed]
    return lines


def managed_lines(order: Order, wanted: Mapping[str, Decimal]) -> list[tuple[str, Decimal]]:
    """The (sku, qty) of ``wanted`` whose stock is tracked: what source selection must cover."""
    return [(sku, qty) for sku, qty in wanted.items() if order.sku(sku).managed]


def ship(order: Order, deductions: Sequence[ShipmentLine],
         shelves: Mapping[tuple[str, str], Shelf]) -> Plan:
    """Apply a chosen source selection: deduct, compensate the reservation, flip statuses.

    ``deductions`` come from source selection (managed SKUs) or carry no source (unmanaged).
    A source item is taken out of stock only when its new quantity *equals* its
    ``out_of_stock_at`` (4-place compare), as Magento's
    ``SourceDeductionService::getSourceStockStatus``: an item left below the threshold keeps
    its status, because the threshold is subtracted once, at stock level (docs/rules.md §5,
    §7). Nothing is compensated for SKUs whose placement reserved nothing. Raises DomainError
    (Magento's shortfall message) when a source would go below zero.
    """
    shipped: dict[str, Decimal] = {}
    remaining = {key: shelf.quantity for key, shelf in shelves.items()}
    for line in deductions:
        shipped[line.sku] = shipped.get(line.sku, ZERO) + line.qty
        if line.source_code is None or line.qty == 0:
            continue
        key = (line.source_code, line.sku)
        left = remaining.get(key, ZERO) - line.qty
        if key not in remaining or compare(left, ZERO) < 0:
            raise DomainError(OrderErrorCode.SHIPMENT_SHORTFALL, SHIPMENT_SHORTFALL)
        remaining[key] = left
    changes = []
    for (source, sku), quantity in remaining.items():
        shelf = shelves[source, sku]
        if quantity == shelf.quantity:
            continue
        threshold = shelf.out_of_stock_at
        reached = threshold is not None and compare(quantity, threshold) == 0
        changes.append(ShelfChange(sku, source, quantity, shelf.in_stock and not reached))
    skus = tuple(replace(s, shipped=s.shipped + shipped.get(s.sku, ZERO)) for s in order.skus)
    deltas = tuple(ReservationDelta(sku, qty, SHIPPED) for sku, qty in shipped.items()
                   if qty > 0 and order.sku(sku).reserves)
    lines = tuple(line for line in deductions if line.qty > 0)
    return Plan(replace(order, skus=skus, shipments=order.shipments + lines), deltas,
                tuple(changes), lines)


def refund(order: Order, wanted: Mapping[str, Decimal],
           shelves: Mapping[tuple[str, str], Shelf]) -> Plan:
    """Take back ``wanted`` per SKU: shipped quantity returns to the sources it left (latest
    shipment first), the unshipped part is released as a +qty reservation (when placing
    reserved it). An out-of-stock source item brought above its ``back_in_stock_above`` is
    put back in stock; never while ``can_back_in_stock`` is off."""
    skus = {s.sku: s for s in order.skus}
    deltas: list[ReservationDelta] = []
    returned: dict[tuple[str | None, str], Decimal] = {}  # per (source, sku), first use first
    quantities = {key: shelf.quantity for key, shelf in shelves.items()}
    for sku, qty in wanted.items():
        entry = skus[sku]
        if compare(qty, entry.refundable) > 0:
            raise DomainError(OrderErrorCode.QTY_EXCEEDS_ORDER,
                              f"{format_qty(qty)} of {sku} requested but only "
                              f"{format_qty(entry.refundable)} can be refunded.")
        from_shelf = min(qty, entry.shipped - entry.returned)
        unshipped = qty - from_shelf
        if unshipped > 0:
            entry = replace(entry, cancelled=entry.cancelled + unshipped)
            if entry.reserves:
                deltas.append(ReservationDelta(sku, unshipped, REFUNDED))
        left = from_shelf
        for line in reversed(_net_shipped(order, sku)):
            if left <= 0:
                break
            back = min(left, line.qty)
            left -= back
            key = (line.source_code, sku)
            returned[key] = returned.get(key, ZERO) + back
            if line.source_code is not None and (line.source_code, sku) in quantities:
                quantities[line.source_code, sku] += back
        skus[sku] = replace(entry, returned=entry.returned + from_shelf)
    returns = tuple(ShipmentLine(code, sku, -qty) for (code, sku), qty in returned.items())
    changes = []
    for (code, sku), quantity in quantities.items():
        shelf = shelves[code, sku]
        if quantity != shelf.quantity:
            above = shelf.back_in_stock_above
            back_in = above is not None and compare(quantity, above) > 0
            changes.append(ShelfChange(sku, code, quantity, shelf.in_stock or back_in))
    new = replace(order, skus=tuple(skus[s.sku] for s in order.skus),
                  shipments=order.shipments + returns)
    return Plan(new, tuple(deltas), tuple(changes), returns)


@dataclass
class _Chunk:
    source_code: str | None
    qty: Decimal


def _net_shipped(order: Order, sku: str) -> list[ShipmentLine]:
    """What of ``sku`` is still out, as shipment chunks in shipping order.

    Shipments push a chunk; each earlier return takes back from that source's most recent
    chunks first, so the chunks left are exactly what a "latest shipment first" return sees.
    """
    chunks: list[_Chunk] = []
    for line in order.shipments:
        if line.sku != sku:
            continue
        if line.qty > 0:
            chunks.append(_Chunk(line.source_code, line.qty))
            continue
        owed = -line.qty
        for chunk in reversed(chunks):
            if owed <= 0:
                break
            if chunk.source_code == line.source_code:
                taken = min(owed, chunk.qty)
                chunk.qty -= taken
                owed -= taken
    return [ShipmentLine(c.source_code, sku, c.qty) for c in chunks if c.qty > 0]
