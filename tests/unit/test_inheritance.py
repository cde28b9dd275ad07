"""docs/rules.md §3 (inheritance with provenance) and §4 (the adapted min_qty)."""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations

import pytest

from gateway.domain.inheritance import adapt_min_qty, resolve, resolve_chain, resolve_source_item
from gateway.domain.options import OPTIONS, Backorders, Level
from tests.unit.builders import chain, item, settings

D = Decimal
SI, P, S, G, DEF = (Level.SOURCE_ITEM, Level.PRODUCT, Level.STOCK, Level.GLOBAL,
                   Level.DEFAULT)

# A distinct valid raw value per option and level, so the test can tell which level won.
_VALUES: dict[str, dict[Level, object]] = {
    "manage_stock": {P: False, S: True, G: False},
    "stock_threshold_qty": {S: 3, G: 7},
    "min_qty": {P: -2, S: 4, G: -6},
    "min_sale_qty": {P: 2, S: 3, G: 4},
    "max_sale_qty": {P: 20, S: 30, G: 40},
    "is_qty_decimal": {P: True},
    "is_decimal_divided": {P: True},
    "backorders": {P: "allow", S: "allow_notify", G: "no"},
    "notify_stock_qty": {P: 2, S: 3, G: 4},
    "enable_qty_increments": {P: True, S: False, G: True},
    "qty_increments": {P: 2, S: 3, G: 4},
    "auto_return": {G: True},
    "can_subtract": {G: False},
    "can_back_in_stock": {G: False},
    "show_out_of_stock": {S: True, G: False},
}
_LEVEL_ORDER = (P, S, G)


def _chain_cases() -> list[object]:
    cases = []
    for name, by_level in _VALUES.items():
        levels = [lv for lv in _LEVEL_ORDER if lv in by_level]
        for size in range(len(levels) + 1):
            for subset in combinations(levels, size):
                label = "+".join(lv.value.lower() for lv in subset) or "none"
                cases.append(pytest.param(name, subset, id=f"{name}-{label}"))
    return cases


@pytest.mark.parametrize(("name", "subset"), _chain_cases())
def test_first_level_that_sets_an_option_wins(name: str, subset: tuple[Level, ...]) -> None:
    raw = {lv: {name: _VALUES[name][lv]} for lv in subset}
    ch = chain(raw.get(P), raw.get(S), raw.get(G))
    setting = resolve_chain(name, ch)
    option = OPTIONS[name]
    if subset:
        top = subset[0]
        assert setting.level is top
        assert setting.value == option.parse(_VALUES[name][top], top)
        assert setting.overrides == (*subset[1:], DEF)
    else:
        assert setting.level is DEF
        assert setting.value == option.default
        assert setting.overrides == ()
    # The full engine names the same level for every option (derived values may change the
    # value, never the provenance).
    if name != "min_sale_qty_by_group":
        full = resolve(ch)[name]
        assert full.level is setting.level
        assert full.overrides == setting.overrides
        assert full.source_code is None


@pytest.mark.parametrize(
    ("name", "item_opts", "product", "global_", "value", "level", "overrides"),
    [
        pytest.param("backorders", {"backorders": "allow"}, {"backorders": "no"},
                     {"backorders": "no"},
                     Backorders.ALLOW, SI, (P, G, DEF), id="backorders-item-over-product-global"),
        pytest.param("backorders", {"backorders": "no"}, None, {"backorders": "allow"},
                     Backorders.NO, SI, (G, DEF), id="backorders-item-no-over-global-allow"),
        pytest.param("backorders", {}, {"backorders": "allow_notify"}, None,
                     Backorders.ALLOW_NOTIFY, P, (DEF,), id="backorders-product"),
        pytest.param("is_qty_decimal", {"is_qty_decimal": True}, {"is_qty_decimal": False}, None,
                     True, SI, (P, DEF), id="decimal-item-over-product"),
        pytest.param("is_qty_decimal", {"is_qty_decimal": True}, None, None, True, SI, (DEF,),
                     id="decimal-item"),
        pytest.param("is_qty_decimal", {}, None, None, False, DEF, (), id="decimal-default"),
    ],
)
def test_source_item_level_wins(name: str, item_opts: dict[str, object],
                                product: dict[str, object] | None,
                                global_: dict[str, object] | None, value: object, level: Level,
                                overrides: tuple[Level, ...]) -> None:
    eff = settings(item("eu-1", **item_opts), product=product, global_=global_)[name]
    assert eff.value == value
    assert eff.level is level
    assert eff.overrides == overrides
    assert eff.source_code == ("eu-1" if level is SI else None)


