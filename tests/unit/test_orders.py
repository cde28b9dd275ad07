"""Order plans (docs/rules.md §7) without I/O: reservations, shelf changes and statuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.domain import orders
from gateway.domain.errors import DomainError
from gateway.domain.orders import Order, OrderSku, Shelf, ShipmentLine
from tests.unit.builders import item, snapshot

D = Decimal


def order(*skus: OrderSku) -> Order:
    return Order("o-1", "web", 1, None, skus)


def shelves(**quantities: object) -> dict[tuple[str, str], Shelf]:
    return {(source, "A"): Shelf(D(str(qty)), True, D(0), D(0))
            for source, qty in quantities.items()}


def test_place_reserves_managed_skus_only() -> None:
    plan = orders.place(order(OrderSku("A", D(2), True), OrderSku("PDF", D(1), False)))
    assert [(d.sku, d.qty, d.event_type) for d in plan.reservations] == \
        [("A", D(-2), orders.PLACED)]
    assert plan.order.status == "placed"


def test_cancel_releases_open_quantity_once() -> None:
    placed = order(OrderSku("A", D(5), True, shipped=D(2)))
    plan = orders.cancel(placed)
    assert [(d.sku, d.qty) for d in plan.reservations] == [("A", D(3))]
    again = orders.cancel(plan.order)
    assert again.reservations == () and again.order.status == "shipped"


def test_ship_deducts_compensates_and_flips_an_emptied_item() -> None:
    placed = order(OrderSku("A", D(4), True))
    plan = orders.ship(placed, [ShipmentLine("s1", "A", D(3)), ShipmentLine("s2", "A", D(1))],
                       shelves(s1=3, s2=5))
    assert [(c.source_code, c.quantity, c.in_stock) for c in plan.shelves] == \
        [("s1", D(0), False), ("s2", D(4), True)]
    assert [(d.qty, d.event_type) for d in plan.reservations] == [(D(4), orders.SHIPPED)]
    assert plan.order.status == "shipped"


def test_ship_never_takes_a_shelf_below_zero() -> None:
    with pytest.raises(DomainError) as refused:
        orders.ship(order(OrderSku("A", D(4), True)), [ShipmentLine("s1", "A", D(4))],
                    shelves(s1=3))
    assert refused.value.code == "SHIPMENT_SHORTFALL"


def test_refund_returns_latest_shipment_first_then_releases_the_rest() -> None:
    placed = order(OrderSku("A", D(6), True))
    first = orders.ship(placed, [ShipmentLine("s1", "A", D(2))], shelves(s1=2, s2=9))
    second = orders.ship(first.order, [ShipmentLine("s2", "A", D(1))], shelves(s1=0, s2=9))
    plan = orders.refund(second.order, {"A": D(5)}, shelves(s1=0, s2=8))
    # 1 back to s2 (latest), 2 back to s1, 2 unshipped released as a reservation
    assert [(line.source_code, line.qty) for line in plan.shipped] == \
        [("s2", D(-1)), ("s1", D(-2))]
    assert [(d.qty, d.event_type) for d in plan.reservations] == [(D(2), orders.REFUNDED)]
    assert {(c.source_code, c.quantity, c.in_stock) for c in plan.shelves} == \
        {("s1", D(2), True), ("s2", D(9), True)}
    with pytest.raises(DomainError):
        orders.refund(plan.order, {"A": D("1.5")}, shelves(s1=2, s2=9))


def test_status_follows_the_quantities() -> None:
    assert order(OrderSku("A", D(2), True, cancelled=D(2))).status == "cancelled"
    assert order(OrderSku("A", D(2), True, shipped=D(1))).status == "partially_shipped"
    assert order(OrderSku("A", D(2), True, shipped=D(2), returned=D(2))).status == "refunded"


# --- shipment deduction: docs/rules.md §7 (Magento's SourceDeductionService) -------------------

def shelf(qty: object, *, out_at: object | None = 0, back_above: object | None = 0,
          in_stock: bool = True) -> Shelf:
    return Shelf(D(str(qty)), in_stock, None if out_at is None else D(str(out_at)),
                 None if back_above is None else D(str(back_above)))


@pytest.mark.parametrize(
    ("before", "shipped", "out_at", "in_stock"),
    [
        pytest.param(15, 12, 10, True, id="left-below-threshold-keeps-its-status"),
        pytest.param(15, 5, 10, False, id="left-equal-to-threshold-goes-out-of-stock"),
        pytest.param(15, 4, 10, True, id="left-above-threshold-stays"),
        pytest.param(3, 3, 0, False, id="emptied-with-threshold-0"),
        pytest.param(3, 2, 0, True, id="not-emptied"),
        pytest.param("10.5", "0.5", 10, False, id="fractional-equality"),
        pytest.param("10.5", "0.4999", 10, True, id="one-ten-thousandth-above"),
        pytest.param(3, 3, None, True, id="backorders-on-never-flips"),
    ],
)
def test_ship_flips_a_source_item_only_at_the_threshold(before: object, shipped: object,
                                                        out_at: object | None,
                                                        in_stock: bool) -> None:
    placed = order(OrderSku("A", D(str(shipped)), True))
    plan = orders.ship(placed, [ShipmentLine("s1", "A", D(str(shipped)))],
                       {("s1", "A"): shelf(before, out_at=out_at)})
    (change,) = plan.shelves
    assert change.quantity == D(str(before)) - D(str(shipped))
    assert change.in_stock is in_stock


def test_ship_leaves_an_out_of_stock_item_out_of_stock() -> None:
    plan = orders.ship(order(OrderSku("A", D(2), True)), [ShipmentLine("s1", "A", D(2))],
                       {("s1", "A"): shelf(9, out_at=0, in_stock=False)})
    assert [(c.quantity, c.in_stock) for c in plan.shelves] == [(D(7), False)]


def test_shelves_read_the_thresholds_through_the_engine() -> None:
    snap = snapshot(item("a", 15), item("b", 15, backorders="allow"),
                    product={"min_qty": 10}, global_={"can_back_in_stock": False})
    found = orders.shelves([snap])
    # backorders off on "a": out of stock at the adapted min_qty (10); "b" never flips.
    assert found["a", snap.sku] == Shelf(D(15), True, D(10), None)
    # backorders on: a positive threshold adapts to 0 (unlimited); returns never flip back.
    assert found["b", snap.sku] == Shelf(D(15), True, None, None)
    back = orders.shelves([snapshot(item("a", 15), product={"min_qty": -5})])
    # A negative threshold without backorders is ignored (0) for both directions.
    assert back["a", snap.sku] == Shelf(D(15), True, D(0), D(0))


# --- can_subtract: docs/rules.md §7 -----------------------------------------------------------

def test_without_can_subtract_placing_reserves_nothing() -> None:
    placed = order(OrderSku("A", D(2), True, subtract=False))
    assert orders.place(placed).reservations == ()


def test_without_can_subtract_shipping_still_deducts_but_compensates_nothing() -> None:
    placed = order(OrderSku("A", D(2), True, subtract=False))
    plan = orders.ship(placed, [ShipmentLine("s1", "A", D(2))], shelves(s1=5))
    assert [(c.source_code, c.quantity) for c in plan.shelves] == [("s1", D(3))]
    assert plan.reservations == ()
    assert plan.order.status == "shipped"


def test_without_can_subtract_cancel_and_refund_release_nothing() -> None:
    placed = order(OrderSku("A", D(4), True, subtract=False))
    assert orders.cancel(placed).reservations == ()
    shipped = orders.ship(placed, [ShipmentLine("s1", "A", D(1))], shelves(s1=5))
    refund = orders.refund(shipped.order, {"A": D(3)}, shelves(s1=4))
    assert refund.reservations == ()  # the unshipped 2 were never reserved
    assert [(c.source_code, c.quantity) for c in refund.shelves] == [("s1", D(5))]


def test_order_from_check_remembers_can_subtract() -> None:
    from gateway.domain.cart import RequestedLine, check_cart
    from tests.unit.builders import availability

    off = availability(item("a", 10), global_={"can_subtract": False})
    results = check_cart([RequestedLine("SKU-1", 2)], {"SKU-1": off})
    placed = orders.order_from_check("o", "web", 1, None, "k", results)
    assert placed.skus[0].subtract is False and placed.skus[0].reserves is False
    assert orders.place(placed).reservations == ()
    on = availability(item("a", 10))
    placed = orders.order_from_check("o", "web", 1, None, "k",
                                     check_cart([RequestedLine("SKU-1", 2)], {"SKU-1": on}))
    assert [d.qty for d in orders.place(placed).reservations] == [D(-2)]


# --- can_back_in_stock: docs/rules.md §7 ------------------------------------------------------

@pytest.mark.parametrize(
    ("before", "returned", "back_above", "in_stock"),
    [
        pytest.param(0, 4, 0, True, id="above-threshold-back-in-stock"),
        pytest.param(0, 2, 2, False, id="equal-to-threshold-stays-out"),
        pytest.param(0, 2, 3, False, id="below-threshold-stays-out"),
        pytest.param(0, 4, None, False, id="can-back-in-stock-off-never"),
        pytest.param(0, "0.0001", 0, True, id="one-ten-thousandth-above"),
    ],
)
def test_refund_puts_an_item_back_in_stock_only_above_its_threshold(
        before: object, returned: object, back_above: object | None, in_stock: bool) -> None:
    qty = D(str(returned))
    placed = order(OrderSku("A", qty, True))
    shipped = orders.ship(placed, [ShipmentLine("s1", "A", qty)], {("s1", "A"): shelf(qty)})
    plan = orders.refund(shipped.order, {"A": qty},
                         {("s1", "A"): shelf(before, back_above=back_above, in_stock=False)})
    (change,) = plan.shelves
    assert (change.quantity, change.in_stock) == (D(str(before)) + qty, in_stock)


def test_refund_never_takes_an_in_stock_item_out() -> None:
    placed = order(OrderSku("A", D(1), True))
    shipped = orders.ship(placed, [ShipmentLine("s1", "A", D(1))], shelves(s1=5))
    plan = orders.refund(shipped.order, {"A": D(1)},
                         {("s1", "A"): shelf(0, back_above=None, in_stock=True)})
    assert [(c.quantity, c.in_stock) for c in plan.shelves] == [(D(1), True)]
