"""Hypothesis properties of the pure domain (docs/rules.md §3, §5, §6, §9)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gateway.domain.availability import assess
from gateway.domain.cart import RequestedLine, check_cart
from gateway.domain.errors import CartIssueCode
from gateway.domain.inheritance import resolve, resolve_source_item
from gateway.domain.model import ConfigChain, SourceItemState, StockSnapshot
from gateway.domain.options import OPTIONS, Level, OptionError, OptionValue
from gateway.domain.quantity import ZERO, compare, format_qty, parse_quantity
from gateway.domain.sourcing import (
    Algorithm,
    Destination,
    SourceInfo,
    StockOnShelf,
    select_sources,
)

CODES = ("a", "b", "c", "d", "e")


def qty4(low: int = -50_000, high: int = 2_000_000) -> st.SearchStrategy[Decimal]:
    """Decimals with at most 4 places, in [low/10000, high/10000]."""
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-4))


# Candidate raw values per option; the registry decides which are valid at which level.
RAW_CANDIDATES: dict[str, list[object]] = {
    "manage_stock": [True, False],
    "stock_threshold_qty": [0, 1, 5, 2.5],
    "min_qty": [-5, -1, -0.5, 0, 1, 3.25],
    "min_sale_qty": [0, 1, 2, 3.5],
    "max_sale_qty": [0, 5, 100, 10000],
    "is_qty_decimal": [True, False],
    "is_decimal_divided": [True, False],
    "backorders": ["no", "allow", "allow_notify"],
    "notify_stock_qty": [-1, 0, 1, 2.5, 10],
    "enable_qty_increments": [True, False],
    "qty_increments": [0, 1, 2, 2.5, 0.5],
    "auto_return": [True, False],
    "can_subtract": [True, False],
    "can_back_in_stock": [True, False],
    "show_out_of_stock": [True, False],
    "min_sale_qty_by_group": [{"wholesale": 10}, {"retail": 2, "wholesale": 0}],
}


def level_config(level: Level, names: tuple[str, ...] | None = None
                 ) -> st.SearchStrategy[dict[str, OptionValue]]:
    """A random valid config for ``level`` (any subset of the options settable there)."""
    pool = [n for n in (names or tuple(OPTIONS)) if level in OPTIONS[n].levels]

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, OptionValue]:
        values: dict[str, OptionValue] = {}
        for name in draw(st.lists(st.sampled_from(pool), unique=True)) if pool else []:
            raw = draw(st.sampled_from(RAW_CANDIDATES[name]))
            try:
                values[name] = OPTIONS[name].parse(raw, level)
            except OptionError:
                continue
        return values

    return build()


@st.composite
def source_items(draw: st.DrawFn, min_size: int = 0) -> tuple[SourceItemState, ...]:
    codes = draw(st.lists(st.sampled_from(CODES), unique=True, min_size=min_size))
    return tuple(
        SourceItemState(code, draw(qty4()), draw(st.booleans()), draw(st.booleans()),
                        draw(st.booleans()), draw(level_config(Level.SOURCE_ITEM)))
        for code in codes)


@st.composite
def chains(draw: st.DrawFn) -> ConfigChain:
    return ConfigChain(draw(level_config(Level.PRODUCT)), draw(level_config(Level.STOCK)),
                       draw(level_config(Level.GLOBAL)))


@st.composite
def snapshots(draw: st.DrawFn, min_items: int = 0) -> StockSnapshot:
    return StockSnapshot("SKU-1", 10, draw(source_items(min_items)),
                         draw(qty4(-2_000_000, 200_000)), draw(chains()))


# --- availability -----------------------------------------------------------------------------

@settings(max_examples=200)
@given(snapshots(min_items=1), st.data())
def test_adding_in_stock_quantity_never_makes_a_salable_sku_unsalable(
        snap: StockSnapshot, data: st.DataObject) -> None:
    before = assess(snap)
    contributing = [i for i, it in enumerate(snap.source_items) if it.contributes]
    unused = [c for c in CODES if c not in {it.source_code for it in snap.source_items}]
    assume(contributing or unused)
    extra = data.draw(qty4(0, 1_000_000), label="extra")
    grow_existing = bool(contributing) and (not unused or data.draw(st.booleans()))
    if grow_existing:
        index = data.draw(st.sampled_from(contributing), label="index")
        items = list(snap.source_items)
        items[index] = replace(items[index], quantity=items[index].quantity + extra)
    else:
        new = SourceItemState(data.draw(st.sampled_from(unused)), extra, True, True, True,
                              data.draw(level_config(Level.SOURCE_ITEM), label="config"))
        items = [*snap.source_items, new]
    after = assess(replace(snap, source_items=tuple(items)))
    if before.is_salable:
        assert after.is_salable
        if before.salable_qty is not None:
            assert after.salable_qty is not None
            assert compare(after.salable_qty, before.salable_qty) >= 0


@settings(max_examples=200)
@given(snapshots(), st.randoms(use_true_random=False))
def test_source_item_order_never_matters(snap: StockSnapshot, rnd: object) -> None:
    items = list(snap.source_items)
    rnd.shuffle(items)  # type: ignore[attr-defined]
    first, second = assess(snap), assess(replace(snap, source_items=tuple(items)))
    assert first.salable_qty == second.salable_qty
    assert first.is_salable is second.is_salable
    assert first.only_x_left == second.only_x_left
    assert first.low_stock is second.low_stock
    for setting in first.settings:
        other = second.settings[setting.name]
        assert (setting.value, setting.level, setting.source_code) == (
            other.value, other.level, other.source_code)


@settings(max_examples=200)
@given(snapshots())
def test_availability_invariants(snap: StockSnapshot) -> None:
    result = assess(snap)
    settings_ = result.settings
    if not snap.is_assigned:
        assert not result.is_salable
    if not settings_.manage_stock:
        assert result.salable_qty is None and result.only_x_left is None
        assert result.is_salable is snap.is_assigned
        return
    assert result.salable_qty is not None
    if not result.is_salable:
        assert result.salable_qty == ZERO
    if not snap.any_in_stock:
        assert not result.is_salable  # backorders never rescue
    if result.only_x_left is not None:
        assert compare(result.only_x_left, ZERO) > 0
        assert compare(result.only_x_left, settings_.stock_threshold_qty) <= 0
        assert result.only_x_left == result.salable_qty


# --- inheritance ------------------------------------------------------------------------------

_ORDER = (Level.PRODUCT, Level.STOCK, Level.GLOBAL)
_DERIVED_VALUES = {"qty_increments", "is_decimal_divided"}


@settings(max_examples=400)
@given(chains(), st.one_of(st.none(), level_config(Level.SOURCE_ITEM)),
       st.booleans(), st.sampled_from([None, "wholesale", "retail"]))
def test_effective_value_comes_from_the_highest_level_that_sets_it(
        chain: ConfigChain, item_config: dict[str, OptionValue] | None, in_stock: bool,
        group: str | None) -> None:
    items = () if item_config is None else (
        SourceItemState("a", Decimal(1), in_stock, config=item_config),)
    effective = resolve(chain, items, group)
    levels = dict(zip(_ORDER, (chain.product, chain.stock, chain.global_config), strict=True))
    for name, option in OPTIONS.items():
        if name == "min_sale_qty_by_group":
            continue
        if name == "notify_stock_qty" and items:
            # Per source item (low-stock report); the stock itself sees the product level.
            per_item = resolve_source_item(name, items[0], chain)
            _assert_provenance(name, per_item, items[0].config, levels, group)
        setters: list[tuple[Level, OptionValue]] = []
        if items and name in items[0].config and name != "notify_stock_qty":
            setters.append((Level.SOURCE_ITEM, items[0].config[name]))
        setters.extend(_chain_setters(name, levels, group))
        setting = effective[name]
        if setters:
            top_level, top_value = setters[0]
            assert setting.level is top_level, name
            if name not in _DERIVED_VALUES:
                assert setting.value == top_value, name
            assert setting.overrides == (*(lv for lv, _ in setters[1:]), Level.DEFAULT), name
            assert setting.source_code == ("a" if top_level is Level.SOURCE_ITEM else None)
        else:
            assert setting.level is Level.DEFAULT, name
            if name not in _DERIVED_VALUES:
                assert setting.value == option.default, name
            assert setting.overrides == (), name


def _chain_setters(name: str, levels: dict[Level, dict[str, OptionValue]] | dict,
                   group: str | None) -> list[tuple[Level, OptionValue]]:
    found: list[tuple[Level, OptionValue]] = []
    for level in _ORDER:
        values = levels[level]
        by_group = values.get("min_sale_qty_by_group") if name == "min_sale_qty" else None
        if group is not None and by_group is not None and group in by_group:
            found.append((level, by_group[group]))
        elif name in values:
            found.append((level, values[name]))
    return found


def _assert_provenance(name: str, setting: object, item_config: object, levels: dict,
                       group: str | None) -> None:
    setters = ([(Level.SOURCE_ITEM, item_config[name])]  # type: ignore[index]
               if name in item_config else [])  # type: ignore[operator]
    setters.extend(_chain_setters(name, levels, group))
    level = setters[0][0] if setters else Level.DEFAULT
    assert setting.level is level  # type: ignore[attr-defined]
    expected = (*(lv for lv, _ in setters[1:]), Level.DEFAULT) if setters else ()
    assert setting.overrides == expected  # type: ignore[attr-defined]


# --- cart -------------------------------------------------------------------------------------

ANY_QUANTITY = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["1", "1.5", "0.17", "1e3", "-0", "NaN", "sNaN", "-Infinity", "1e99999",
                     "1e-99999", "9" * 60, "0x10", "1_000", " 7 ", "١٢", "1e1000000",
                     "-1E+999999999", "0e-999999999", Decimal("1e999999999")]),
    st.none(), st.booleans(), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=400)
@given(snapshots(), st.lists(st.tuples(st.sampled_from(["SKU-1", "UNKNOWN"]), ANY_QUANTITY),
                             max_size=5), st.sampled_from([None, "wholesale"]))
def test_cart_check_never_raises(snap: StockSnapshot, lines: list[tuple[str, object]],
                                 group: str | None) -> None:
    results = check_cart([RequestedLine(sku, q) for sku, q in lines],
                         {"SKU-1": assess(snap, group), "UNKNOWN": None})
    assert len(results) == len(lines)
    for result, (sku, _) in zip(results, lines, strict=True):
        assert result.sku == sku
        assert result.ok is (not result.errors)
        found = [issue.code for issue in result.errors]
        order = list(CartIssueCode)
        assert found == sorted(found, key=order.index), found
        assert len(found) == len(set(found))
        if CartIssueCode.INVALID_QUANTITY in found:
            assert found == [CartIssueCode.INVALID_QUANTITY] and result.quantity is None
        else:
            assert result.quantity is not None and result.quantity > 0
        assert ZERO <= result.backorder_qty <= (result.quantity or ZERO)
        assert all(n.code is CartIssueCode.BACKORDERED for n in result.notices)


@settings(max_examples=200)
@given(snapshots(min_items=1), st.lists(qty4(1, 500_000), min_size=1, max_size=3))
def test_valid_quantities_ok_iff_every_rule_passes(snap: StockSnapshot,
                                                   quantities: list[Decimal]) -> None:
    avail = assess(snap)
    results = check_cart([RequestedLine("SKU-1", q) for q in quantities], {"SKU-1": avail})
    total = sum(quantities, ZERO)
    eff = avail.settings
    for result in results:
        found = {issue.code for issue in result.errors}
        assert result.ok is (not found)
        assert (CartIssueCode.MIN_SALE_QTY in found) is (
            eff.min_sale_qty > 0 and compare(total, eff.min_sale_qty) < 0)
        assert (CartIssueCode.MAX_SALE_QTY in found) is (
            eff.max_sale_qty > 0 and compare(total, eff.max_sale_qty) > 0)
        stock_checked = snap.is_assigned and eff.manage_stock and snap.any_in_stock
        assert (CartIssueCode.INSUFFICIENT_STOCK in found) is (
            stock_checked and not eff.unlimited_backorders
            and compare(avail.left_to_sell, total) < 0)


# --- sourcing ---------------------------------------------------------------------------------

@st.composite
def selection_inputs(draw: st.DrawFn) -> tuple[list[tuple[str, Decimal]], list[SourceInfo],
                                               dict[tuple[str, str], StockOnShelf]]:
    codes = draw(st.lists(st.sampled_from(CODES), unique=True))
    coordinate = st.one_of(st.none(), st.floats(-89, 89))
    sources = [SourceInfo(c, draw(st.integers(1, 5)), draw(st.booleans()), draw(coordinate),
                          draw(st.one_of(st.none(), st.floats(-179, 179))),
                          draw(st.sampled_from([None, "FR", "DE"])),
                          draw(st.sampled_from([None, "75001", "10115"])))
               for c in codes]
    skus = ("A", "B")
    shelves = {(c, s): StockOnShelf(draw(qty4(-50_000, 200_000)), draw(st.booleans()))
               for c in codes for s in skus if draw(st.booleans())}
    lines = draw(st.lists(st.tuples(st.sampled_from(skus), qty4(1, 300_000)), max_size=4))
    return lines, sources, shelves


@settings(max_examples=200)
@given(selection_inputs(), st.sampled_from(list(Algorithm)),
       st.one_of(st.none(), st.builds(Destination, st.floats(-89, 89), st.floats(-179, 179)),
                 st.builds(Destination, country=st.sampled_from(["FR", "DE"]),
                           postcode=st.sampled_from(["75001", "10115"]))))
def test_sourcing_never_deducts_more_than_requested_or_held(
        inputs: tuple[list[tuple[str, Decimal]], list[SourceInfo],
                      dict[tuple[str, str], StockOnShelf]],
        algorithm: Algorithm, destination: Destination | None) -> None:
    lines, sources, shelves = inputs
    selection = select_sources(lines, sources, shelves, algorithm, destination)
    requested: dict[str, Decimal] = {}
    for sku, q in lines:
        requested[sku] = requested.get(sku, ZERO) + q
    deducted: dict[str, Decimal] = {}
    enabled = {s.code for s in sources if s.enabled}
    seen: set[tuple[str, str]] = set()
    for item in selection.items:
        key = (item.source_code, item.sku)
        assert key not in seen
        seen.add(key)
        shelf = shelves[key]
        assert shelf.in_stock and item.source_code in enabled
        assert item.qty_available == shelf.quantity
        assert ZERO <= item.qty_to_deduct <= max(shelf.quantity, ZERO)
        deducted[item.sku] = deducted.get(item.sku, ZERO) + item.qty_to_deduct
    for sku, total in deducted.items():
        assert total <= requested[sku]
    fully = all(deducted.get(sku, ZERO) == q for sku, q in requested.items())
    assert selection.shippable is fully
    # Every in-stock item on an enabled source is listed, even with nothing to deduct.
    listed = {(c, s) for (c, s), sh in shelves.items()
              if sh.in_stock and c in enabled and s in requested}
    assert seen == listed


# --- quantities -------------------------------------------------------------------------------

@given(qty4(-999_999_999_999, 999_999_999_999))
def test_quantity_text_round_trips(value: Decimal) -> None:
    assert parse_quantity(format_qty(value)) == value
    assert compare(value, value) == 0


@given(qty4(), qty4())
def test_compare_is_antisymmetric(left: Decimal, right: Decimal) -> None:
    assert compare(left, right) == -compare(right, left)
    assert (compare(left, right) == 0) is (left == right)