def test_notify_stock_qty_per_source_item_but_product_level_for_the_stock() -> None:
    it = item("eu-1", notify_stock_qty=5)
    ch = chain(product={"notify_stock_qty": 3}, global_={"notify_stock_qty": 2})
    per_item = resolve_source_item("notify_stock_qty", it, ch)
    assert (per_item.value, per_item.level, per_item.source_code) == (D(5), SI, "eu-1")
    assert per_item.overrides == (P, G, DEF)
    stock_view = resolve(ch, (it,))["notify_stock_qty"]
    assert (stock_view.value, stock_view.level, stock_view.overrides) == (D(3), P, (G, DEF))


@pytest.mark.parametrize(
    ("items", "product", "value", "level", "source"),
    [
        pytest.param([item("a", backorders="no"), item("b", backorders="allow")], None,
                     Backorders.ALLOW, SI, "b", id="most-permissive-allow"),
        pytest.param([item("a", backorders="allow"), item("b", backorders="allow_notify"),
                      item("c", backorders="no")], None,
                     Backorders.ALLOW_NOTIFY, SI, "b", id="most-permissive-notify"),
        pytest.param([item("b", backorders="allow"), item("a", backorders="allow")], None,
                     Backorders.ALLOW, SI, "a", id="tie-named-by-code"),
        pytest.param([item("a", backorders="no"), item("b")], {"backorders": "allow"},
                     Backorders.ALLOW, P, None, id="product-value-via-unset-item"),
        pytest.param([item("a", backorders="no"), item("b", in_stock=False, backorders="allow")],
                     None, Backorders.NO, SI, "a", id="out-of-stock-item-does-not-contribute"),
        pytest.param([item("a", backorders="no"), item("b", enabled=False, backorders="allow")],
                     None, Backorders.NO, SI, "a", id="disabled-source-does-not-contribute"),
        pytest.param([item("a", backorders="no"), item("b", linked=False, backorders="allow")],
                     None, Backorders.NO, SI, "a", id="unlinked-source-does-not-contribute"),
        pytest.param([item("a", in_stock=False, backorders="no"),
                      item("b", in_stock=False, backorders="allow")],
                     None, Backorders.ALLOW, SI, "b", id="none-contribute-all-assigned"),
        pytest.param([item("a", in_stock=False, backorders="no"),
                      item("b", enabled=False, backorders="allow")],
                     None, Backorders.NO, SI, "a", id="none-contribute-disabled-still-ignored"),
        pytest.param([], {"backorders": "allow"}, Backorders.ALLOW, P, None, id="no-items"),
    ],
)
def test_backorders_aggregate_most_permissive(items: list[object],
                                              product: dict[str, object] | None, value: object,
                                              level: Level, source: str | None) -> None:
    eff = settings(*items, product=product)["backorders"]  # type: ignore[arg-type]
    assert (eff.value, eff.level, eff.source_code) == (value, level, source)


