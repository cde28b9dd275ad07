"""Stateful test: the real order and storefront services on a real SQLite file, against a
plain-Decimal model of sources, reservations and orders (docs/rules.md §5, §6, §7, §9).

Catalog: one stock ("web" channel) over two sources whose priority order is not their
alphabetical order; integer SKUs (one with an out-of-stock item that shipping must skip), a
decimal SKU, a decimal SKU whose preferred source item refuses decimals (so fractions are
allowed only while that item is out of stock: §3 aggregates contributing items) and an
unmanaged SKU; backorders off everywhere (the default). Every order line is valid for
min/max/increments, so only stock (and, for TAPE, the decimal rule) decides acceptance.

After every step the store must agree with the model: salable quantity and status per SKU,
source item quantities and statuses, reservation totals, and every order's quantities, status
and reservations.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
)

from gateway.domain.cart import RequestedLine
from gateway.domain.errors import CartIssueCode
from gateway.domain.orders import ShipmentLine
from gateway.services import build_services
from gateway.services.orders import OrderOutcome, OrderService
from gateway.store.postgres import PostgresStore
from gateway.store.protocol import Store
from gateway.store.sqlite import SqliteStore
from tests.postgres_support import start_server

T = TypeVar("T")
D = Decimal
ZERO = D(0)

CHANNEL = "web"
STOCK_ID = 1
#: Ascending link priority: "south" first although "north" sorts first by code.
SOURCE_ORDER = ("south", "north")

#: (source, sku) -> (quantity, in stock)
INITIAL: dict[tuple[str, str], tuple[Decimal, bool]] = {
    ("south", "TEE"): (D(2), True),
    ("north", "TEE"): (D(3), True),
    ("south", "CAP"): (D(3), False),  # out of stock: not physical, never shipped from
    ("north", "CAP"): (D(4), True),
    ("south", "ROPE"): (D("1.5"), True),
    ("north", "ROPE"): (D("2.5"), True),
    ("south", "TAPE"): (D(2), True),  # is_qty_decimal false on this source item
    ("north", "TAPE"): (D("1.5"), True),
    ("north", "EBOOK"): (D(0), True),
}
MANAGED = {"TEE": True, "CAP": True, "ROPE": True, "TAPE": True, "EBOOK": False}
DECIMAL_SKUS = frozenset({"ROPE", "TAPE"})  # is_qty_decimal on the product
NO_DECIMALS = frozenset({("south", "TAPE")})  # is_qty_decimal false on the source item
SKUS = tuple(MANAGED)

CATALOG: dict[str, Any] = {
    "format": "availability-catalog/1",
    "sources": [{"code": "north", "name": "North"}, {"code": "south", "name": "South"}],
    "stocks": [{"id": STOCK_ID, "name": "Main", "channels": [CHANNEL],
                "sources": [{"code": "north", "priority": 2}, {"code": "south", "priority": 1}]}],
    "products": [
        {"sku": "TEE", "name": "Tee"},
        {"sku": "CAP", "name": "Cap"},
        {"sku": "ROPE", "name": "Rope (metres)",
         "config": {"is_qty_decimal": True, "min_sale_qty": 0.5}},
        {"sku": "TAPE", "name": "Tape (metres)",
         "config": {"is_qty_decimal": True, "min_sale_qty": 0.5}},
        {"sku": "EBOOK", "name": "E-book", "config": {"manage_stock": False}},
    ],
    "source_items": [
        {"sku": sku, "source": source, "quantity": float(qty),
         "status": "in_stock" if in_stock else "out_of_stock",
         "config": {"is_qty_decimal": False} if (source, sku) in NO_DECIMALS else {}}
        for (source, sku), (qty, in_stock) in INITIAL.items()],
}


def quantities(sku: str, low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    """Valid quantities of ``sku`` in [low, high]: tenths for the decimal SKU, else integers."""
    if sku in DECIMAL_SKUS:
        return st.integers(int(low * 10), int(high * 10)).map(lambda n: D(n) / 10)
    return st.integers(int(low), int(high)).map(D)


def order_line(sku: str) -> st.SearchStrategy[tuple[str, Decimal]]:
    low = D("0.5") if sku in DECIMAL_SKUS else D(1)
    high = D(2) if sku == "EBOOK" else D(3)
    return quantities(sku, low, high).map(lambda qty: (sku, qty))


LINES = st.lists(st.sampled_from(SKUS).flatmap(order_line), min_size=1, max_size=3)


@dataclass
class SkuModel:
    ordered: Decimal
    managed: bool
    shipped: Decimal = ZERO
    cancelled: Decimal = ZERO
    returned: Decimal = ZERO

    @property
    def open(self) -> Decimal:
        return self.ordered - self.shipped - self.cancelled

    @property
    def refundable(self) -> Decimal:
        return self.open + self.shipped - self.returned


@dataclass
class OrderModel:
    request: tuple[RequestedLine, ...]
    skus: dict[str, SkuModel]
    #: Quantity shipped and not yet returned per (source (None: unmanaged), sku).
    out: dict[tuple[str | None, str], Decimal] = field(default_factory=dict)

    @property
    def status(self) -> str:
        ordered = sum((s.ordered for s in self.skus.values()), ZERO)
        shipped = sum((s.shipped for s in self.skus.values()), ZERO)
        cancelled = sum((s.cancelled for s in self.skus.values()), ZERO)
        returned = sum((s.returned for s in self.skus.values()), ZERO)
        still_open = ordered - shipped - cancelled
        if still_open == 0 and shipped > 0:
            return "refunded" if returned == shipped else "shipped"
        if shipped > 0:
            return "partially_shipped"
        return "cancelled" if still_open == 0 else "placed"


def totals_by(lines: list[tuple[str | None, str, Decimal]]) -> dict[tuple[str | None, str],
                                                                      Decimal]:
    totals: dict[tuple[str | None, str], Decimal] = {}
    for source, sku, qty in lines:
        totals[source, sku] = totals.get((source, sku), ZERO) + qty
    return {key: qty for key, qty in totals.items() if qty != 0}


def as_tuples(lines: tuple[ShipmentLine, ...]) -> list[tuple[str | None, str, Decimal]]:
    return [(line.source_code, line.sku, line.qty) for line in lines]


class OrderMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory()
        self.store = self.make_store()
        self.services = build_services(self.store)
        self.service: OrderService = self.services.orders
        try:
            self.run(self.store.open())
            problems = self.run(self.services.catalog.import_document(CATALOG, replace=True))
            assert problems == [], problems
        except BaseException:
            self.teardown()  # aiosqlite's worker threads would keep the process alive
            raise
        self.qty = {key: qty for key, (qty, _) in INITIAL.items()}
        self.in_stock = {key: in_stock for key, (_, in_stock) in INITIAL.items()}
        self.reserved = dict.fromkeys(SKUS, ZERO)
        self.model: dict[str, OrderModel] = {}
        self.counter = 0

    def make_store(self) -> Store:
        return SqliteStore(Path(self.tmp.name) / "gateway.sqlite3")

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            self.run(self.store.close())
        finally:
            self.loop.close()
            self.tmp.cleanup()

    # -- the model's view of stock ----------------------------------------------------------

    def physical(self, sku: str) -> Decimal:
        return sum((qty for (source, s), qty in self.qty.items()
                    if s == sku and self.in_stock[source, s]), ZERO)

    def any_in_stock(self, sku: str) -> bool:
        return any(self.in_stock[key] for key in self.qty if key[1] == sku)

    def decimals_allowed(self, sku: str) -> bool:
        """§3: every contributing (in-stock) item allows decimals; with none, all assigned."""
        if sku not in DECIMAL_SKUS:
            return False
        items = [key for key in self.qty if key[1] == sku]
        contributing = [key for key in items if self.in_stock[key]] or items
        return not any(key in NO_DECIMALS for key in contributing)

    def salable(self, sku: str) -> Decimal:
        left = self.physical(sku) + self.reserved[sku]
        return left if self.any_in_stock(sku) and left > 0 else ZERO

    # -- rules ------------------------------------------------------------------------------

    def accepts(self, lines: list[tuple[str, Decimal]],
                reserved: dict[str, Decimal]) -> bool:
        """§6 with lines valid for min/max/increments: accepted iff fractions are allowed
        where used and every managed SKU's total fits its salable qty."""
        wanted: dict[str, Decimal] = {}
        for sku, qty in lines:
            wanted[sku] = wanted.get(sku, ZERO) + qty
            if qty != qty.to_integral_value() and not self.decimals_allowed(sku):
                return False
        for sku, qty in wanted.items():
            if not MANAGED[sku]:
                continue
            left = self.physical(sku) + reserved[sku]
            salable = left if self.any_in_stock(sku) and left > 0 else ZERO
            if qty > salable:
                return False
        return True

    def record_placement(self, order_id: str, lines: list[tuple[str, Decimal]],
                         outcome: OrderOutcome) -> bool:
        """Check one placement's outcome against the model (already judged) and apply it."""
        if not outcome.ok:
            codes = {issue.code for line in outcome.lines for issue in line.errors}
            assert codes, outcome
            assert codes <= {CartIssueCode.INSUFFICIENT_STOCK, CartIssueCode.OUT_OF_STOCK,
                             CartIssueCode.DECIMAL_NOT_ALLOWED}, codes
            fractional = {sku for sku, qty in lines if qty != qty.to_integral_value()}
            assert (CartIssueCode.DECIMAL_NOT_ALLOWED in codes) is any(
                not self.decimals_allowed(sku) for sku in fractional), (codes, lines)
            assert outcome.order is None and not outcome.replayed
            return False
        assert not outcome.replayed and outcome.order is not None
        assert outcome.status == "placed"
        wanted: dict[str, Decimal] = {}
        for sku, qty in lines:
            wanted[sku] = wanted.get(sku, ZERO) + qty
            if MANAGED[sku]:
                self.reserved[sku] -= qty
        self.model[order_id] = OrderModel(
            tuple(RequestedLine(sku, str(qty)) for sku, qty in lines),
            {sku: SkuModel(qty, MANAGED[sku]) for sku, qty in wanted.items()})
        return True

    def new_id(self) -> str:
        self.counter += 1
        return f"O-{self.counter}"

    @rule(target=orders, lines=LINES)
    def place(self, lines: list[tuple[str, Decimal]]) -> Any:
        order_id = self.new_id()
        accept = self.accepts(lines, self.reserved)
        salable = {sku: self.salable(sku) for sku, _ in lines}
        outcome = self.run(self.service.place_order(
            order_id, CHANNEL, [RequestedLine(sku, str(qty)) for sku, qty in lines]))
        assert outcome.ok is accept, (lines, salable, outcome.lines, outcome.error)
        return order_id if self.record_placement(order_id, lines, outcome) else multiple()

    @rule(target=orders, first=LINES, second=LINES)
    def place_concurrently(self, first: list[tuple[str, Decimal]],
                           second: list[tuple[str, Decimal]]) -> Any:
        """Two placements racing on one event loop behave as if run one after the other."""
        ids = (self.new_id(), self.new_id())
        batches = (first, second)

        async def both() -> list[OrderOutcome]:
            return list(await asyncio.gather(*(
                self.service.place_order(order_id, CHANNEL,
                                         [RequestedLine(sku, str(qty)) for sku, qty in lines])
                for order_id, lines in zip(ids, batches, strict=True))))

        outcomes = self.run(both())
        serial_orders = []
        for order in ((0, 1), (1, 0)):
            reserved = dict(self.reserved)
            verdicts = [False, False]
            for index in order:
                verdicts[index] = self.accepts(batches[index], reserved)
                if verdicts[index]:
                    for sku, qty in batches[index]:
                        if MANAGED[sku]:
                            reserved[sku] -= qty
            serial_orders.append(verdicts)
        assert [o.ok for o in outcomes] in serial_orders, (batches, outcomes, serial_orders)
        placed = [order_id for order_id, lines, outcome in zip(ids, batches, outcomes, strict=True)
                  if self.record_placement(order_id, lines, outcome)]
        return multiple(*placed)

    @rule(key=st.sampled_from(sorted(key for key in INITIAL if MANAGED[key[1]])),
          data=st.data())
    def restock(self, key: tuple[str, str], data: st.DataObject) -> None:
        """A merge import raising a source item's quantity (and putting it in stock)."""
        source, sku = key
        added = data.draw(quantities(sku, D(1) if sku not in DECIMAL_SKUS else D("0.1"), D(3)),
                          label="added")
        quantity = self.qty[key] + added
        problems = self.run(self.services.catalog.import_document({
            "format": "availability-catalog/1",
            "source_items": [{"sku": sku, "source": source, "quantity": float(quantity),
                              "status": "in_stock",  # an upsert: the item config is restated
                              "config": {"is_qty_decimal": False} if key in NO_DECIMALS
                              else {}}]}))
        assert problems == [], problems
        self.qty[key] = quantity
        self.in_stock[key] = True

    @rule(order_id=orders)
    def replay(self, order_id: str) -> None:
        """Same id, same lines: the first answer again, nothing more reserved."""
        model = self.model[order_id]
        outcome = self.run(self.service.place_order(order_id, CHANNEL, model.request))
        assert outcome.ok and outcome.replayed, outcome
        assert outcome.order is not None and outcome.order.order_id == order_id
        assert [(line.sku, line.quantity) for line in outcome.lines] == \
            [(line.sku, D(str(line.quantity))) for line in model.request]

    @rule(order_id=orders, data=st.data())
    def misuse(self, order_id: str, data: st.DataObject) -> None:
        """Refused requests change nothing (the invariants check that)."""
        model = self.model[order_id]
        sku = data.draw(st.sampled_from(sorted(model.skus)), label="sku")
        entry = model.skus[sku]
        kind = data.draw(st.sampled_from(
            ["conflict", "unknown", "ship_too_much", "refund_too_much", "not_in_order"]),
            label="kind")
        if kind == "conflict":  # same id, other lines
            outcome = self.run(self.service.place_order(
                order_id, CHANNEL, [*model.request, RequestedLine("TEE", "1")]))
            expected = "ORDER_ID_CONFLICT"
        elif kind == "unknown":
            operation = data.draw(st.sampled_from(
                [self.service.cancel_order, self.service.ship_order, self.service.refund_order]),
                label="operation")
            outcome = self.run(operation("no-such-order"))
            assert outcome.status == "not_found"
            expected = "ORDER_NOT_FOUND"
        elif kind == "ship_too_much":
            outcome = self.run(self.service.ship_order(
                order_id, [RequestedLine(sku, str(entry.open + 1))]))
            expected = "QTY_EXCEEDS_ORDER"
        elif kind == "refund_too_much":
            outcome = self.run(self.service.refund_order(
                order_id, [RequestedLine(sku, str(entry.refundable + 1))]))
            expected = "QTY_EXCEEDS_ORDER"
        else:
            other = next(name for name in SKUS if name not in model.skus) \
                if len(model.skus) < len(SKUS) else None
            if other is None:
                return
            outcome = self.run(self.service.ship_order(order_id, [RequestedLine(other, "1")]))
            expected = "SKU_NOT_IN_ORDER"
        assert not outcome.ok and outcome.error is not None, outcome
        assert outcome.error.code == expected, (kind, outcome.error)
        assert not outcome.shipped

    @rule(order_id=orders)
    def cancel(self, order_id: str) -> None:
        model = self.model[order_id]
        outcome = self.run(self.service.cancel_order(order_id))
        assert outcome.ok, outcome.error
        for sku, entry in model.skus.items():
            released = entry.open
            if released > 0 and entry.managed:
                self.reserved[sku] += released
            entry.cancelled += released
        assert outcome.status == model.status

    def pick(self, data: st.DataObject, preferred: list[str]) -> str:
        """Mostly an order from ``preferred`` (when there is one), else any order."""
        if preferred and data.draw(st.integers(0, 4), label="prefer") > 0:
            return data.draw(st.sampled_from(sorted(preferred)), label="order")
        return data.draw(st.sampled_from(sorted(self.model)), label="order")

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def ship(self, data: st.DataObject) -> None:
        order_id = self.pick(data, [order_id for order_id, model in self.model.items()
                                    if any(entry.open > 0 for entry in model.skus.values())])
        model = self.model[order_id]
        open_skus = [sku for sku, entry in model.skus.items() if entry.open > 0]
        lines: list[RequestedLine] | None = None
        if open_skus and data.draw(st.booleans(), label="partial"):
            sku = data.draw(st.sampled_from(open_skus), label="sku")
            step = D("0.1") if sku in DECIMAL_SKUS else D(1)
            qty = data.draw(quantities(sku, step, model.skus[sku].open), label="qty")
            lines = [RequestedLine(sku, str(qty))]
            wanted = {sku: qty}
        else:
            wanted = {sku: model.skus[sku].open for sku in open_skus}
        outcome = self.run(self.service.ship_order(order_id, lines))
        if not wanted:
            assert not outcome.ok and outcome.error is not None
            assert outcome.error.code == "NOTHING_TO_SHIP", outcome.error
            return

        # docs/rules.md §9 priority selection over the model's shelves (reservations ignored).
        plan: list[tuple[str | None, str, Decimal]] = []
        left = dict(self.qty)
        shortfall = False
        for sku, qty in wanted.items():
            if not MANAGED[sku]:
                plan.append((None, sku, qty))
                continue
            remaining = qty
            for source in SOURCE_ORDER:
                key = (source, sku)
                if key not in left or not self.in_stock[key]:
                    continue
                take = min(max(left[key], ZERO), remaining)
                if take > 0:
                    plan.append((source, sku, take))
                    left[key] -= take
                remaining -= take
            shortfall = shortfall or remaining > 0
        if shortfall:  # cannot happen with backorders off: open qty is always on the shelves
            assert not outcome.ok and outcome.error is not None
            assert outcome.error.code == "SHIPMENT_SHORTFALL", outcome.error
            return
        assert outcome.ok, (wanted, self.qty, self.in_stock, outcome.error)
        self.check_shipment(outcome, wanted)
        assert totals_by(as_tuples(outcome.shipped)) == totals_by(plan), (outcome.shipped, plan)

        for source, sku, qty in plan:
            if source is not None:
                self.qty[source, sku] -= qty
                if self.qty[source, sku] <= 0:  # adapted min_qty 0, backorders off
                    self.in_stock[source, sku] = False
            model.out[source, sku] = model.out.get((source, sku), ZERO) + qty
        for sku, qty in wanted.items():
            model.skus[sku].shipped += qty
            if MANAGED[sku]:
                self.reserved[sku] += qty
        assert outcome.status == model.status

    def check_shipment(self, outcome: OrderOutcome, wanted: dict[str, Decimal]) -> None:
        """What the outcome says it shipped is consistent on its own (before the model)."""
        per_sku: dict[str, Decimal] = {}
        used: dict[str, list[str | None]] = {}
        for line in outcome.shipped:
            assert line.qty > 0, line
            per_sku[line.sku] = per_sku.get(line.sku, ZERO) + line.qty
            used.setdefault(line.sku, []).append(line.source_code)
            if MANAGED[line.sku]:
                key = (line.source_code, line.sku)
                assert key in self.qty and self.in_stock[key], line  # only in-stock items
                assert line.qty <= self.qty[key], (line, self.qty[key])  # never below zero
            else:
                assert line.source_code is None, line  # nothing tracked on the shelves
        assert per_sku == wanted, (per_sku, wanted)
        for sku, sources in used.items():
            if not MANAGED[sku]:
                continue
            ranks = [SOURCE_ORDER.index(str(source)) for source in sources]
            assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks), sources
            for source in sources[:-1]:  # a later source is used only once earlier ones are empty
                assert self.qty[str(source), sku] == next(
                    line.qty for line in outcome.shipped
                    if line.sku == sku and line.source_code == source), (source, sku)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        """Mostly orders with shipped quantity out, so that stock goes back to the shelves."""
        order_id = self.pick(data, [order_id for order_id, model in self.model.items()
                                    if any(qty > 0 for qty in model.out.values())])
        model = self.model[order_id]
        refundable = [sku for sku, entry in model.skus.items() if entry.refundable > 0]
        lines: list[RequestedLine] | None = None
        if refundable and data.draw(st.booleans(), label="partial"):
            sku = data.draw(st.sampled_from(refundable), label="sku")
            step = D("0.1") if sku in DECIMAL_SKUS else D(1)
            qty = data.draw(quantities(sku, step, model.skus[sku].refundable), label="qty")
            lines = [RequestedLine(sku, str(qty))]
            wanted = {sku: qty}
        else:
            wanted = {sku: model.skus[sku].refundable for sku in refundable}
        outcome = self.run(self.service.refund_order(order_id, lines))
        if not wanted:
            assert not outcome.ok and outcome.error is not None
            assert outcome.error.code == "NOTHING_TO_REFUND", outcome.error
            return
        assert outcome.ok, outcome.error

        back_per_sku: dict[str, Decimal] = {}
        for sku, qty in wanted.items():
            entry = model.skus[sku]
            from_shelf = min(qty, entry.shipped - entry.returned)
            unshipped = qty - from_shelf
            if unshipped > 0:
                entry.cancelled += unshipped
                if entry.managed:
                    self.reserved[sku] += unshipped
            back_per_sku[sku] = from_shelf
            entry.returned += from_shelf
        # What came back (negative lines): exactly the shipped part asked for, only to sources
        # this order shipped from, never more than it took from each. Which of them comes
        # first is checked by test_refund_returns_latest_shipment_first.
        returned = totals_by(as_tuples(outcome.shipped))
        assert all(qty < 0 for qty in returned.values()), outcome.shipped
        per_sku: dict[str, Decimal] = {}
        for (source, sku), qty in returned.items():
            assert -qty <= model.out.get((source, sku), ZERO), (source, sku, qty, model.out)
            per_sku[sku] = per_sku.get(sku, ZERO) - qty
        assert per_sku == {sku: qty for sku, qty in back_per_sku.items() if qty > 0}, \
            (outcome.shipped, back_per_sku)
        for (source, sku), qty in returned.items():
            model.out[source, sku] += qty
            if source is not None:
                self.qty[source, sku] -= qty
                self.in_stock[source, sku] = self.in_stock[source, sku] or self.qty[source, sku] > 0
        assert outcome.status == model.status

    @precondition(lambda self: self.model)
    @rule()
    def compact(self) -> None:
        removed = self.run(self.service.compact_reservations())
        assert removed >= 0
        rows = self.run(self.store.export_catalog()).reservations
        sums: dict[tuple[str, str], Decimal] = {}
        for row in rows:
            order_id = row.metadata.get("order_id")
            assert order_id is not None
            sums[order_id, row.sku] = sums.get((order_id, row.sku), ZERO) + row.quantity
        assert all(total != 0 for total in sums.values()), sums
        assert self.run(self.service.compact_reservations()) == 0

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def availability_matches_model(self) -> None:
        answers = self.run(self.services.storefront.availability(CHANNEL, list(SKUS)))
        for sku, answer in zip(SKUS, answers, strict=True):
            assert answer is not None, sku
            if not MANAGED[sku]:
                assert answer.salable_qty is None and answer.is_salable, answer
                continue
            physical, reserved = self.physical(sku), self.reserved[sku]
            salable = self.salable(sku)
            assert (answer.physical, answer.reserved) == (physical, reserved), (sku, answer)
            assert answer.salable_qty == salable, (sku, answer.salable_qty, salable)
            assert answer.is_salable is (salable > 0), (sku, answer)
            assert physical + reserved >= 0, sku  # never oversold

    @invariant()
    def shelves_match_model(self) -> None:
        catalog = self.run(self.store.export_catalog())
        stored = {(item.source, item.sku): (item.quantity, item.in_stock)
                  for item in catalog.source_items}
        expected = {key: (self.qty[key], self.in_stock[key]) for key in self.qty}
        assert stored == expected
        assert all(qty >= 0 for qty, _ in stored.values()), stored
        totals: dict[str, Decimal] = {}
        for row in catalog.reservations:
            assert row.stock == STOCK_ID and MANAGED[row.sku], row
            totals[row.sku] = totals.get(row.sku, ZERO) + row.quantity
        assert {sku: qty for sku, qty in totals.items() if qty != 0} == \
            {sku: qty for sku, qty in self.reserved.items() if qty != 0}

    @invariant()
    def orders_match_model(self) -> None:
        for order_id, model in self.model.items():
            view = self.run(self.service.order(order_id))
            assert view is not None, order_id
            assert view.order.status == model.status, (order_id, view.order, model)
            assert {entry.sku for entry in view.order.skus} == set(model.skus)
            reserved: dict[str, Decimal] = {}
            for row in view.reservations:
                reserved[row.sku] = reserved.get(row.sku, ZERO) + row.quantity
            for sku, expected in model.skus.items():
                actual = view.order.sku(sku)
                assert (actual.ordered, actual.shipped, actual.cancelled, actual.returned,
                        actual.managed) == (expected.ordered, expected.shipped,
                                            expected.cancelled, expected.returned,
                                            expected.managed), (order_id, actual, expected)
                assert actual.open == expected.open >= 0
                # The order's reservations still hold exactly its open quantity.
                assert reserved.get(sku, ZERO) == (-expected.open if expected.managed else ZERO)


OrderMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25,
                                          deadline=None)
TestOrders = OrderMachine.TestCase


class PostgresOrderMachine(OrderMachine):
    """The same machine on PostgreSQL (a fresh database per example)."""

    def make_store(self) -> Store:
        self.server = start_server()
        self.database = self.server.create_database()
        return PostgresStore(self.database, pool_size=2)

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            self.server.drop_database(self.database)


PostgresOrderMachine.TestCase.settings = settings(max_examples=12, stateful_step_count=25,
                                                  deadline=None)
TestOrdersOnPostgres = PostgresOrderMachine.TestCase


def test_refund_returns_latest_shipment_first() -> None:
    """orders.refund promises "latest shipment first". Order X ships TEE from south, then
    north (south emptied), then south again once another order's refund restocked it: the
    latest unit of X left south, so refunding one unit must put it back on south."""
    machine = OrderMachine()
    try:
        run, service = machine.run, machine.service
        assert run(service.place_order("A", CHANNEL, [RequestedLine("TEE", "1")])).ok
        assert run(service.place_order("X", CHANNEL, [RequestedLine("TEE", "3")])).ok
        shipped = run(service.ship_order("A")).shipped
        assert totals_by(as_tuples(shipped)) == {("south", "TEE"): 1}
        shipped = run(service.ship_order("X", [RequestedLine("TEE", "2")])).shipped
        assert totals_by(as_tuples(shipped)) == {("south", "TEE"): 1, ("north", "TEE"): 1}
        shipped = run(service.refund_order("A")).shipped
        assert totals_by(as_tuples(shipped)) == {("south", "TEE"): -1}
        shipped = run(service.ship_order("X", [RequestedLine("TEE", "1")])).shipped
        assert totals_by(as_tuples(shipped)) == {("south", "TEE"): 1}
        returned = run(service.refund_order("X", [RequestedLine("TEE", "1")])).shipped
        assert totals_by(as_tuples(returned)) == {("south", "TEE"): -1}, returned
    finally:
        machine.teardown()
