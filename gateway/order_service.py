"""Order use cases: place, cancel, ship, refund, plus the order view and the low-stock report.

Every use case runs in one store transaction: the check and the writes it justifies commit
together or not at all, and no other writer (coroutine or process) runs in between, so two
buyers of the last unit cannot both win. Rules come from the domain; this module only loads,
calls and saves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from gateway.domain import orders
from gateway.domain.cart import Issue, LineResult, RequestedLine, check_cart, parse_lines
from gateway.domain.errors import SHIPMENT_SHORTFALL, CartIssueCode, DomainError, message
from gateway.domain.inheritance import Setting, adapt_min_qty, resolve_chain, resolve_source_item
from gateway.domain.model import ConfigChain, SourceItemState
from gateway.domain.options import Backorders
from gateway.domain.orders import Order, OrderSku, PlacedLine, Shelf, ShipmentLine
from gateway.domain.quantity import ZERO, format_qty
from gateway.domain.records import ReservationRecord, SkuData, StockRecord, Topology
from gateway.domain.sourcing import Algorithm, Destination, select_sources
from gateway.service import InventoryService, selection_inputs
from gateway.store.protocol import Transaction

MAX_ORDER_ID = 64


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
    def status(self) -> str:
        if self.order is not None:
            return self.order.status
        return "not_found" if self.error and self.error.code == "ORDER_NOT_FOUND" else "rejected"


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


def _request_key(channel: str, group: str | None, lines: Sequence[RequestedLine]) -> str:
    return json.dumps([channel, group, [[line.sku, repr(line.quantity)] for line in lines]])


def _backordered_notice(qty: Decimal) -> Issue:
    return Issue(CartIssueCode.BACKORDERED, message(CartIssueCode.BACKORDERED, format_qty(qty)),
                 "backorders", qty)


def _replayed_lines(order: Order) -> tuple[LineResult, ...]:
    return tuple(LineResult(line.sku, line.qty, (), (_backordered_notice(line.backorder_qty),)
                            if line.notify else (), line.backorder_qty)
                 for line in order.lines)


def _order_from_check(order_id: str, channel: str, stock_id: int, group: str | None,
                      key: str, results: Sequence[LineResult]) -> Order:
    skus: dict[str, OrderSku] = {}
    for result in results:
        assert result.quantity is not None and result.availability is not None
        managed = result.availability.settings.manage_stock
        prior = skus.get(result.sku, OrderSku(result.sku, ZERO, managed))
        skus[result.sku] = OrderSku(result.sku, prior.ordered + result.quantity, managed,
                                    prior.backorder_qty + result.backorder_qty)
    lines = tuple(PlacedLine(r.sku, r.quantity or ZERO, r.backorder_qty, bool(r.notices))
                  for r in results)
    return Order(order_id, channel, stock_id, group, tuple(skus.values()), lines=lines,
                 request_key=key)


def _shelves(stock: StockRecord, topology: Topology, data: SkuData) -> dict[tuple[str, str], Shelf]:
    """Each source item of the loaded SKUs with the quantity at which it goes out of stock."""
    shelves = {}
    for sku, product in data.products.items():
        chain = ConfigChain(product.config, stock.config, topology.global_config)
        min_qty = resolve_chain("min_qty", chain).value
        assert isinstance(min_qty, Decimal)
        for item in data.source_items.get(sku, ()):
            state = SourceItemState(item.source, item.quantity, item.in_stock, config=item.config)
            backorders = resolve_source_item("backorders", state, chain).value
            assert isinstance(backorders, Backorders)
            threshold = None if backorders.enabled else adapt_min_qty(min_qty, backorders)
            shelves[item.source, sku] = Shelf(item.quantity, item.in_stock, threshold)
    return shelves


class OrderService:
    """Order use cases over the inventory service's store and cached topology."""

    def __init__(self, inventory: InventoryService) -> None:
        self.inventory = inventory
        self.store = inventory.store

    async def _topology(self, tx: Transaction) -> Topology:
        cached = self.inventory.cached_topology
        if cached is not None and cached.version == await tx.data_version():
            return cached
        return await tx.load_topology()

    async def place_order(self, order_id: str, channel: str, lines: Sequence[RequestedLine],
                          customer_group: str | None = None) -> OrderOutcome:
        """Check every line and reserve them all in one transaction, or reserve nothing.

        Idempotent by ``order_id``: a replay answers the first result and reserves nothing
        more; the same id with other lines is refused (ORDER_ID_CONFLICT). Rejected orders are
        not stored, so the same id may be retried once stock is back.
        """
        if not order_id or len(order_id) > MAX_ORDER_ID or order_id != order_id.strip():
            return OrderOutcome(order_id, False, error=DomainError(
                "INVALID_ORDER_ID", f"orderId must be 1-{MAX_ORDER_ID} characters without "
                                    "surrounding spaces."))
        if not lines:
            return OrderOutcome(order_id, False, error=DomainError(
                "EMPTY_ORDER", "An order needs at least one line."))
        key = _request_key(channel, customer_group, lines)
        async with self.store.transaction() as tx:
            existing = await tx.get_order(order_id)
            if existing is not None:
                if existing.request_key != key:
                    return OrderOutcome(order_id, False, existing, error=DomainError(
                        "ORDER_ID_CONFLICT", f"Order {order_id} was already placed with other "
                                             "lines; use a new orderId."))
                return OrderOutcome(order_id, True, existing, _replayed_lines(existing),
                                    replayed=True)
            stock, assessed = await self.inventory.assess_skus(
                channel, [line.sku for line in lines], customer_group, reader=tx)
            results = check_cart(lines, assessed)
            if not all(result.ok for result in results):
                return OrderOutcome(order_id, False, lines=results)
            plan = orders.place(_order_from_check(order_id, channel, stock.id, customer_group,
                                                  key, results))
            await tx.save_order(plan.order, new=True)
            await tx.append_reservations(plan.order, plan.reservations)
        return OrderOutcome(order_id, True, plan.order, results)

    async def _existing(self, tx: Transaction, order_id: str) -> Order:
        order = await tx.get_order(order_id)
        if order is None:
            raise DomainError("ORDER_NOT_FOUND", f"There is no order {order_id!r}.")
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

    async def _prepare(self, tx: Transaction, order_id: str,
                       lines: Sequence[RequestedLine] | None, limit: str,
                       nothing: tuple[str, str]
                       ) -> tuple[Order, dict[str, Decimal], Topology, StockRecord, SkuData]:
        """The order, what is asked of it (all of ``limit`` by default), and its stock data."""
        order = await self._existing(tx, order_id)
        wanted = orders.requested(order, parse_lines(lines) if lines is not None else None,
                                  limit)
        if not wanted:
            raise DomainError(nothing[0], f"Order {order_id} has nothing {nothing[1]}.")
        topology = await self._topology(tx)
        stock = topology.stocks[order.stock_id]
        return order, wanted, topology, stock, await tx.load_skus(list(wanted), stock.id)

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
                order, wanted, topology, stock, data = await self._prepare(
                    tx, order_id, lines, "open", ("NOTHING_TO_SHIP", "open to ship"))
                managed = [(sku, qty) for sku, qty in wanted.items() if order.sku(sku).managed]
                sources, on_shelf = selection_inputs(stock, topology, data)
                selection = select_sources(managed, sources, on_shelf, algorithm, destination)
                if not selection.shippable:
                    raise DomainError("SHIPMENT_SHORTFALL", SHIPMENT_SHORTFALL)
                deductions = [ShipmentLine(i.source_code, i.sku, i.qty_to_deduct)
                              for i in selection.items if i.qty_to_deduct > 0]
                deductions += [ShipmentLine(None, sku, qty) for sku, qty in wanted.items()
                               if not order.sku(sku).managed]
                plan = orders.ship(order, deductions, _shelves(stock, topology, data))
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
                order, wanted, topology, stock, data = await self._prepare(
                    tx, order_id, lines, "refundable", ("NOTHING_TO_REFUND", "left to refund"))
                plan = orders.refund(order, wanted, _shelves(stock, topology, data))
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
        """SEMANTICS §8: in-stock items with 0 < quantity < their effective notify quantity."""
        topology = await self.inventory.topology()
        if source is not None and source not in topology.sources:
            raise DomainError("SOURCE_NOT_FOUND", f"Unknown source {source!r}.")
        stock = self.inventory.stock_for(channel, topology) if channel is not None else None
        linked = {link.source_code for link in stock.sources} if stock else None
        rows = []
        for item, product in await self.store.low_stock_candidates(source):
            if linked is not None and item.source not in linked:
                continue
            chain = ConfigChain(product.config, stock.config if stock else {},
                                topology.global_config)
            state = SourceItemState(item.source, item.quantity, item.in_stock, config=item.config)
            notify = resolve_source_item("notify_stock_qty", state, chain)
            assert isinstance(notify.value, Decimal)
            if item.quantity < notify.value:
                rows.append(LowStockRow(item.sku, product.name, item.source, item.quantity,
                                        notify.value, notify))
        return rows

    async def compact_reservations(self) -> int:
        return await self.store.compact_reservations()