@pytest.mark.parametrize(
    ("items", "product", "value", "level", "source"),
    [
        pytest.param([item("a", is_qty_decimal=True), item("b", is_qty_decimal=True)], None,
                     True, SI, "a", id="all-allow"),
        pytest.param([item("a", is_qty_decimal=True), item("b", is_qty_decimal=False)], None,
                     False, SI, "b", id="one-refuses-named"),
        pytest.param([item("a", is_qty_decimal=True), item("b")], None,
                     False, DEF, None, id="one-refuses-by-default"),
        pytest.param([item("a", is_qty_decimal=True), item("b")], {"is_qty_decimal": True},
                     True, SI, "a", id="product-allows-for-unset-item"),
        pytest.param([item("a", is_qty_decimal=False), item("b")], {"is_qty_decimal": True},
                     False, SI, "a", id="item-refuses-over-product"),
        pytest.param([item("a", is_qty_decimal=True),
                      item("b", in_stock=False, is_qty_decimal=False)], None,
                     True, SI, "a", id="out-of-stock-item-ignored"),
        pytest.param([item("a", is_qty_decimal=True),
                      item("b", enabled=False, is_qty_decimal=False)], None,
                     True, SI, "a", id="disabled-item-ignored"),
        pytest.param([item("a", in_stock=False, is_qty_decimal=True),
                      item("b", in_stock=False, is_qty_decimal=False)], None,
                     False, SI, "b", id="none-contribute-all-assigned"),
    ],
)
def test_is_qty_decimal_only_if_all_contributing_allow(
        items: list[object], product: dict[str, object] | None, value: bool, level: Level,
        source: str | None) -> None:
    eff = settings(*items, product=product)["is_qty_decimal"]  # type: ignore[arg-type]
    assert (eff.value, eff.level, eff.source_code) == (value, level, source)


@pytest.mark.parametrize(
    ("product", "stock", "global_", "group", "value", "level", "overrides"),
    [
        pytest.param(None, None, {"min_sale_qty": 2, "min_sale_qty_by_group": {"wholesale": 10}},
                     "wholesale", D(10), G, (DEF,), id="global-exact-group"),
        pytest.param(None, None, {"min_sale_qty": 2, "min_sale_qty_by_group": {"wholesale": 10}},
                     "retail", D(2), G, (DEF,), id="global-other-group-all-groups-value"),
        pytest.param(None, None, {"min_sale_qty": 2, "min_sale_qty_by_group": {"wholesale": 10}},
                     None, D(2), G, (DEF,), id="no-group"),
        pytest.param(None, None, {"min_sale_qty_by_group": {"wholesale": 10}},
                     "retail", D(1), DEF, (), id="other-group-default"),
        pytest.param({"min_sale_qty_by_group": {"wholesale": 6}}, None, {"min_sale_qty": 2},
                     "wholesale", D(6), P, (G, DEF), id="product-group-value"),
        pytest.param({"min_sale_qty_by_group": {"wholesale": 6}}, None, {"min_sale_qty": 2},
                     "retail", D(2), G, (DEF,), id="product-group-value-other-group"),
        pytest.param({"min_sale_qty": 5, "min_sale_qty_by_group": {"wholesale": 6}}, None, None,
                     "retail", D(5), P, (DEF,), id="product-all-groups"),
        pytest.param({"min_sale_qty": 3}, None, {"min_sale_qty_by_group": {"wholesale": 10}},
                     "wholesale", D(3), P, (G, DEF), id="product-scalar-over-global-group"),
        pytest.param(None, {"min_sale_qty_by_group": {"wholesale": 8}},
                     {"min_sale_qty_by_group": {"wholesale": 10}},
                     "wholesale", D(8), S, (G, DEF), id="stock-group-over-global-group"),
        pytest.param({"min_sale_qty_by_group": {"wholesale": 0}}, None, {"min_sale_qty": 2},
                     "wholesale", D(0), P, (G, DEF), id="group-zero-is-a-value"),
    ],
)
def test_min_sale_qty_per_customer_group(product: dict[str, object] | None,
                                         stock: dict[str, object] | None,
                                         global_: dict[str, object] | None, group: str | None,
                                         value: Decimal, level: Level,
                                         overrides: tuple[Level, ...]) -> None:
    eff = settings(product=product, stock=stock, global_=global_, group=group)
    assert eff.min_sale_qty == value
    assert eff["min_sale_qty"].level is level
    assert eff["min_sale_qty"].overrides == overrides


