"""docs/rules.md §2: the option registry (names, defaults, levels, validation)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.domain.options import (
    OPTIONS,
    SOURCE_LEVEL_OPTIONS,
    Backorders,
    Level,
    OptionError,
    display_value,
    dump_value,
    parse_config,
)

D = Decimal
SI, P, S, G = Level.SOURCE_ITEM, Level.PRODUCT, Level.STOCK, Level.GLOBAL


@pytest.mark.parametrize(
    ("name", "default"),
    [
        pytest.param("manage_stock", True, id="manage_stock"),
        pytest.param("stock_threshold_qty", D(0), id="stock_threshold_qty"),
        pytest.param("min_qty", D(0), id="min_qty"),
        pytest.param("min_sale_qty", D(1), id="min_sale_qty"),
        pytest.param("max_sale_qty", D(10000), id="max_sale_qty"),
        pytest.param("is_qty_decimal", False, id="is_qty_decimal"),
        pytest.param("is_decimal_divided", False, id="is_decimal_divided"),
        pytest.param("backorders", Backorders.NO, id="backorders"),
        pytest.param("notify_stock_qty", D(1), id="notify_stock_qty"),
        pytest.param("enable_qty_increments", False, id="enable_qty_increments"),
        pytest.param("qty_increments", D(1), id="qty_increments"),
        pytest.param("auto_return", False, id="auto_return"),
        pytest.param("can_subtract", True, id="can_subtract"),
        pytest.param("can_back_in_stock", True, id="can_back_in_stock"),
        pytest.param("show_out_of_stock", False, id="show_out_of_stock"),
    ],
)
def test_built_in_defaults(name: str, default: object) -> None:
    assert OPTIONS[name].default == default
    assert type(OPTIONS[name].default) is type(default)


@pytest.mark.parametrize(
    ("name", "levels"),
    [
        pytest.param("manage_stock", {P, S, G}, id="manage_stock"),
        pytest.param("stock_threshold_qty", {S, G}, id="stock_threshold_qty"),
        pytest.param("min_qty", {P, S, G}, id="min_qty"),
        pytest.param("min_sale_qty", {P, S, G}, id="min_sale_qty"),
        pytest.param("min_sale_qty_by_group", {P, S, G}, id="min_sale_qty_by_group"),
        pytest.param("max_sale_qty", {P, S, G}, id="max_sale_qty"),
        pytest.param("is_qty_decimal", {SI, P}, id="is_qty_decimal"),
        pytest.param("is_decimal_divided", {P}, id="is_decimal_divided"),
        pytest.param("backorders", {SI, P, S, G}, id="backorders"),
        pytest.param("notify_stock_qty", {SI, P, S, G}, id="notify_stock_qty"),
        pytest.param("enable_qty_increments", {P, S, G}, id="enable_qty_increments"),
        pytest.param("qty_increments", {P, S, G}, id="qty_increments"),
        pytest.param("auto_return", {G}, id="auto_return"),
        pytest.param("can_subtract", {G}, id="can_subtract"),
        pytest.param("can_back_in_stock", {G}, id="can_back_in_stock"),
        pytest.param("show_out_of_stock", {S, G}, id="show_out_of_stock"),
    ],
)
def test_levels_where_an_option_can_be_set(name: str, levels: set[Level]) -> None:
    assert set(OPTIONS[name].levels) == levels


def test_source_level_options() -> None:
    assert set(SOURCE_LEVEL_OPTIONS) == {"is_qty_decimal", "backorders", "notify_stock_qty"}


def test_registry_has_exactly_the_documented_options() -> None:
    assert set(OPTIONS) == {
        "manage_stock", "stock_threshold_qty", "min_qty", "min_sale_qty",
        "min_sale_qty_by_group", "max_sale_qty", "is_qty_decimal", "is_decimal_divided",
        "backorders", "notify_stock_qty", "enable_qty_increments", "qty_increments",
        "auto_return", "can_subtract", "can_back_in_stock", "show_out_of_stock",
    }


@pytest.mark.parametrize(
    ("name", "raw", "level", "expected"),
    [
        pytest.param("manage_stock", False, P, False, id="bool"),
        pytest.param("backorders", "allow_notify", SI, Backorders.ALLOW_NOTIFY, id="backorders"),
        pytest.param("backorders", "allow", G, Backorders.ALLOW, id="backorders-global"),
        pytest.param("min_qty", -4.5, P, D("-4.5"), id="min_qty-negative"),
        pytest.param("min_qty", 3, G, D(3), id="min_qty-positive"),
        pytest.param("min_sale_qty", 0, P, D(0), id="min_sale_qty-zero-no-minimum"),
        pytest.param("max_sale_qty", 0, G, D(0), id="max_sale_qty-zero-no-maximum"),
        pytest.param("qty_increments", 0, P, D(0), id="qty_increments-0-on-product"),
        pytest.param("qty_increments", 2.5, P, D("2.5"), id="qty_increments-fraction-product"),
        pytest.param("qty_increments", 3, G, D(3), id="qty_increments-integer-global"),
        pytest.param("notify_stock_qty", -2, G, D(-2), id="notify-negative-is-finite"),
        pytest.param("notify_stock_qty", 0.5, SI, D("0.5"), id="notify-source-item"),
        pytest.param("stock_threshold_qty", 5, S, D(5), id="threshold-stock-level"),
        pytest.param("min_sale_qty_by_group", {"wholesale": 10}, G, {"wholesale": D(10)},
                     id="group-map"),
        pytest.param("is_qty_decimal", True, SI, True, id="decimal-source-item"),
        pytest.param("can_subtract", False, G, False, id="can-subtract-global"),
        pytest.param("can_back_in_stock", False, G, False, id="can-back-in-stock-global"),
        pytest.param("show_out_of_stock", True, S, True, id="show-out-of-stock-stock"),
        pytest.param("show_out_of_stock", True, G, True, id="show-out-of-stock-global"),
    ],
)
def test_parse_accepts(name: str, raw: object, level: Level, expected: object) -> None:
    assert OPTIONS[name].parse(raw, level) == expected


@pytest.mark.parametrize(
    ("name", "raw", "level", "fragment"),
    [
        pytest.param("min_sale_qty", -1, P, "0 or more", id="min_sale_qty-negative"),
        pytest.param("max_sale_qty", -1, G, "0 or more", id="max_sale_qty-negative"),
        pytest.param("qty_increments", 0, G, "greater than 0", id="increments-0-global"),
        pytest.param("qty_increments", -1, G, "greater than 0", id="increments-negative-global"),
        pytest.param("qty_increments", -1, P, "0 or more", id="increments-negative-product"),
        pytest.param("qty_increments", 2.5, G, "whole number", id="increments-fraction-global"),
        pytest.param("stock_threshold_qty", -1, G, "0 or more", id="threshold-negative"),
        pytest.param("notify_stock_qty", float("inf"), G, "finite", id="notify-inf"),
        pytest.param("notify_stock_qty", float("nan"), G, "finite", id="notify-nan"),
        pytest.param("min_qty", 1.00001, G, "decimal places", id="five-places"),
        pytest.param("min_qty", "abc", G, "not a number", id="not-a-number"),
        pytest.param("min_qty", True, G, "expected a number", id="bool-as-number"),
        pytest.param("manage_stock", "yes", G, "true or false", id="bool-as-string"),
        pytest.param("manage_stock", 1, G, "true or false", id="bool-as-int"),
        pytest.param("backorders", "maybe", G, "one of", id="bad-enum"),
        pytest.param("backorders", 1, G, "one of", id="enum-as-int"),
        pytest.param("is_qty_decimal", True, G, "cannot be set at global", id="decimal-global"),
        pytest.param("min_qty", 1, SI, "cannot be set at source_item", id="min_qty-source"),
        pytest.param("stock_threshold_qty", 1, P, "cannot be set at product",
                     id="threshold-product"),
        pytest.param("auto_return", True, P, "cannot be set at product", id="auto-return-prod"),
        pytest.param("can_subtract", False, S, "cannot be set at stock", id="subtract-stock"),
        pytest.param("can_subtract", False, P, "cannot be set at product",
                     id="subtract-product"),
        pytest.param("can_back_in_stock", False, S, "cannot be set at stock",
                     id="back-in-stock-stock"),
        pytest.param("show_out_of_stock", True, P, "cannot be set at product",
                     id="show-out-of-stock-product"),
        pytest.param("can_subtract", 0, G, "true or false", id="subtract-as-int"),
        pytest.param("is_decimal_divided", True, SI, "cannot be set", id="divided-source"),
        pytest.param("min_sale_qty_by_group", {"wholesale": -1}, G, "0 or more",
                     id="group-negative"),
        pytest.param("min_sale_qty_by_group", {"": 1}, G, "customer group", id="group-empty"),
        pytest.param("min_sale_qty_by_group", 5, G, "customer group", id="group-not-a-map"),
    ],
)
def test_parse_rejects(name: str, raw: object, level: Level, fragment: str) -> None:
    with pytest.raises(OptionError) as caught:
        OPTIONS[name].parse(raw, level)
    assert fragment in caught.value.message
    assert name in caught.value.message


def test_parse_config_null_means_use_level_below() -> None:
    values, problems = parse_config({"backorders": None, "min_qty": -1}, P)
    assert problems == []
    assert values == {"min_qty": D(-1)}


@pytest.mark.parametrize(
    ("raw", "paths"),
    [
        pytest.param({"nope": 1}, [("nope",)], id="unknown-option"),
        pytest.param({"min_sale_qty": -1, "max_sale_qty": -2}, [("min_sale_qty",),
                     ("max_sale_qty",)], id="every-problem"),
        pytest.param({"min_sale_qty_by_group": {"retail": 1, "wholesale": -1}},
                     [("min_sale_qty_by_group", "wholesale")], id="group-path"),
        pytest.param([1, 2], [()], id="not-an-object"),
    ],
)
def test_parse_config_reports_every_problem_with_path(raw: object,
                                                       paths: list[tuple[str, ...]]) -> None:
    _values, problems = parse_config(raw, P)
    assert [p.path for p in problems] == paths
    assert all(p.message for p in problems)


def test_parse_config_none_is_empty() -> None:
    assert parse_config(None, G) == ({}, [])


@pytest.mark.parametrize(
    ("value", "dumped", "shown"),
    [
        pytest.param(True, True, "true", id="bool"),
        pytest.param(Backorders.ALLOW_NOTIFY, "allow_notify", "allow_notify", id="enum"),
        pytest.param(D("2.5"), 2.5, "2.5", id="decimal"),
        pytest.param(D(3), 3, "3", id="integral"),
        pytest.param({"b": D(2), "a": D(1)}, {"b": 2, "a": 1}, "a=1, b=2", id="group-map"),
        pytest.param({}, {}, "(none)", id="empty-map"),
    ],
)
def test_dump_and_display(value: object, dumped: object, shown: str) -> None:
    assert dump_value(value) == dumped  # type: ignore[arg-type]
    assert display_value(value) == shown  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_dump_round_trips_through_parse(name: str) -> None:
    option = OPTIONS[name]
    level = next(iter(sorted(option.levels)))
    assert option.parse(dump_value(option.default), level) == option.default


@pytest.mark.parametrize(
    ("mode", "rank", "enabled"),
    [
        pytest.param(Backorders.NO, 0, False, id="no"),
        pytest.param(Backorders.ALLOW, 1, True, id="allow"),
        pytest.param(Backorders.ALLOW_NOTIFY, 2, True, id="allow_notify"),
    ],
)
def test_backorders_rank(mode: Backorders, rank: int, enabled: bool) -> None:
    assert mode.rank == rank
    assert mode.enabled is enabled
