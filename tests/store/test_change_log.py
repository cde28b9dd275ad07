"""The change log, on every backend: each committed write appends the keys it changed; a
reader following positions sees every key once committed, never before, and is told
"everything" when it fell behind the log or asks about another database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.domain.records import (
    Catalog,
    ChangeBatch,
    ChangedKey,
    LinkRecord,
    ProductRecord,
    ReservationRecord,
    SourceItemRecord,
    SourceRecord,
    StockRecord,
)
from gateway.store.errors import ConstraintViolation
from gateway.store.protocol import Store
from tests.store.conftest import OpenStore

D = Decimal
BASE = Catalog(sources=(SourceRecord("s", "S"),),
               stocks=(StockRecord(1, "one", ("web",), (LinkRecord("s", 1),)),),
               products=(ProductRecord("A"), ProductRecord("B")),
               source_items=(SourceItemRecord("A", "s", D(5), True),))


async def read_all(store: Store, after: int, limit: int = 10_000) -> ChangeBatch:
    """Every page from ``after`` on, as one batch."""
    keys: list[ChangedKey] = []
    while True:
        batch = await store.changes_since(after, limit)
        keys.extend(batch.keys)
        if len(batch.keys) < limit or batch.everything:
            return ChangeBatch(batch.sequence, tuple(keys))
        after = batch.sequence


async def test_each_write_appends_the_keys_it_changed(store: Store,
                                                      open_store: OpenStore) -> None:
    await store.import_catalog(BASE, replace=False)
    other = await open_store()  # another process reads the log
    start = await other.change_sequence()
    assert (await other.changes_since(start)).keys == ()

    await store.import_catalog(Catalog(reservations=(ReservationRecord("A", 1, D(-1)),)),
                               replace=False)
    batch = await read_all(other, start)
    assert set(batch.keys) == {("A", 1)} and not batch.everything
    assert (await other.changes_since(batch.sequence)).keys == ()

    await store.import_catalog(Catalog(source_items=(SourceItemRecord("B", "s", D(2), True),)),
                               replace=False)
    after_items = await read_all(other, batch.sequence)
    assert set(after_items.keys) == {("B", None)}

    await store.import_catalog(Catalog(config={}), replace=False)
    assert (await read_all(other, after_items.sequence)).everything


async def test_a_refused_write_appends_nothing(store: Store) -> None:
    await store.import_catalog(BASE, replace=False)
    start = await store.change_sequence()
    with pytest.raises(ConstraintViolation):
        await store.import_catalog(Catalog(source_items=(
            SourceItemRecord("A", "missing", D(1), True),)), replace=False)
    assert (await read_all(store, start)).keys == ()


async def test_pages_never_lose_a_key(store: Store) -> None:
    await store.import_catalog(BASE, replace=False)
    start = await store.change_sequence()
    skus = [f"P{n:03}" for n in range(30)]
    for sku in skus:
        await store.import_catalog(Catalog(products=(ProductRecord(sku),)), replace=False)
    seen: list[ChangedKey] = []
    position = start
    for _ in range(100):
        batch = await store.changes_since(position, 4)
        assert not batch.everything
        seen.extend(batch.keys)
        if not batch.keys:
            break
        position = batch.sequence
    assert [sku for sku, _ in seen] == skus  # each once, in commit order


async def test_a_position_from_elsewhere_means_everything(store: Store) -> None:
    await store.import_catalog(BASE, replace=False)
    now = await store.change_sequence()
    assert (await store.changes_since(now + 10**9)).everything