@pytest.mark.parametrize(
    ("raw", "backorders", "adapted"),
    [
        pytest.param(-1, "allow", D(-1), id="negative-with-backorders-is-a-cap"),
        pytest.param(-1, "allow_notify", D(-1), id="negative-with-notify"),
        pytest.param(0, "allow", D(0), id="zero-with-backorders-unlimited"),
        pytest.param(5, "allow", D(0), id="positive-with-backorders-ignored"),
        pytest.param(5, "no", D(5), id="positive-without-backorders-safety-stock"),
        pytest.param(0, "no", D(0), id="zero-without"),
        pytest.param(-4.5, "no", D(0), id="negative-without-backorders-ignored"),
    ],
)
def test_adapted_min_qty(raw: float, backorders: str, adapted: Decimal) -> None:
    assert adapt_min_qty(D(str(raw)), Backorders(backorders)) == adapted
    eff = settings(item(), product={"min_qty": raw, "backorders": backorders})
    assert eff.adapted_min_qty == adapted
    assert eff.min_qty == D(str(raw))  # the raw value stays visible
    assert eff.unlimited_backorders is (backorders != "no" and raw >= 0)


@pytest.mark.parametrize(
    ("product", "global_", "step"),
    [
        pytest.param({"enable_qty_increments": True, "qty_increments": 0.5,
                      "is_qty_decimal": True}, None, D("0.5"), id="decimal-step-with-decimals"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 2.5}, None, D(2),
                     id="decimal-step-truncated-without-decimals"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 0.5}, None, D(0),
                     id="step-below-1-without-decimals-switches-off"),
        pytest.param({"qty_increments": 3}, None, D(0), id="not-enabled-no-check"),
        pytest.param({"enable_qty_increments": True, "qty_increments": 0}, None, D(0),
                     id="product-step-0-switches-off"),
        pytest.param(None, {"enable_qty_increments": True, "qty_increments": 3}, D(3),
                     id="global"),
        pytest.param({"qty_increments": 4}, {"enable_qty_increments": True}, D(4),
                     id="product-step-global-enable"),
        pytest.param({"enable_qty_increments": False},
                     {"enable_qty_increments": True, "qty_increments": 3}, D(0),
                     id="product-disables"),
    ],
)
def test_effective_qty_increments(product: dict[str, object] | None,
                                  global_: dict[str, object] | None, step: Decimal) -> None:
    assert settings(item(), product=product, global_=global_).qty_increments == step


@pytest.mark.parametrize(
    ("product", "divided", "level"),
    [
        pytest.param({"is_decimal_divided": True}, False, P, id="forced-off-without-decimals"),
        pytest.param({"is_decimal_divided": True, "is_qty_decimal": True}, True, P,
                     id="kept-with-decimals"),
        pytest.param({"is_qty_decimal": True}, False, DEF, id="default-off"),
    ],
)
def test_is_decimal_divided_needs_decimals(product: dict[str, object], divided: bool,
                                           level: Level) -> None:
    eff = settings(item(), product=product)
    assert eff.is_decimal_divided is divided
    assert eff["is_decimal_divided"].level is level


def test_every_option_is_resolved_with_provenance() -> None:
    eff = settings(item())
    names = {s.name for s in eff}
    assert names == set(OPTIONS) - {"min_sale_qty_by_group"}
    assert all(s.level is DEF and s.overrides == () for s in eff)


def test_stock_level_overrides_global() -> None:
    eff = settings(item(), stock={"stock_threshold_qty": 5, "backorders": "allow"},
                   global_={"stock_threshold_qty": 2, "backorders": "no"})
    assert (eff.stock_threshold_qty, eff["stock_threshold_qty"].level) == (D(5), S)
    assert (eff.backorders, eff["backorders"].level) == (Backorders.ALLOW, S)
    assert eff["backorders"].overrides == (G, DEF)
