"""docs/rules.md §10: the rule lint, from the rules (each code, its boundaries, provenance)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from gateway.domain.inheritance import resolve
from gateway.domain.lint import Finding, LintCode, customer_groups, lint, lint_snapshot
from gateway.domain.model import SourceItemState, StockSnapshot
from gateway.domain.options import Level
from tests.unit.builders import item, snapshot

C = LintCode


def run(*items: SourceItemState, product: Mapping[str, object] | None = None,
        stock: Mapping[str, object] | None = None,
        global_: Mapping[str, object] | None = None) -> list[Finding]:
    snap = snapshot(*(items or (item("a", 10),)), product=product, stock=stock, global_=global_)
    return lint_snapshot(snap, lambda s, group: resolve(s.chain, s.source_items, group))


def codes(findings: list[Finding]) -> list[LintCode]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: LintCode) -> Finding:
    (found,) = [f for f in findings if f.code is code]
    return found


def levels(finding: Finding) -> dict[str, Level]:
    return {s.name: s.level for s in finding.settings}


def test_default_settings_have_no_finding() -> None:
    assert run() == []


def test_a_stock_that_does_not_carry_the_sku_is_not_linted() -> None:
    # Min above max would be a finding, but no source of this stock holds the SKU.
    assert run(item("a", 10, linked=False), product={"min_sale_qty": 5, "max_sale_qty": 3}) == []


# --- sources ---------------------------------------------------------------------------------

def test_only_disabled_sources_of_the_stock() -> None:
    found = run(item("b", 4, enabled=False), item("a", 5, enabled=False),
                item("x", 9, linked=False))
    finding = only(found, C.NO_ENABLED_SOURCE)
    assert "(a, b)" in finding.message and "cannot be sold" in finding.message
    assert finding.settings == () and finding.suggestion is not None
    assert "Enable a, b" in finding.suggestion


def test_one_enabled_source_is_enough() -> None:
    assert run(item("a", 0, enabled=False), item("b", 0, in_stock=False)) == []


# --- min and max -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("product", "expected"),
    [
        pytest.param({"min_sale_qty": 5, "max_sale_qty": 3}, [C.MIN_ABOVE_MAX], id="above"),
        pytest.param({"min_sale_qty": 3, "max_sale_qty": 3}, [], id="equal-is-buyable"),
        pytest.param({"min_sale_qty": "3.0001", "max_sale_qty": 3, "is_qty_decimal": True},
                     [C.MIN_ABOVE_MAX], id="one-ten-thousandth-above"),
        pytest.param({"min_sale_qty": 5, "max_sale_qty": 0}, [], id="max-0-means-no-maximum"),
        pytest.param({"min_sale_qty": 0, "max_sale_qty": 3}, [], id="min-0-means-no-minimum"),
    ],
)
def test_min_above_max(product: dict[str, object], expected: list[LintCode]) -> None:
    assert codes(run(product=product)) == expected


def test_min_above_max_names_both_settings_with_their_levels() -> None:
    finding = only(run(product={"max_sale_qty": 3}, global_={"min_sale_qty": 5}),
                   C.MIN_ABOVE_MAX)
    assert levels(finding) == {"min_sale_qty": Level.GLOBAL, "max_sale_qty": Level.PRODUCT}
    assert "(5)" in finding.message and "(3)" in finding.message
    assert finding.suggestion is not None and "at most 3" in finding.suggestion


def test_a_customer_group_minimum_is_checked_too() -> None:
    found = run(product={"max_sale_qty": 3}, global_={"min_sale_qty_by_group": {"wholesale": 10}})
    finding = only(found, C.MIN_ABOVE_MAX)
    assert "customer group 'wholesale'" in finding.message
    assert finding.suggestion is not None
    assert finding.suggestion.startswith("Lower min_sale_qty_by_group.wholesale to at most 3")
    (minimum,) = [s for s in finding.settings if s.name == "min_sale_qty"]
    assert (minimum.value, minimum.level, minimum.note) == (10, Level.GLOBAL,
                                                            "customer group wholesale")


def test_a_group_with_the_same_minimum_is_not_reported_twice() -> None:
    found = run(product={"min_sale_qty": 5, "max_sale_qty": 3,
                         "min_sale_qty_by_group": {"retail": 5}})
    assert codes(found) == [C.MIN_ABOVE_MAX]


def test_customer_groups_are_collected_from_every_level() -> None:
    snap = snapshot(item("a"), product={"min_sale_qty_by_group": {"b": 1}},
                    stock={"min_sale_qty_by_group": {"c": 1}},
                    global_={"min_sale_qty_by_group": {"a": 1, "b": 2}})
    assert customer_groups(snap.chain) == ["a", "b", "c"]


# --- increments ------------------------------------------------------------------------------

STEP_6 = {"enable_qty_increments": True, "qty_increments": 6}


@pytest.mark.parametrize(
    ("product", "expected"),
    [
        pytest.param({**STEP_6, "min_sale_qty": 6, "max_sale_qty": 96}, [], id="multiples"),
        pytest.param({**STEP_6, "max_sale_qty": 96}, [C.MIN_NOT_MULTIPLE_OF_STEP],
                     id="default-minimum-1"),
        pytest.param({**STEP_6, "min_sale_qty": 0, "max_sale_qty": 96}, [], id="no-minimum"),
        pytest.param({**STEP_6, "min_sale_qty": 6}, [C.MAX_NOT_MULTIPLE_OF_STEP],
                     id="default-maximum-10000"),
        pytest.param({**STEP_6, "min_sale_qty": 6, "max_sale_qty": 0}, [], id="no-maximum"),
        pytest.param({"qty_increments": 6, "max_sale_qty": 97}, [], id="increments-disabled"),
        pytest.param({**STEP_6, "min_sale_qty": 6, "max_sale_qty": 96, "qty_increments": 0},
                     [], id="step-0-switches-the-check-off"),
    ],
)
def test_min_and_max_against_the_step(product: dict[str, object],
                                      expected: list[LintCode]) -> None:
    assert codes(run(product=product)) == expected


def test_min_not_a_multiple_suggests_the_smallest_buyable_quantity() -> None:
    finding = only(run(product={**STEP_6, "min_sale_qty": 8, "max_sale_qty": 96}),
                   C.MIN_NOT_MULTIPLE_OF_STEP)
    assert "smallest quantity that can be bought is 12" in finding.message
    assert finding.suggestion == "Set min_sale_qty to 12 on the product."
    assert levels(finding) == {"min_sale_qty": Level.PRODUCT, "qty_increments": Level.PRODUCT,
                               "enable_qty_increments": Level.PRODUCT}


def test_max_not_a_multiple_gives_the_largest_buyable_quantity() -> None:
    finding = only(run(product={**STEP_6, "min_sale_qty": 6}), C.MAX_NOT_MULTIPLE_OF_STEP)
    assert "largest quantity that can be bought is 9996" in finding.message
    assert levels(finding)["max_sale_qty"] is Level.DEFAULT
    small = only(run(product={**STEP_6, "min_sale_qty": 0, "max_sale_qty": 4}),
                 C.MAX_NOT_MULTIPLE_OF_STEP)
    assert "no quantity can be bought" in small.message


@pytest.mark.parametrize(
    ("product", "expected", "fragment"),
    [
        pytest.param({"enable_qty_increments": True, "qty_increments": 2.5, "max_sale_qty": 100,
                      "min_sale_qty": 2}, [C.FRACTIONAL_STEP_WITHOUT_DECIMALS],
                     "cut to 2, so customers must buy multiples of 2, not 2.5", id="cut-to-2"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 0.5},
                     [C.FRACTIONAL_STEP_WITHOUT_DECIMALS], "the increments check is off",
                     id="cut-to-0-check-off"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 0.5,
                      "is_qty_decimal": True, "min_sale_qty": 0.5}, [], None,
                     id="decimals-allowed"),
        pytest.param({"qty_increments": 2.5}, [], None, id="increments-disabled"),
    ],
)
def test_fractional_step_without_decimals(product: dict[str, object],
                                          expected: list[LintCode],
                                          fragment: str | None) -> None:
    found = run(product=product)
    assert codes(found) == expected
    if fragment is not None:
        assert fragment in found[0].message


def test_decimals_denied_by_one_source_item_make_the_step_fractional() -> None:
    found = run(item("a", 5), item("b", 5, is_qty_decimal=False),
                product={"is_qty_decimal": True, "enable_qty_increments": True,
                         "qty_increments": 1.5, "min_sale_qty": 3, "max_sale_qty": 3})
    finding = only(found, C.FRACTIONAL_STEP_WITHOUT_DECIMALS)
    decimals = next(s for s in finding.settings if s.name == "is_qty_decimal")
    assert (decimals.level, decimals.source_code) == (Level.SOURCE_ITEM, "b")


# --- decimals --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("product", "expected", "fragment"),
    [
        pytest.param({"min_sale_qty": 1.5}, [C.FRACTIONAL_MIN_WITHOUT_DECIMALS],
                     "smallest quantity that can be bought is 2", id="min-1.5"),
        pytest.param({"min_sale_qty": 1.5, "is_qty_decimal": True}, [], None,
                     id="min-with-decimals"),
        pytest.param({"max_sale_qty": 2.5}, [C.FRACTIONAL_MAX_WITHOUT_DECIMALS],
                     "largest quantity that can be bought is 2", id="max-2.5"),
        pytest.param({"max_sale_qty": 0.5, "min_sale_qty": 0},
                     [C.FRACTIONAL_MAX_WITHOUT_DECIMALS], "no quantity can be bought",
                     id="max-0.5"),
    ],
)
def test_fractional_minimum_or_maximum_without_decimals(product: dict[str, object],
                                                        expected: list[LintCode],
                                                        fragment: str | None) -> None:
    found = run(product=product)
    assert codes(found) == expected
    if fragment is not None:
        assert fragment in found[0].message


# --- notify quantity -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("items", "product", "global_", "expected"),
    [
        pytest.param([item("a", 20)], {"min_qty": 10}, {"notify_stock_qty": 3},
                     [C.NOTIFY_AT_OR_BELOW_THRESHOLD], id="below"),
        pytest.param([item("a", 20)], {"min_qty": 10, "notify_stock_qty": 10}, None,
                     [C.NOTIFY_AT_OR_BELOW_THRESHOLD], id="equal"),
        pytest.param([item("a", 20)], {"min_qty": 10, "notify_stock_qty": "10.0001"}, None,
                     [], id="one-ten-thousandth-above"),
        pytest.param([item("a", 20)], {"notify_stock_qty": 0}, None, [],
                     id="no-safety-stock-notify-0-is-switched-off"),
        pytest.param([item("a", 20)], {"min_qty": -5, "notify_stock_qty": -8}, None, [],
                     id="negative-threshold-without-backorders-is-0"),
        pytest.param([item("a", 20, notify_stock_qty=15)], {"min_qty": 10},
                     {"notify_stock_qty": 3}, [], id="source-item-overrides"),
        pytest.param([item("a", 20, notify_stock_qty=15), item("b", 5)], {"min_qty": 10},
                     {"notify_stock_qty": 3}, [C.NOTIFY_AT_OR_BELOW_THRESHOLD],
                     id="one-item-inherits-a-low-value"),
        pytest.param([item("a", 20), item("b", 5, enabled=False, notify_stock_qty=1)],
                     {"min_qty": 10, "notify_stock_qty": 12}, None, [],
                     id="disabled-source-not-reported"),
        pytest.param([item("a", 20)], {"min_qty": 10, "manage_stock": False},
                     {"notify_stock_qty": 3}, [], id="unmanaged"),
    ],
)
def test_notify_quantity_at_or_below_the_threshold(items: list[SourceItemState],
                                                   product: dict[str, object] | None,
                                                   global_: dict[str, object] | None,
                                                   expected: list[LintCode]) -> None:
    assert codes(run(*items, product=product, global_=global_)) == expected


def test_notify_finding_names_the_item_setting_and_the_threshold() -> None:
    found = run(item("a", 20, notify_stock_qty=4), item("b", 20, notify_stock_qty=15),
                product={"min_qty": 10})
    finding = only(found, C.NOTIFY_AT_OR_BELOW_THRESHOLD)
    assert [(s.name, s.level, s.source_code) for s in finding.settings] == [
        ("notify_stock_qty", Level.SOURCE_ITEM, "a"), ("min_qty", Level.PRODUCT, None)]
    assert "(4)" in finding.message and "(10)" in finding.message
    assert finding.suggestion == "Set notify_stock_qty above 10 on source item a."


# --- backorders ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("product", "expected"),
    [
        pytest.param({"backorders": "allow", "min_qty": 5},
                     [C.THRESHOLD_IGNORED_WITH_BACKORDERS], id="positive-threshold-ignored"),
        pytest.param({"backorders": "allow", "min_qty": 0}, [], id="allow-unlimited"),
        pytest.param({"backorders": "allow", "min_qty": -5}, [], id="allow-capped"),
        pytest.param({"backorders": "no", "min_qty": 5, "notify_stock_qty": 6}, [],
                     id="safety-stock"),
        pytest.param({"backorders": "allow_notify", "min_qty": 0},
                     [C.UNCAPPED_BACKORDER_NOTICE], id="notify-uncapped"),
        pytest.param({"backorders": "allow_notify", "min_qty": "-0.0001"}, [],
                     id="notify-capped"),
        pytest.param({"backorders": "allow_notify", "min_qty": 3},
                     [C.THRESHOLD_IGNORED_WITH_BACKORDERS, C.UNCAPPED_BACKORDER_NOTICE],
                     id="both"),
        pytest.param({"backorders": "allow_notify", "manage_stock": False}, [],
                     id="unmanaged"),
    ],
)
def test_backorder_findings(product: dict[str, object], expected: list[LintCode]) -> None:
    assert codes(run(product=product)) == expected


def test_backorders_from_a_source_item_are_named_with_it() -> None:
    found = run(item("a", 5), item("b", 0, backorders="allow_notify"))
    finding = only(found, C.UNCAPPED_BACKORDER_NOTICE)
    backorders = next(s for s in finding.settings if s.name == "backorders")
    assert (backorders.level, backorders.source_code) == (Level.SOURCE_ITEM, "b")


# --- together --------------------------------------------------------------------------------

def test_findings_of_a_sku_come_in_code_order() -> None:
    found = run(product={"min_sale_qty": 7, "max_sale_qty": 5, "enable_qty_increments": True,
                         "qty_increments": 2, "backorders": "allow_notify"})
    assert codes(found) == [C.MIN_ABOVE_MAX, C.MIN_NOT_MULTIPLE_OF_STEP,
                            C.MAX_NOT_MULTIPLE_OF_STEP, C.UNCAPPED_BACKORDER_NOTICE]
    assert codes(found) == sorted(codes(found), key=list(LintCode).index)
    assert all(f.sku == "SKU-1" and f.stock_id == 10 and f.suggestion for f in found)


def test_quantity_rules_are_linted_even_when_stock_is_not_managed() -> None:
    assert codes(run(product={"manage_stock": False, "min_sale_qty": 5, "max_sale_qty": 1})) == [
        C.MIN_ABOVE_MAX]


def test_lint_takes_the_settings_it_is_given() -> None:
    snap: StockSnapshot = snapshot(item("a", 5), product={"min_sale_qty": 5, "max_sale_qty": 3})
    assert lint(snap, resolve(snap.chain, snap.source_items)) != []
    other = snapshot(item("a", 5))
    assert lint(snap, resolve(other.chain, other.source_items)) == []
