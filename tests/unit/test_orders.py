"""Order plans (docs/rules.md §7) without I/O: reservations, shelf changes and statuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.domain import orders
from gateway.domain.errors import DomainError
from gateway.domain.orders import Order, OrderSku, Shelf, ShipmentLine

D = Decimal


def order(*skus: OrderSku) -> Order:
    return Order("o-1", "web", 1, None, skus)


def shelves(**quantities: object) -> dict[tuple[str, str], Shelf]:
    return {(source, "A"): Shelf(D(str(qty)), True, D(0)) for source, qty in quantities.items()}


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
