"""Order use cases: place, cancel, ship, refund, plus the order view and the low-stock report.

Every use case runs in one store transaction: the check and the writes it justifies commit
together or not at all, and no other writer (coroutine or process) runs in between, so two
buyers of the last unit cannot both win. Rules come from the domain; this module only loads,
calls and saves.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from gateway.domain import orders
from gateway.domain.availability import low_stock_setting
from gateway.domain.cart import LineResult, RequestedLine, check_cart, parse_lines
from gateway.domain.errors import DomainError, LookupErrorCode, OrderErrorCode
from gateway.domain.inheritance import Setting
from gateway.domain.model import ConfigChain, SourceItemState
from gateway.domain.orders import Order, OrderStatus, ShipmentLine
from gateway.domain.records import ReservationRecord
from gateway.domain.sourcing import Algorithm, Destination, select_sources
from gateway.services.reader import InventoryReader, Loaded
from gateway.store.errors import StoreBusy, WriteConflict
from gateway.store.protocol import Transaction

#: Placements re-checked after losing a race at the write before giving up (STORE_BUSY).
PLACEMENT_ATTEMPTS = 8


@dataclass(frozen=True)
class OrderOutcome:
    """What an order operation answers; ``error`` is set when it was refused as a whole."""

    order_id: str
    ok: bool
    order: Order | None = None
    lines: tuple[LineResult, ...] = ()
    error: DomainError | None = None
    replayed: bool = False
    shipped: tuple[ShipmentLine, ...] = ()

    @property
    def status(self) -> OrderStatus:
        if self.order is not None:
            return self.order.status
        if self.error is not None and self.error.code is OrderErrorCode.ORDER_NOT_FOUND:
            return OrderStatus.NOT_FOUND
        return OrderStatus.REJECTED


@dataclass(frozen=True)
class LowStockRow:
    sku: str
    product_name: str
    source_code: str
    quantity: Decimal
    notify_qty: Decimal
    notify: Setting


@dataclass(frozen=True)
class OrderView:
    order: Order
    reservations: tuple[ReservationRecord, ...] = field(default=())


class OrderService:
    """Order use cases over the shared reader's store and topology cache."""

    def __init__(self, reader: InventoryReader) -> None:
        self.reader = reader
        self.store = reader.store

    async def place_order(self, order_id: str, channel: str, lines: Sequence[RequestedLine],
                          customer_group: str | None = None) -> OrderOutcome:
        """Check every line and reserve them all in one transaction, or reserve nothing.

        Idempotent by ``order_id``: a replay answers the first result and reserves nothing
        more; the same id with other lines is refused (ORDER_ID_CONFLICT). Rejected orders are
        not stored, so the same id may be retried once stock is back.
        """
        try:
            orders.check_order_id(order_id)
            if not lines:
                raise DomainError(OrderErrorCode.EMPTY_ORDER, "An order needs at least one line.",
                                  "lines")
        except DomainError as exc:
            return OrderOutcome(order_id, False, error=exc)
        key = orders.request_key(channel, customer_group, lines)
        # A backend that does not serialise placements (PostgreSQL) checks again at the write
        # and refuses when a concurrent placement took the stock (or the order id) after this
        # check: the check then runs again on fresh data and answers from what it finds.
        for attempt in range(PLACEMENT_ATTEMPTS):
            try:
                return await self._place(order_id, channel, lines, customer_group, key)
            except WriteConflict:
                await asyncio.sleep(random.uniform(0, 0.002 * 2 ** attempt))
        raise StoreBusy("this order kept racing other orders for the same stock: retry it "
                        "(with the same orderId)", retry_after=0.5)

    async def _place(self, order_id: str, channel: str, lines: Sequence[RequestedLine],
                     customer_group: str | None, key: str) -> OrderOutcome:
        """One attempt: check and reserve in one transaction (raises WriteConflict when the
        store refused the reservation after the check)."""
        async with self.store.transaction() as tx:
            found = await self.reader.placement(tx, order_id, channel,
                                                [line.sku for line in lines], customer_group)
            if isinstance(found, Order):  # a replay, or another order under this id
                if found.request_key != key:
                    return OrderOutcome(order_id, False, found, error=DomainError(
                        OrderErrorCode.ORDER_ID_CONFLICT,
                        f"Order {order_id} was already placed with other lines; use a new "
                        "orderId.", "orderId"))
                return OrderOutcome(order_id, True, found, orders.replayed_lines(found),
                                    replayed=True)
            stock, assessed = found
            results = check_cart(lines, assessed)
            if not all(result.ok for result in results):
                return OrderOutcome(order_id, False, lines=results)
            plan = orders.place(orders.order_from_check(order_id, channel, stock.id,
                                                        customer_group, key, results))
            await tx.save_order(plan.order, new=True)
            await tx.append_reservations(plan.order, plan.reservations)
        return OrderOutcome(order_id, True, plan.order, results)

    async def _existing(self, tx: Transaction, order_id: str) -> Order:
        order = await tx.get_order(order_id)
        if order is None:
            raise DomainError(OrderErrorCode.ORDER_NOT_FOUND, f"There is no order {order_id!r}.",
                              "orderId")
        return order

    async def cancel_order(self, order_id: str) -> OrderOutcome:
        """Release every open quantity; cancelling again releases nothing more."""
        try:
            async with self.store.transaction() as tx:
                plan = orders.cancel(await self._existing(tx, order_id))
                await tx.save_order(plan.order, new=False)
                await tx.append_reservations(plan.order, plan.reservations)
        except DomainError as exc:
            return OrderOutcome(order_id, False, error=exc)
        return OrderOutcome(order_id, True, plan.order)

    async def _load(self, tx: Transaction, order: Order, skus: Sequence[str]) -> Loaded:
        return await self.reader.load_stock(order.stock_id, skus, via=tx)

    async def _apply(self, tx: Transaction, plan: orders.Plan) -> None:
        await tx.save_order(plan.order, new=False)
        await tx.append_reservations(plan.order, plan.reservations)
        await tx.update_source_items(plan.shelves)

    async def ship_order(self, order_id: str, lines: Sequence[RequestedLine] | None = None,
                         algorithm: Algorithm = Algorithm.PRIORITY,
                         destination: Destination | None = None) -> OrderOutcome:
        """Ship ``lines`` (default: everything open) from the selected sources, atomically."""
        try:
            async with self.store.transaction() as tx:
                order = await self._existing(tx, order_id)
                wanted = orders.to_ship(order, _parsed(lines))
                loaded = await self._load(tx, order, list(wanted))
                sources, on_shelf = loaded.selection_inputs()
                selection = select_sources(orders.managed_lines(order, wanted), sources,
                                           on_shelf, algorithm, destination)
                plan = orders.ship(order, orders.deductions(order, wanted, selection),
                                   orders.shelves(loaded.snapshots()))
                await self._apply(tx, plan)
        except DomainError as exc:
            return OrderOutcome(order_id, False, error=exc)
        return OrderOutcome(order_id, True, plan.order, shipped=plan.shipped)

    async def refund_order(self, order_id: str,
                           lines: Sequence[RequestedLine] | None = None) -> OrderOutcome:
        """Take back ``lines`` (default: everything): shipped quantity returns to its sources,
        the unshipped part is released."""
        try:
            async with self.store.transaction() as tx:
                order = await self._existing(tx, order_id)
                wanted = orders.to_refund(order, _parsed(lines))
                loaded = await self._load(tx, order, list(wanted))
                plan = orders.refund(order, wanted, orders.shelves(loaded.snapshots()))
                await self._apply(tx, plan)
        except DomainError as exc:
            return OrderOutcome(order_id, False, error=exc)
        return OrderOutcome(order_id, True, plan.order, shipped=plan.shipped)

    async def order(self, order_id: str) -> OrderView | None:
        order = await self.store.get_order(order_id)
        if order is None:
            return None
        return OrderView(order, tuple(await self.store.order_reservations(order_id)))

    async def low_stock(self, source: str | None = None,
                        channel: str | None = None) -> list[LowStockRow]:
        """docs/rules.md §8: in-stock items with 0 < quantity < their effective notify
        quantity, optionally of one source and of the sources linked to one channel's stock."""
        topology = await self.reader.topology()
        if source is not None and source not in topology.sources:
            raise DomainError(LookupErrorCode.SOURCE_NOT_FOUND, f"Unknown source {source!r}.",
                              "source")
        stock = self.reader.stock_for(channel, topology) if channel is not None else None
        linked = {link.source_code for link in stock.sources} if stock else None
        rows = []
        for item, product in await self.store.low_stock_candidates(source):
            if linked is not None and item.source not in linked:
                continue
            chain = ConfigChain(product.config, stock.config if stock else {},
                                topology.global_config)
            state = SourceItemState(item.source, item.quantity, item.in_stock, config=item.config)
            notify = low_stock_setting(state, chain)
            if notify is not None:
                assert isinstance(notify.value, Decimal)
                rows.append(LowStockRow(item.sku, product.name, item.source, item.quantity,
                                        notify.value, notify))
        return rows

    async def compact_reservations(self) -> int:
        return await self.store.compact_reservations()


def _parsed(lines: Sequence[RequestedLine] | None) -> list[tuple[str, Decimal]] | None:
    return parse_lines(lines) if lines is not None else None
