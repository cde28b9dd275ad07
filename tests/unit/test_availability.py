"""docs/rules.md §5: physical, salable qty, is_salable (rules 1-5), only_x_left, low_stock."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.domain.model import SourceItemState
from tests.unit.builders import availability, item, snapshot

D = Decimal


@pytest.mark.parametrize(
    ("items", "physical", "assigned", "any_in_stock"),
    [
        pytest.param([item("a", 5), item("b", "2.5")], D("7.5"), True, True, id="sum"),
        pytest.param([item("a", 5), item("b", 3, in_stock=False)], D(5), True, True,
                     id="out-of-stock-adds-nothing"),
        pytest.param([item("a", 5), item("b", 3, enabled=False)], D(5), True, True,
                     id="disabled-source-adds-nothing"),
        pytest.param([item("a", 5), item("b", 3, linked=False)], D(5), True, True,
                     id="unlinked-source-adds-nothing"),
        pytest.param([item("a", 5, enabled=False)], D(0), False, False,
                     id="disabled-only-not-assigned"),
        pytest.param([item("a", 5, linked=False)], D(0), False, False,
                     id="unlinked-only-not-assigned"),
        pytest.param([item("a", 5, in_stock=False)], D(0), True, False,
                     id="out-of-stock-still-assigned"),
        pytest.param([item("a", 5), item("b", -2)], D(3), True, True,
                     id="negative-on-hand-accepted"),
        pytest.param([], D(0), False, False, id="no-items"),
    ],
)
def test_physical_and_assignment(items: list[SourceItemState], physical: Decimal,
                                 assigned: bool, any_in_stock: bool) -> None:
    snap = snapshot(*items)
    assert snap.physical == physical
    assert snap.is_assigned is assigned
    assert snap.any_in_stock is any_in_stock
    result = availability(*items)
    assert result.physical == physical
    assert result.is_assigned is assigned


@pytest.mark.parametrize(
    ("items", "reserved", "product", "salable", "salable_qty"),
    [
        pytest.param([item("a", "8.5")], "-9.33", {"min_qty": -1, "backorders": "allow"},
                     True, D("0.17"), id="backorder-cap-8.5-minus-9.33-plus-1"),
        pytest.param([item("a", "8.5")], "-9.5", {"min_qty": -1, "backorders": "allow"},
                     False, D(0), id="backorder-cap-reached"),
        pytest.param([item("a", 10)], 0, {"min_qty": -4.5}, True, D(10),
                     id="negative-min-qty-without-backorders-ignored"),
        pytest.param([item("a", 10)], 0, {"min_qty": 3}, True, D(7),
                     id="safety-stock-held-back"),
        pytest.param([item("a", 3)], 0, {"min_qty": 3}, False, D(0),
                     id="safety-stock-equals-physical"),
        pytest.param([item("a", 2)], 0, {"min_qty": 3}, False, D(0),
                     id="safety-stock-above-physical"),
        pytest.param([item("a", 10)], 0, {"min_qty": 3, "backorders": "allow"}, True, D(10),
                     id="positive-min-qty-with-backorders-ignored"),
        pytest.param([item("a", 0)], 0, {"min_qty": 3, "backorders": "allow"}, True, D(0),
                     id="unlimited-backorders-zero-physical"),
        pytest.param([item("a", 0)], -5, {"backorders": "allow_notify"}, True, D(-5),
                     id="unlimited-backorders-negative-left"),
        pytest.param([item("a", 0)], 0, None, False, D(0), id="zero-physical"),
        pytest.param([item("a", 5)], -5, None, False, D(0), id="fully-reserved"),
        pytest.param([item("a", 5)], -2, None, True, D(3), id="reserved"),
        pytest.param([item("a", 5)], 2, None, True, D(7), id="positive-reservation"),
        pytest.param([item("a", "0.0001")], 0, None, True, D("0.0001"), id="smallest-positive"),
        pytest.param([item("a", 5, in_stock=False)], 0, {"backorders": "allow"}, False, D(0),
                     id="backorders-never-rescue-all-out-of-stock"),
        pytest.param([item("a", 5, in_stock=False)], 0,
                     {"backorders": "allow", "min_qty": -10}, False, D(0),
                     id="backorder-cap-never-rescues-all-out-of-stock"),
        pytest.param([item("a", 5, in_stock=False, backorders="allow")], 0, None, False, D(0),
                     id="source-backorders-never-rescue"),
        pytest.param([item("a", 5, enabled=False)], 0, None, False, D(0),
                     id="not-assigned-disabled"),
        pytest.param([item("a", 5, enabled=False)], 0, {"backorders": "allow"}, False, D(0),
                     id="not-assigned-disabled-with-backorders"),
        pytest.param([item("a", 5), item("b", 100, enabled=False)], 0, None, True, D(5),
                     id="disabled-source-counts-for-nothing"),
        pytest.param([item("a", 5), item("b", 100, linked=False)], 0, None, True, D(5),
                     id="unlinked-source-counts-for-nothing"),
    ],
)
def test_salable_qty_and_status(items: list[SourceItemState], reserved: object,
                                product: dict[str, object] | None, salable: bool,
                                salable_qty: Decimal) -> None:
    result = availability(*items, reserved=reserved, product=product)
    assert result.is_salable is salable
    assert result.salable_qty == salable_qty


@pytest.mark.parametrize(
    ("items", "manage_level", "salable"),
    [
        pytest.param([item("a", 0, in_stock=False)], "product", True,
                     id="unmanaged-all-out-of-stock-still-salable"),
        pytest.param([item("a", 0)], "global", True, id="unmanaged-global"),
        pytest.param([item("a", 0, in_stock=False)], "stock", True, id="unmanaged-stock-level"),
        pytest.param([item("a", 10, enabled=False)], "product", False,
                     id="unmanaged-not-assigned-disabled"),
        pytest.param([item("a", 10, linked=False)], "product", False,
                     id="unmanaged-not-assigned-unlinked"),
        pytest.param([], "product", False, id="unmanaged-no-items"),
    ],
)
def test_manage_stock_off(items: list[SourceItemState], manage_level: str,
                          salable: bool) -> None:
    levels: dict[str, dict[str, object] | None] = {"product": None, "stock": None,
                                                   "global_": None}
    levels["global_" if manage_level == "global" else manage_level] = {"manage_stock": False}
    result = availability(*items, reserved=-50, **levels)  # type: ignore[arg-type]
    assert result.is_salable is salable
    assert result.salable_qty is None
    assert result.only_x_left is None
    assert result.low_stock is False


@pytest.mark.parametrize(
    ("physical", "reserved", "product", "threshold", "expected"),
    [
        pytest.param(5, 0, None, 0, None, id="threshold-0-off"),
        pytest.param(5, 0, None, 5, D(5), id="salable-equals-threshold"),
        pytest.param(3, 0, None, 5, D(3), id="salable-below-threshold"),
        pytest.param(6, 0, None, 5, None, id="salable-above-threshold"),
        pytest.param(7, -3, None, 5, D(4), id="reservations-count"),
        pytest.param(10, 0, {"min_qty": 3}, 8, D(7), id="min-qty-subtracted-once"),
        pytest.param(10, 0, {"min_qty": 3}, 6, None, id="min-qty-once-above-threshold"),
        pytest.param(0, 0, None, 5, None, id="not-salable"),
        pytest.param(3, -3, None, 5, None, id="fully-reserved"),
        pytest.param(3, 0, {"manage_stock": False}, 5, None, id="unmanaged"),
        pytest.param("8.5", "-9.33", {"min_qty": -1, "backorders": "allow"}, 1, D("0.17"),
                     id="backorder-cap-fraction"),
        # Unlimited backorders: any quantity can be ordered, so no false scarcity.
        pytest.param(3, 0, {"backorders": "allow"}, 5, None, id="unlimited-backorders-hidden"),
        pytest.param(3, 0, {"backorders": "allow_notify", "min_qty": 0}, 5, None,
                     id="unlimited-backorders-notify-hidden"),
        pytest.param(13, 0, {"backorders": "allow", "min_qty": 10}, 20, None,
                     id="positive-threshold-with-backorders-is-unlimited-hidden"),
        # Capped backorders (negative threshold): the number is real and shows.
        pytest.param(3, 0, {"backorders": "allow", "min_qty": -2}, 5, D(5),
                     id="capped-backorders-shown"),
        pytest.param(10, -15, {"backorders": "allow", "min_qty": "-10"}, 5, D(5),
                     id="capped-backorders-reserved-shown"),
        pytest.param(3, 0, {"backorders": "no", "min_qty": -2}, 5, D(3),
                     id="negative-threshold-without-backorders-ignored-shown"),
    ],
)
def test_only_x_left(physical: object, reserved: object, product: dict[str, object] | None,
                     threshold: int, expected: Decimal | None) -> None:
    result = availability(item("a", physical), reserved=reserved, product=product,
                          global_={"stock_threshold_qty": threshold})
    assert result.only_x_left == expected


def test_only_x_left_threshold_from_stock_level() -> None:
    result = availability(item("a", 4), stock={"stock_threshold_qty": 5},
                          global_={"stock_threshold_qty": 2})
    assert result.only_x_left == D(4)
    assert result.settings["stock_threshold_qty"].level.value == "STOCK"


@pytest.mark.parametrize(
    ("physical", "reserved", "product", "global_", "item_opts", "low"),
    [
        pytest.param(5, 0, None, None, {}, False, id="default-notify-1-above"),
        pytest.param("0.5", 0, None, None, {}, True, id="default-notify-1-below"),
        pytest.param(1, 0, None, None, {}, False, id="equal-is-not-below"),
        pytest.param(5, 0, {"notify_stock_qty": 6}, None, {}, True, id="product-level"),
        pytest.param(5, 0, {"notify_stock_qty": 5}, None, {}, False, id="product-level-equal"),
        pytest.param(8, -4, {"notify_stock_qty": 5}, None, {}, True,
                     id="compared-against-salable-not-physical"),
        pytest.param(10, 0, {"notify_stock_qty": 5, "min_qty": 6}, None, {}, True,
                     id="min-qty-deducted"),
        pytest.param(5, 0, None, {"notify_stock_qty": 6}, {}, True, id="global-level"),
        pytest.param(5, 0, {"notify_stock_qty": 2}, {"notify_stock_qty": 6}, {}, False,
                     id="product-overrides-global"),
        pytest.param(5, 0, None, None, {"notify_stock_qty": 100}, False,
                     id="source-item-value-not-used-for-stock"),
        pytest.param(5, 0, {"notify_stock_qty": 100, "manage_stock": False}, None, {}, False,
                     id="unmanaged-never-low"),
    ],
)
def test_low_stock(physical: object, reserved: object, product: dict[str, object] | None,
                   global_: dict[str, object] | None, item_opts: dict[str, object],
                   low: bool) -> None:
    result = availability(item("a", physical, **item_opts), reserved=reserved, product=product,
                          global_=global_)
    assert result.low_stock is low


def test_left_to_sell_is_unclamped() -> None:
    result = availability(item("a", 2), reserved=-5)
    assert result.salable_qty == D(0)
    assert result.left_to_sell == D(-3)
    assert result.reserved == D(-5)


def test_only_x_left_hidden_by_a_source_item_with_backorders() -> None:
    # A source item allowing backorders makes the stock-level backorders unlimited (§3, §4).
    result = availability(item("a", 3), item("b", 1, backorders="allow"),
                          global_={"stock_threshold_qty": 5})
    assert result.settings.unlimited_backorders
    assert result.salable_qty == D(4) and result.only_x_left is None


@pytest.mark.parametrize(
    ("stock", "global_", "shown", "level"),
    [
        pytest.param(None, None, False, "DEFAULT", id="default-off"),
        pytest.param(None, {"show_out_of_stock": True}, True, "GLOBAL", id="global-on"),
        pytest.param({"show_out_of_stock": False}, {"show_out_of_stock": True}, False, "STOCK",
                     id="stock-overrides-global"),
        pytest.param({"show_out_of_stock": True}, None, True, "STOCK", id="stock-only"),
    ],
)
def test_show_out_of_stock_comes_from_stock_or_global(stock: dict[str, object] | None,
                                                      global_: dict[str, object] | None,
                                                      shown: bool, level: str) -> None:
    result = availability(item("a", 0, in_stock=False), stock=stock, global_=global_)
    assert result.settings.show_out_of_stock is shown
    assert result.settings["show_out_of_stock"].level.value == level
