"""The settings cache answers exactly what the engine answers, and keys on every input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.domain.inheritance import resolve
from gateway.domain.settings_memo import SettingsCache
from tests.unit.builders import item, snapshot

PRODUCT_A = {"backorders": "allow", "min_sale_qty_by_group": {"wholesale": 10}}


def test_hit_returns_the_same_answer_as_resolve() -> None:
    cache = SettingsCache()
    snap = snapshot(item("a", 5), product=PRODUCT_A)
    first = cache.settings(snap, 1, None)
    assert first == resolve(snap.chain, snap.source_items, None)
    assert cache.settings(snap, 1, None) is first and cache.hits == 1


def test_every_input_is_part_of_the_key() -> None:
    cache = SettingsCache()
    snap = snapshot(item("a", 5), product=PRODUCT_A)
    base = cache.settings(snap, 1, None)
    assert cache.settings(snap, 1, "wholesale").min_sale_qty == 10  # group
    assert base.min_sale_qty == 1
    out = snapshot(item("a", 5, in_stock=False, backorders="allow_notify"),
                   item("b", 5, backorders="no"), product=PRODUCT_A)
    inside = snapshot(item("a", 5, backorders="allow_notify"), item("b", 5, backorders="no"),
                      product=PRODUCT_A)
    # same configs, different contribution: different aggregation, different entries
    assert cache.settings(out, 1, None).backorders.value == "no"  # only b contributes
    assert cache.settings(inside, 1, None).backorders.value == "allow_notify"
    assert cache.misses == 4


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.booleans(),
                          st.sampled_from([None, "no", "allow", "allow_notify"])),
                max_size=3, unique_by=lambda t: t[0]),
       st.sampled_from([None, "wholesale"]))
def test_cache_is_transparent(items: list[tuple[str, bool, str | None]],
                              group: str | None) -> None:
    cache = SettingsCache(max_entries=3)
    for _ in range(2):
        snap = snapshot(*[item(code, 1, in_stock=in_stock, **({"backorders": b} if b else {}))
                          for code, in_stock, b in items], product=PRODUCT_A)
        assert cache.settings(snap, 7, group) == resolve(snap.chain, snap.source_items, group)
