"""docs/rules.md §6: checking requested quantities (cart validation and order placement)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.domain.availability import Availability
from gateway.domain.cart import RequestedLine, check_cart, is_multiple
from gateway.domain.errors import CartIssueCode as C
from gateway.domain.errors import message
from gateway.domain.options import Level
from tests.unit.builders import SKU, availability, check, check_one, codes, item

D = Decimal
P, G, DEF = Level.PRODUCT, Level.GLOBAL, Level.DEFAULT


def stock(qty: object = 100, *, reserved: object = 0, group: str | None = None,
          global_: dict[str, object] | None = None, **product: object) -> Availability:
    """One in-stock source item holding ``qty``; keyword options are product settings."""
    return availability(item("eu-1", qty), reserved=reserved, product=product or None,
                        global_=global_, group=group)


# --- 0. INVALID_QUANTITY ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "qty",
    [
        pytest.param(0, id="zero"),
        pytest.param(0.0, id="zero-float"),
        pytest.param(-0.0, id="negative-zero"),
        pytest.param(-1, id="negative"),
        pytest.param(-0.5, id="negative-fraction"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="inf"),
        pytest.param(float("-inf"), id="-inf"),
        pytest.param("abc", id="abc"),
        pytest.param("", id="empty-string"),
        pytest.param(1.00001, id="five-places"),
        pytest.param(1e12, id="absurdly-large"),
        pytest.param(10**30, id="huge-int"),
        pytest.param("1e1000000", id="exponent-beyond-decimal-emax"),
        pytest.param(D("-1e999999999"), id="decimal-exponent-beyond-emax"),
        pytest.param(None, id="none"),
        pytest.param(True, id="bool"),
        pytest.param([1], id="list"),
    ],
)
def test_invalid_quantity(qty: object) -> None:
    result = check_one(qty, stock())
    assert codes(result) == ["INVALID_QUANTITY"]
    assert result.errors[0].message.startswith("Enter a valid quantity. The quantity ")
    assert result.quantity is None
    assert not result.ok


def test_invalid_quantity_even_for_unknown_sku() -> None:
    assert codes(check_one("abc", None)) == ["INVALID_QUANTITY"]


def test_invalid_line_does_not_count_in_the_total() -> None:
    first, second = check(["abc", 2], stock(min_sale_qty=3))
    assert codes(first) == ["INVALID_QUANTITY"]
    assert codes(second) == ["MIN_SALE_QTY"]


# --- 1-2. PRODUCT_NOT_FOUND, NOT_ASSIGNED_TO_STOCK ------------------------------------------

def test_product_not_found() -> None:
    result = check_one(1, None)
    assert codes(result) == ["PRODUCT_NOT_FOUND"]
    assert result.errors[0].message == "The product that was requested doesn't exist."
    assert result.quantity == D(1)


@pytest.mark.parametrize(
    ("items", "product", "qty", "expected"),
    [
        pytest.param([item("a", 10, enabled=False)], None, 1, ["NOT_ASSIGNED_TO_STOCK"],
                     id="disabled-source"),
        pytest.param([item("a", 10, linked=False)], None, 1, ["NOT_ASSIGNED_TO_STOCK"],
                     id="unlinked-source"),
        pytest.param([], None, 1, ["NOT_ASSIGNED_TO_STOCK"], id="no-source-item"),
        pytest.param([item("a", 10, enabled=False)], {"manage_stock": False}, 1,
                     ["NOT_ASSIGNED_TO_STOCK"], id="unmanaged"),
        pytest.param([item("a", 10, enabled=False)], None, 1.5,
                     ["NOT_ASSIGNED_TO_STOCK", "DECIMAL_NOT_ALLOWED"],
                     id="checks-3-6-still-run"),
        pytest.param([item("a", 10, enabled=False)], {"min_sale_qty": 2}, 1,
                     ["NOT_ASSIGNED_TO_STOCK", "MIN_SALE_QTY"], id="min-still-checked"),
    ],
)
def test_not_assigned_to_stock(items: list[object], product: dict[str, object] | None,
                               qty: object, expected: list[str]) -> None:
    result = check_one(qty, availability(*items, product=product))  # type: ignore[arg-type]
    assert codes(result) == expected
    assert result.errors[0].message == "The requested sku is not assigned to given stock."


# --- salable quantity and the adapted min_qty (§4, §5) ---------------------------------------

@pytest.mark.parametrize(
    ("physical", "reserved", "product", "qty", "expected", "limit"),
    [
        pytest.param("8.5", "-9.33", {"min_qty": -1, "backorders": "allow",
                                      "is_qty_decimal": True, "min_sale_qty": 0},
                     0.17, [], None, id="backorder-cap-0.17-is-enough"),
        pytest.param("8.5", "-9.33", {"min_qty": -1, "backorders": "allow",
                                      "is_qty_decimal": True, "min_sale_qty": 0},
                     "0.17", [], None, id="backorder-cap-0.17-string"),
        pytest.param("8.5", "-9.33", {"min_qty": -1, "backorders": "allow",
                                      "is_qty_decimal": True, "min_sale_qty": 0},
                     0.18, ["INSUFFICIENT_STOCK"], D("0.17"), id="backorder-cap-0.18-too-much"),
        pytest.param(10, 0, {"min_qty": -4.5}, 10, [], None,
                     id="negative-min-qty-without-backorders-ignored-10-ok"),
        pytest.param(10, 0, {"min_qty": -4.5}, 11, ["INSUFFICIENT_STOCK"], D(10),
                     id="negative-min-qty-without-backorders-ignored-11-short"),
        pytest.param(10, 0, {"min_qty": 3, "backorders": "allow"}, 9999, [], None,
                     id="positive-min-qty-with-backorders-unlimited"),
        pytest.param(0, -20, {"min_qty": 3, "backorders": "allow_notify"}, 500, [], None,
                     id="unlimited-with-nothing-on-hand"),
        pytest.param(10, 0, {"backorders": "allow"}, 10000, [], None,
                     id="zero-min-qty-with-backorders-unlimited"),
        pytest.param(10, 0, {"min_qty": 3}, 7, [], None, id="safety-stock-7-ok"),
        pytest.param(10, 0, {"min_qty": 3}, 8, ["INSUFFICIENT_STOCK"], D(7),
                     id="safety-stock-8-short"),
        pytest.param(5, -3, None, 2, [], None, id="reservations-2-ok"),
        pytest.param(5, -3, None, 3, ["INSUFFICIENT_STOCK"], D(2), id="reservations-3-short"),
        pytest.param(5, -5, None, 1, ["INSUFFICIENT_STOCK"], D(0), id="fully-reserved"),
        pytest.param(0, 0, {"backorders": "allow", "min_qty": -2}, 2, [], None,
                     id="backorder-cap-from-zero-ok"),
        pytest.param(0, 0, {"backorders": "allow", "min_qty": -2}, 3, ["INSUFFICIENT_STOCK"],
                     D(2), id="backorder-cap-from-zero-short"),
    ],
)
def test_stock_checks(physical: object, reserved: object, product: dict[str, object] | None,
                      qty: object, expected: list[str], limit: Decimal | None) -> None:
    result = check_one(qty, availability(item("eu-1", physical), reserved=reserved,
                                         product=product))
    assert codes(result) == expected
    assert result.ok is (expected == [])
    if limit is not None:
        (issue,) = result.errors
        assert issue.message == "Not enough items for sale"
        assert issue.limit == limit


@pytest.mark.parametrize(
    ("items", "product", "qty", "expected"),
    [
        pytest.param([item("a", 5, in_stock=False)], {"backorders": "allow"}, 1,
                     ["OUT_OF_STOCK"], id="backorders-never-rescue"),
        pytest.param([item("a", 5, in_stock=False, backorders="allow_notify")], None, 1,
                     ["OUT_OF_STOCK"], id="source-backorders-never-rescue"),
        pytest.param([item("a", 5, in_stock=False), item("b", 5, in_stock=False)], None, 1,
                     ["OUT_OF_STOCK"], id="all-items-out"),
        pytest.param([item("a", 5, in_stock=False), item("b", 50, enabled=False)], None, 1,
                     ["OUT_OF_STOCK"], id="in-stock-only-on-disabled-source"),
        pytest.param([item("a", 5, in_stock=False), item("b", 50, linked=False)], None, 1,
                     ["OUT_OF_STOCK"], id="in-stock-only-on-unlinked-source"),
        pytest.param([item("a", 2), item("b", 100, enabled=False)], None, 3,
                     ["INSUFFICIENT_STOCK"], id="disabled-source-adds-nothing"),
        pytest.param([item("a", 2), item("b", 100, linked=False)], None, 3,
                     ["INSUFFICIENT_STOCK"], id="unlinked-source-adds-nothing"),
        pytest.param([item("a", 2), item("b", 100, in_stock=False)], None, 3,
                     ["INSUFFICIENT_STOCK"], id="out-of-stock-item-adds-nothing"),
        pytest.param([item("a", 5, in_stock=False)], {"min_sale_qty": 2}, 1,
                     ["MIN_SALE_QTY", "OUT_OF_STOCK"], id="after-the-quantity-rules"),
    ],
)
def test_out_of_stock(items: list[object], product: dict[str, object] | None, qty: object,
                      expected: list[str]) -> None:
    result = check_one(qty, availability(*items, product=product))  # type: ignore[arg-type]
    assert codes(result) == expected
    if expected[-1] == "OUT_OF_STOCK":
        assert result.errors[-1].message == "There are no source items with the in stock status"


# --- manage_stock off ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("product", "qty", "expected"),
    [
        pytest.param({}, 50, [], id="salable-although-all-out-of-stock"),
        pytest.param({"min_sale_qty": 2}, 1, ["MIN_SALE_QTY"], id="min-still-checked"),
        pytest.param({"max_sale_qty": 5}, 6, ["MAX_SALE_QTY"], id="max-still-checked"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 2}, 3,
                     ["QTY_INCREMENTS"], id="increments-still-checked"),
        pytest.param({}, 1.5, ["DECIMAL_NOT_ALLOWED"], id="decimals-still-checked"),
    ],
)
def test_manage_stock_off(product: dict[str, object], qty: object,
                          expected: list[str]) -> None:
    avail = availability(item("a", 0, in_stock=False), reserved=-10,
                         product={"manage_stock": False, **product})
    result = check_one(qty, avail)
    assert codes(result) == expected
    assert result.backorder_qty == D(0)
    assert result.notices == ()


# --- 3-4. min/max on the cart total ----------------------------------------------------------

@pytest.mark.parametrize(
    ("product", "lines", "expected"),
    [
        pytest.param({"min_sale_qty": 3}, [2, 2], [[], []], id="min-3-total-4-ok"),
        pytest.param({"min_sale_qty": 3}, [1, 1], [["MIN_SALE_QTY"], ["MIN_SALE_QTY"]],
                     id="min-3-total-2-both-fail"),
        pytest.param({"min_sale_qty": 3}, [3], [[]], id="min-3-exact"),
        pytest.param({"max_sale_qty": 5}, [3, 3], [["MAX_SALE_QTY"], ["MAX_SALE_QTY"]],
                     id="max-5-total-6-both-fail"),
        pytest.param({"max_sale_qty": 5}, [2, 3], [[], []], id="max-5-total-5-ok"),
        pytest.param({"min_sale_qty": 0}, [0.5], [["DECIMAL_NOT_ALLOWED"]],
                     id="min-0-no-minimum"),
        pytest.param({"max_sale_qty": 0}, [20000], [[]], id="max-0-no-maximum"),
        pytest.param({}, [10001], [["MAX_SALE_QTY"]], id="default-max-10000"),
        pytest.param({}, [10000], [[]], id="default-max-exact"),
        pytest.param({"is_qty_decimal": True}, [0.5], [["MIN_SALE_QTY"]], id="default-min-1"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 2}, [2, 2], [[], []],
                     id="increments-lines-and-total-ok"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 2}, [2, 3],
                     [["QTY_INCREMENTS"], ["QTY_INCREMENTS"]],
                     id="increments-total-checked-for-every-line"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 2}, [1, 1],
                     [["QTY_INCREMENTS"], ["QTY_INCREMENTS"]],
                     id="increments-per-line-even-if-total-ok"),
        pytest.param({"is_qty_decimal": True, "min_sale_qty": 0}, [0.5, 0.5], [[], []],
                     id="decimal-lines"),
    ],
)
def test_cart_total_of_the_same_sku(product: dict[str, object], lines: list[object],
                                    expected: list[list[str]]) -> None:
    results = check(lines, stock(100000, **product))
    assert [codes(r) for r in results] == expected


def test_min_and_max_issue_details() -> None:
    (low,) = check([1], stock(min_sale_qty=3))
    assert low.errors[0].message == "The fewest you may purchase is 3."
    assert (low.errors[0].setting, low.errors[0].limit, low.errors[0].level) == (
        "min_sale_qty", D(3), P)
    (high,) = check([6], stock(global_={"max_sale_qty": 5}))
    assert high.errors[0].message == (
        "The requested qty exceeds the maximum qty allowed in shopping cart")
    assert (high.errors[0].setting, high.errors[0].limit, high.errors[0].level) == (
        "max_sale_qty", D(5), G)


def test_different_skus_have_their_own_totals() -> None:
    avail = {sku: availability(item("x", 10), sku=sku, product={"min_sale_qty": 3})
             for sku in ("A", "B")}
    results = check_cart([RequestedLine("A", 2), RequestedLine("B", 2), RequestedLine("A", 2)],
                         avail)
    assert [(r.sku, codes(r)) for r in results] == [
        ("A", []), ("B", ["MIN_SALE_QTY"]), ("A", [])]


def test_insufficient_stock_on_the_cart_total() -> None:
    results = check([3, 3], stock(5))
    assert [codes(r) for r in results] == [["INSUFFICIENT_STOCK"], ["INSUFFICIENT_STOCK"]]
    assert [codes(r) for r in check([2, 3], stock(5))] == [[], []]


def test_empty_cart() -> None:
    assert check_cart([], {}) == ()


# --- customer group minimum ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("product", "global_", "group", "qty", "limit", "level"),
    [
        pytest.param(None, {"min_sale_qty_by_group": {"wholesale": 10}}, "wholesale", 5,
                     D(10), G, id="global-exact-group"),
        pytest.param(None, {"min_sale_qty_by_group": {"wholesale": 10}}, "retail", 5,
                     None, None, id="other-group-all-groups-value"),
        pytest.param(None, {"min_sale_qty": 6, "min_sale_qty_by_group": {"wholesale": 10}},
                     "retail", 5, D(6), G, id="other-group-global-scalar"),
        pytest.param(None, {"min_sale_qty_by_group": {"wholesale": 10}}, None, 5,
                     None, None, id="no-group"),
        pytest.param({"min_sale_qty_by_group": {"wholesale": 8}},
                     {"min_sale_qty_by_group": {"wholesale": 10}}, "wholesale", 5,
                     D(8), P, id="product-group-value"),
        pytest.param({"min_sale_qty": 3}, {"min_sale_qty_by_group": {"wholesale": 10}},
                     "wholesale", 5, None, None, id="product-scalar-overrides-global-group"),
        pytest.param({"min_sale_qty": 7}, {"min_sale_qty_by_group": {"wholesale": 10}},
                     "wholesale", 5, D(7), P, id="product-scalar-limit"),
    ],
)
def test_customer_group_minimum(product: dict[str, object] | None,
                                global_: dict[str, object] | None, group: str | None,
                                qty: int, limit: Decimal | None, level: Level | None) -> None:
    result = check_one(qty, availability(item("a", 100), product=product, global_=global_,
                                         group=group))
    if limit is None:
        assert result.ok
    else:
        (issue,) = result.errors
        assert (issue.code, issue.setting, issue.limit, issue.level) == (
            C.MIN_SALE_QTY, "min_sale_qty", limit, level)


# --- 5-6. increments and decimals -------------------------------------------------------------

@pytest.mark.parametrize(
    ("product", "global_", "qty", "expected", "step_text", "suggested"),
    [
        pytest.param({"enable_qty_increments": True, "qty_increments": 0.5,
                      "is_qty_decimal": True}, None, 1.5, [], None, None, id="0.5-accepts-1.5"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 0.5,
                      "is_qty_decimal": True}, None, 1.2, ["QTY_INCREMENTS"], "0.5", D(1),
                     id="0.5-rejects-1.2"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 0.5,
                      "is_qty_decimal": True}, None, 1.25, ["QTY_INCREMENTS"], "0.5",
                     D("1.5"), id="0.5-tie-suggests-upward"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 2.5}, None, 4, [], None,
                     None, id="2.5-without-decimals-acts-as-2-accepts-4"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 2.5}, None, 5,
                     ["QTY_INCREMENTS"], "2", D(6), id="2.5-without-decimals-rejects-5"),
        pytest.param({"qty_increments": 4}, None, 3, [], None, None,
                     id="not-enabled-no-check"),
        pytest.param({"enable_qty_increments": False},
                     {"enable_qty_increments": True, "qty_increments": 4}, 3, [], None, None,
                     id="product-disables-global"),
        pytest.param({"qty_increments": 0}, {"enable_qty_increments": True, "qty_increments": 4},
                     3, [], None, None, id="product-step-0-switches-off"),
        pytest.param(None, {"enable_qty_increments": True, "qty_increments": 4}, 6,
                     ["QTY_INCREMENTS"], "4", D(8), id="global-step"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 3,
                      "is_qty_decimal": True}, None, "3.0002", [], None, None,
                     id="remainder-below-step-over-10000-passes"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 3,
                      "is_qty_decimal": True}, None, "3.0003", ["QTY_INCREMENTS"], "3", D(3),
                     id="remainder-equal-to-step-over-10000-fails"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 1,
                      "is_qty_decimal": True}, None, "2.0001", ["QTY_INCREMENTS"], "1", D(2),
                     id="issue-2.0001-step-1"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 3,
                      "is_qty_decimal": True}, None, "5.9997", ["QTY_INCREMENTS"], "3", D(6),
                     id="issue-5.9997-step-3"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 3,
                      "is_qty_decimal": True}, None, "5.9998", [], None, None,
                     id="5.9998-step-3-within-tolerance"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 3,
                      "is_qty_decimal": True}, None, "3.0004", ["QTY_INCREMENTS"], "3", D(3),
                     id="beyond-tolerance"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 3, "min_sale_qty": 4},
                     None, 2, ["MIN_SALE_QTY", "QTY_INCREMENTS"], "3", D(6),
                     id="suggestion-at-least-min"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 3, "max_sale_qty": 10},
                     None, 11, ["MAX_SALE_QTY", "QTY_INCREMENTS"], "3", D(9),
                     id="suggestion-at-most-max"),
    ],
)
def test_qty_increments(product: dict[str, object] | None, global_: dict[str, object] | None,
                        qty: object, expected: list[str], step_text: str | None,
                        suggested: Decimal | None) -> None:
    result = check_one(qty, availability(item("a", 1000), product=product, global_=global_))
    assert codes(result) == expected
    assert result.suggested_qty == suggested
    if step_text is not None:
        issue = next(i for i in result.errors if i.code is C.QTY_INCREMENTS)
        assert issue.message == (
            f"You can buy this product only in quantities of {step_text} at a time.")
        assert issue.setting == "qty_increments"
        assert issue.limit == D(step_text)
        assert issue.level is (G if global_ and not product else P)


@pytest.mark.parametrize(
    ("physical", "qty", "suggested"),
    [
        pytest.param(5, 7, D(4), id="capped-by-salable"),
        pytest.param(6, 5, D(6), id="tie-upward-within-salable"),
        pytest.param(1, 3, None, id="no-valid-multiple"),
    ],
)
def test_suggestion_respects_salable_qty(physical: int, qty: int,
                                         suggested: Decimal | None) -> None:
    result = check_one(qty, availability(item("a", physical), product={
        "enable_qty_increments": True, "qty_increments": 2}))
    assert "QTY_INCREMENTS" in codes(result)
    assert result.suggested_qty == suggested


@pytest.mark.parametrize(
    ("item_opts", "product", "qty", "expected"),
    [
        pytest.param({}, None, 1.5, ["DECIMAL_NOT_ALLOWED"], id="default-no-decimals"),
        pytest.param({}, {"is_qty_decimal": True}, 1.5, [], id="product-allows"),
        pytest.param({"is_qty_decimal": True}, None, 1.5, [], id="source-item-allows"),
        pytest.param({"is_qty_decimal": False}, {"is_qty_decimal": True}, 1.5,
                     ["DECIMAL_NOT_ALLOWED"], id="source-item-refuses"),
        pytest.param({}, None, "2.0000", [], id="integral-with-zeros"),
    ],
)
def test_decimals(item_opts: dict[str, object], product: dict[str, object] | None,
                  qty: object, expected: list[str]) -> None:
    result = check_one(qty, availability(item("a", 100, **item_opts), product=product))
    assert codes(result) == expected
    for issue in result.errors:
        assert issue.message == "You cannot use decimal quantity for this product."
        assert issue.setting == "is_qty_decimal"
        assert issue.limit is None
        expected_level = Level.SOURCE_ITEM if item_opts else DEF
        assert issue.level is expected_level
        assert issue.source_code == ("a" if item_opts else None)


def test_decimal_checked_on_every_line_of_a_sku() -> None:
    results = check([1, 1.5], stock(100))
    assert [codes(r) for r in results] == [["DECIMAL_NOT_ALLOWED"], ["DECIMAL_NOT_ALLOWED"]]


# --- every failure, in order ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("physical", "product", "qty", "expected"),
    [
        pytest.param(100, {"min_sale_qty": 3, "enable_qty_increments": True,
                           "qty_increments": 2}, 1.5,
                     [("MIN_SALE_QTY", "min_sale_qty", D(3), P),
                      ("QTY_INCREMENTS", "qty_increments", D(2), P),
                      ("DECIMAL_NOT_ALLOWED", "is_qty_decimal", None, DEF)],
                     id="min-increments-decimal"),
        pytest.param(1, {"min_sale_qty": 3, "enable_qty_increments": True,
                         "qty_increments": 2}, 1.5,
                     [("MIN_SALE_QTY", "min_sale_qty", D(3), P),
                      ("QTY_INCREMENTS", "qty_increments", D(2), P),
                      ("DECIMAL_NOT_ALLOWED", "is_qty_decimal", None, DEF),
                      ("INSUFFICIENT_STOCK", "min_qty", D(1), DEF)],
                     id="min-increments-decimal-insufficient"),
        pytest.param(3, {"max_sale_qty": 5, "enable_qty_increments": True,
                         "qty_increments": 2}, 6.5,
                     [("MAX_SALE_QTY", "max_sale_qty", D(5), P),
                      ("QTY_INCREMENTS", "qty_increments", D(2), P),
                      ("DECIMAL_NOT_ALLOWED", "is_qty_decimal", None, DEF),
                      ("INSUFFICIENT_STOCK", "min_qty", D(3), DEF)],
                     id="max-increments-decimal-insufficient"),
    ],
)
def test_all_failures_in_order(physical: int, product: dict[str, object], qty: object,
                               expected: list[tuple[str, str, Decimal | None, Level]]) -> None:
    result = check_one(qty, availability(item("a", physical), product=product))
    got = [(i.code.value, i.setting, i.limit, i.level) for i in result.errors]
    assert got == expected
    assert [i.message for i in result.errors] == [
        message(C(code), None if "%1" not in message(C(code)) else {
            "MIN_SALE_QTY": "3", "QTY_INCREMENTS": "2"}[code])
        for code, *_ in expected]


# --- backorder notices ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("physical", "reserved", "product", "qty", "backorder_qty", "notice"),
    [
        pytest.param(3, 0, {"backorders": "allow_notify"}, 5, D(2), True, id="notify-2"),
        pytest.param(3, -2, {"backorders": "allow_notify"}, 5, D(4), True,
                     id="notify-reservations-count"),
        pytest.param(0, -3, {"backorders": "allow_notify"}, 2, D(2), True,
                     id="notify-clamped-to-qty"),
        pytest.param(5, 0, {"backorders": "allow_notify"}, 2, D(0), False,
                     id="notify-nothing-backordered"),
        pytest.param(5, 0, {"backorders": "allow_notify"}, 5, D(0), False,
                     id="notify-exactly-on-hand"),
        pytest.param(3, 0, {"backorders": "allow"}, 5, D(2), False, id="allow-no-notice"),
        pytest.param(3, 0, None, 2, D(0), False, id="no-backorders"),
        pytest.param("2.5", 0, {"backorders": "allow_notify", "is_qty_decimal": True}, 3,
                     D("0.5"), True, id="notify-fraction"),
        pytest.param(3, 0, {"backorders": "allow_notify", "min_qty": -5}, 5, D(2), True,
                     id="notify-with-cap"),
    ],
)
def test_backorder_notice(physical: object, reserved: object, product: dict[str, object] | None,
                          qty: object, backorder_qty: Decimal, notice: bool) -> None:
    result = check_one(qty, availability(item("a", physical), reserved=reserved,
                                         product=product))
    assert result.ok
    assert result.backorder_qty == backorder_qty
    if notice:
        (issue,) = result.notices
        assert issue.code is C.BACKORDERED
        assert issue.message == ("We don't have as many quantity as you requested, but we'll "
                                 f"back order the remaining {backorder_qty}.")
        assert issue.setting == "backorders"
        assert issue.level is P
    else:
        assert result.notices == ()


def test_backorder_notice_names_the_source_item() -> None:
    result = check_one(5, availability(item("a", 3, backorders="allow_notify")))
    (issue,) = result.notices
    assert (issue.level, issue.source_code) == (Level.SOURCE_ITEM, "a")


def test_backorder_notice_unmanaged_never() -> None:
    result = check_one(5, availability(item("a", 3), product={
        "backorders": "allow_notify", "manage_stock": False}))
    assert (result.backorder_qty, result.notices) == (D(0), ())


@pytest.mark.parametrize(("qty", "product"), [
    pytest.param(9, {"backorders": "allow_notify", "min_qty": -5}, id="beyond-the-cap"),
    pytest.param(5, {"backorders": "allow_notify", "max_sale_qty": 4}, id="over-max"),
])
def test_refused_line_backorders_nothing(qty: object, product: dict[str, object]) -> None:
    result = check_one(qty, availability(item("a", 3), product=product))
    assert not result.ok
    assert (result.backorder_qty, result.notices) == (D(0), ())


# --- helpers ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("qty", "step", "multiple"),
    [
        pytest.param("1.5", "0.5", True, id="exact"),
        pytest.param("1.2", "0.5", False, id="off"),
        # Magento's Math/Division: a remainder is zero only when strictly below step/10000.
        pytest.param("3.0002", "3", True, id="within-tolerance-above"),
        pytest.param("2.9998", "3", True, id="within-tolerance-below"),
        pytest.param("3.0003", "3", False, id="at-tolerance-above"),
        pytest.param("2.9997", "3", False, id="at-tolerance-below"),
        pytest.param("2.9996", "3", False, id="outside-tolerance-below"),
        pytest.param("2.0001", "1", False, id="at-tolerance-step-1"),
        pytest.param("5.9997", "3", False, id="at-tolerance-below-step-3"),
        pytest.param("6.0001", "3", True, id="within-tolerance-step-3"),
        pytest.param("0.50005", "0.5", False, id="at-tolerance-fractional-step"),
        pytest.param("1.00004", "0.5", True, id="within-tolerance-fractional-step"),
        # magento2 lib/internal/Magento/Framework/Math/Test/Unit/DivisionTest.php
        pytest.param("17", "3", False, id="magento-17-3"),
        pytest.param("7.7", "2", False, id="magento-7.7-2"),
        pytest.param("17.8", "3.2", False, id="magento-17.8-3.2"),
        pytest.param("11.7", "1.7", False, id="magento-11.7-1.7"),
        pytest.param("8", "2", True, id="magento-8-2"),
        pytest.param("10000", "1", True, id="large"),
    ],
)
def test_is_multiple(qty: str, step: str, multiple: bool) -> None:
    assert is_multiple(D(qty), D(step)) is multiple


def test_ok_iff_no_errors() -> None:
    result = check_one(5, stock(3, backorders="allow_notify"))
    assert result.ok and result.notices
    assert not check_one(5, stock(3)).ok


def test_line_result_carries_sku_and_quantity() -> None:
    (result,) = check([2.5], stock(100, is_qty_decimal=True), sku=SKU)
    assert (result.sku, result.quantity) == (SKU, D("2.5"))
    assert result.availability is not None
