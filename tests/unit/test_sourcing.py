"""docs/rules.md §9: source selection for shipping (priority and distance), offline."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.domain.sourcing import (
    Algorithm,
    Destination,
    SelectionItem,
    SourceInfo,
    StockOnShelf,
    haversine_km,
    order_sources,
    select_sources,
)

D = Decimal
PARIS = (48.8566, 2.3522)
BERLIN = (52.5200, 13.4050)
NEW_YORK = (40.7128, -74.0060)
LONDON = (51.5074, -0.1278)
WARSAW = (52.2297, 21.0122)
BOSTON = (42.3601, -71.0589)


def src(code: str, priority: int = 1, *, enabled: bool = True,
        at: tuple[float, float] | None = None, country: str | None = None,
        postcode: str | None = None) -> SourceInfo:
    lat, lon = at if at is not None else (None, None)
    return SourceInfo(code, priority, enabled, lat, lon, country, postcode)


def shelf(qty: object, in_stock: bool = True) -> StockOnShelf:
    return StockOnShelf(D(str(qty)), in_stock)


CITIES = [src("paris", 1, at=PARIS, country="FR", postcode="75001"),
          src("berlin", 2, at=BERLIN, country="DE", postcode="10115"),
          src("new-york", 3, at=NEW_YORK, country="US", postcode="10001")]


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        pytest.param(PARIS, BERLIN, 878, id="paris-berlin"),
        pytest.param(PARIS, NEW_YORK, 5837, id="paris-new-york"),
        pytest.param(BERLIN, NEW_YORK, 6385, id="berlin-new-york"),
        pytest.param(PARIS, PARIS, 0, id="same-point"),
    ],
)
def test_haversine(a: tuple[float, float], b: tuple[float, float], km: float) -> None:
    assert haversine_km(*a, *b) == pytest.approx(km, abs=10)
    assert haversine_km(*a, *b) == pytest.approx(haversine_km(*b, *a))


def test_haversine_antipodes_do_not_fail() -> None:
    assert haversine_km(0, 0, 0, 180) == pytest.approx(20015, abs=5)


@pytest.mark.parametrize(
    ("sources", "algorithm", "destination", "expected"),
    [
        pytest.param([src("b", 2), src("a", 1), src("c", 3)], Algorithm.PRIORITY, None,
                     ["a", "b", "c"], id="priority-ascending"),
        pytest.param([src("b", 1), src("a", 1), src("c", 0)], Algorithm.PRIORITY, None,
                     ["c", "a", "b"], id="priority-ties-by-code"),
        pytest.param([src("a", 1, enabled=False), src("b", 2)], Algorithm.PRIORITY, None,
                     ["b"], id="disabled-skipped"),
        pytest.param(CITIES, Algorithm.DISTANCE, Destination(*LONDON),
                     ["paris", "berlin", "new-york"], id="distance-from-london"),
        pytest.param(CITIES, Algorithm.DISTANCE, Destination(*WARSAW),
                     ["berlin", "paris", "new-york"], id="distance-from-warsaw"),
        pytest.param(CITIES, Algorithm.DISTANCE, Destination(*BOSTON),
                     ["new-york", "paris", "berlin"], id="distance-from-boston"),
        pytest.param([*CITIES, src("nowhere", 0)], Algorithm.DISTANCE, Destination(*BOSTON),
                     ["new-york", "paris", "berlin", "nowhere"],
                     id="no-coordinates-last"),
        pytest.param([src("x", 2), src("y", 1), *CITIES], Algorithm.DISTANCE,
                     Destination(*WARSAW), ["berlin", "paris", "new-york", "y", "x"],
                     id="no-coordinates-last-by-priority"),
        pytest.param([*CITIES[:2], src("ny", 9, enabled=False, at=NEW_YORK)],
                     Algorithm.DISTANCE, Destination(*BOSTON), ["paris", "berlin"],
                     id="distance-disabled-skipped"),
        pytest.param(CITIES, Algorithm.DISTANCE, None, ["paris", "berlin", "new-york"],
                     id="distance-without-destination-uses-priority"),
        pytest.param([src("de-1", 1, country="DE", postcode="10115"),
                      src("fr-2", 2, country="FR", postcode="69001"),
                      src("fr-1", 3, country="FR", postcode="75001")],
                     Algorithm.DISTANCE, Destination(country="FR", postcode="75001"),
                     ["fr-1", "fr-2", "de-1"], id="country-postcode-fallback"),
        pytest.param([src("de-1", 1, country="DE"), src("fr-2", 3, country="FR"),
                      src("fr-1", 2, country="FR")],
                     Algorithm.DISTANCE, Destination(country="FR"),
                     ["fr-1", "fr-2", "de-1"], id="country-fallback-then-priority"),
        pytest.param([src("far", 1, at=NEW_YORK), src("null-island", 2, at=(0.0, 0.0))],
                     Algorithm.DISTANCE, Destination(1.0, 1.0), ["null-island", "far"],
                     id="zero-coordinates-are-coordinates"),
        pytest.param([src("de", 1, at=BERLIN, country="DE"), src("fr", 2, at=PARIS,
                                                                  country="FR")],
                     Algorithm.DISTANCE, Destination(latitude=LONDON[0], country="FR"),
                     ["fr", "de"], id="half-a-point-falls-back-to-country"),
        pytest.param(CITIES, Algorithm.PRIORITY, Destination(*BOSTON),
                     ["paris", "berlin", "new-york"], id="priority-ignores-destination"),
    ],
)
def test_order_sources(sources: list[SourceInfo], algorithm: Algorithm,
                       destination: Destination | None, expected: list[str]) -> None:
    assert [s.code for s in order_sources(sources, algorithm, destination)] == expected


@pytest.mark.parametrize(
    ("lines", "shelves", "shippable", "items"),
    [
        pytest.param([("A", 5)], {("a", "A"): shelf(3), ("b", "A"): shelf(10)}, True,
                     [("a", "A", 3, 3), ("b", "A", 2, 10)], id="walk-in-priority-order"),
        pytest.param([("A", 2)], {("a", "A"): shelf(3), ("b", "A"): shelf(10)}, True,
                     [("a", "A", 2, 3), ("b", "A", 0, 10)], id="zero-deduction-listed"),
        pytest.param([("A", 5)], {("a", "A"): shelf(3, in_stock=False),
                                  ("b", "A"): shelf(10)}, True,
                     [("b", "A", 5, 10)], id="out-of-stock-skipped"),
        pytest.param([("A", 5)], {("a", "A"): shelf(3), ("c", "A"): shelf(10)}, False,
                     [("a", "A", 3, 3)], id="disabled-source-skipped-short"),
        pytest.param([("A", 20)], {("a", "A"): shelf(3), ("b", "A"): shelf(10)}, False,
                     [("a", "A", 3, 3), ("b", "A", 10, 10)], id="short"),
        pytest.param([("A", 2), ("A", 3)], {("a", "A"): shelf(3), ("b", "A"): shelf(10)}, True,
                     [("a", "A", 3, 3), ("b", "A", 2, 10)], id="same-sku-lines-merged"),
        pytest.param([("A", 1)], {("a", "A"): shelf(-2), ("b", "A"): shelf(1)}, True,
                     [("a", "A", 0, -2), ("b", "A", 1, 1)], id="negative-item-gives-nothing"),
        pytest.param([("A", "1.5")], {("a", "A"): shelf("0.5"), ("b", "A"): shelf(1)}, True,
                     [("a", "A", "0.5", "0.5"), ("b", "A", 1, 1)], id="decimals"),
        pytest.param([("A", 1), ("B", 2)], {("b", "A"): shelf(1), ("a", "B"): shelf(1)}, False,
                     [("b", "A", 1, 1), ("a", "B", 1, 1)], id="two-skus-one-short"),
        pytest.param([("A", 1)], {}, False, [], id="nothing-anywhere"),
    ],
)
def test_select_sources_priority(lines: list[tuple[str, object]],
                                 shelves: dict[tuple[str, str], StockOnShelf], shippable: bool,
                                 items: list[tuple[str, str, object, object]]) -> None:
    sources = [src("b", 2), src("a", 1), src("c", 0, enabled=False)]
    selection = select_sources([(sku, D(str(q))) for sku, q in lines], sources, shelves)
    assert selection.shippable is shippable
    assert list(selection.items) == [SelectionItem(c, s, D(str(q)), D(str(a)))
                                     for c, s, q, a in items]


def test_select_sources_by_distance() -> None:
    shelves = {("paris", "A"): shelf(2), ("berlin", "A"): shelf(2), ("new-york", "A"): shelf(2)}
    selection = select_sources([("A", D(3))], CITIES, shelves, Algorithm.DISTANCE,
                               Destination(*BOSTON))
    assert selection.shippable
    assert [(i.source_code, i.qty_to_deduct) for i in selection.items] == [
        ("new-york", D(2)), ("paris", D(1)), ("berlin", D(0))]

