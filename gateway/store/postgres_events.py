"""Stock events on PostgreSQL: crossings recorded with the write that caused them, numbered in
commit order.

A write compares the stock state (:func:`gateway.domain.stock_events.state_of`) of each pair it
touched before and after its writes, in its own transaction, with the rows locked, so another
writer's change can never be counted as its own: placements read both states from their
guarded update (``reserved`` before is the total after minus the delta; nothing else of the
row changes), other writes lock the touched rows of ``stock_facts`` before reading them.

Numbers: the events' ``sequence`` is what clients resume from (a GraphQL ``Int``), so it stays a
small counter. A transaction that records events takes its numbers from the one row of
``stock_event_clock``, last, which it holds until it commits: numbers are therefore given in
commit order, and a reader that saw number n never misses a smaller one committed later. Only
transactions that record events (rare: a crossing) serialise on that row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from gateway.domain.facts import StockFacts
from gateway.domain.stock_events import StockEvent, StockEventKind, StockState, crossings, state_of
from gateway.store import codec
from gateway.store.postgres_conn import Session
from gateway.store.postgres_conn import rows as rows_of

#: Events kept (older ones are pruned), as on SQLite.
KEEP_EVENTS = 100_000

States = dict[tuple[str, int], StockState]
Crossing = tuple[str, int, StockEventKind, Decimal | None]

FACTS_COLUMNS = "sku, stock_id, assigned, in_stock, physical, reserved, rules"
LOCK_FACTS_OF_SKUS = f"""SELECT {FACTS_COLUMNS} FROM stock_facts
    WHERE known AND sku = ANY($1::text[]) ORDER BY sku, stock_id FOR UPDATE"""
LOCK_ALL_FACTS = f"""SELECT {FACTS_COLUMNS} FROM stock_facts WHERE known
    ORDER BY sku, stock_id FOR UPDATE"""
FACTS_OF_SKUS = f"SELECT {FACTS_COLUMNS} FROM stock_facts WHERE known AND sku = ANY($1::text[])"
ALL_FACTS = f"SELECT {FACTS_COLUMNS} FROM stock_facts WHERE known"
RECORD = """WITH clock AS (
        UPDATE stock_event_clock SET seq = seq + $5 WHERE id = 1 RETURNING seq
    )
    INSERT INTO stock_events (seq, sku, stock_id, kind, salable_qty)
    SELECT clock.seq - $5 + e.n, e.sku, e.stock_id, e.kind, e.qty
    FROM clock, unnest($1::text[], $2::integer[], $3::text[], $4::numeric[])
        WITH ORDINALITY AS e (sku, stock_id, kind, qty, n)
    RETURNING seq"""
PRUNE = "DELETE FROM stock_events WHERE seq <= $1"
SEQUENCE = "SELECT seq FROM stock_event_clock WHERE id = 1"
SINCE = """SELECT seq, sku, stock_id, kind, salable_qty FROM stock_events
    WHERE seq > $1 ORDER BY seq LIMIT $2"""


def facts_of_row(row: Sequence[Any]) -> StockFacts:
    sku, stock_id, assigned, in_stock, physical, reserved, rules = row
    return StockFacts(sku, int(stock_id), bool(assigned), bool(in_stock), physical, reserved,
                      codec.load_rules(rules))


def states_of(rows: Iterable[Sequence[Any]]) -> States:
    found = (facts_of_row(row) for row in rows)
    return {(f.sku, f.stock_id): state_of(f) for f in found}


async def lock_states(s: Session, skus: Sequence[str] | None) -> States:
    """Lock the facts rows of ``skus`` (None: all) in (sku, stock) order and return their
    states: no other writer changes them before this transaction ends."""
    if skus is not None and not skus:
        return {}
    rows = await (s.fetch(LOCK_ALL_FACTS) if skus is None
                  else s.fetch(LOCK_FACTS_OF_SKUS, sorted(skus)))
    return states_of(rows_of(rows))


async def read_states(s: Session, skus: Sequence[str] | None) -> States:
    """The states of the facts rows of ``skus`` (None: all), as this transaction sees them."""
    if skus is not None and not skus:
        return {}
    rows = await (s.fetch(ALL_FACTS) if skus is None else s.fetch(FACTS_OF_SKUS, list(skus)))
    return states_of(rows_of(rows))


def between(before: States, after: States) -> list[Crossing]:
    """The crossings of each pair from its state before to its state after."""
    return [(sku, stock_id, kind, now.salable_qty)
            for (sku, stock_id), now in sorted(after.items())
            for kind in crossings(before.get((sku, stock_id)), now)]


def placement_crossings(guarded: Iterable[Sequence[Any]],
                        deltas: dict[tuple[str, int], Decimal]) -> list[Crossing]:
    """Crossings of a placement from its guarded rows (as they are after it): before it, each
    total was ``delta`` less negative and every other column the same."""
    before: States = {}
    after: States = {}
    for row in guarded:
        f = facts_of_row(row)
        key = (f.sku, f.stock_id)
        after[key] = state_of(f)
        before[key] = state_of(StockFacts(f.sku, f.stock_id, f.is_assigned, f.any_in_stock,
                                          f.physical, f.reserved - deltas[key], f.rules))
    return between(before, after)


async def record(s: Session, events: Sequence[Crossing]) -> None:
    """Record ``events`` with numbers taken from the clock row (held until the commit)."""
    if not events:
        return
    rows = await s.fetch(RECORD, [e[0] for e in events], [e[1] for e in events],
                         [e[2].value for e in events], [e[3] for e in events], len(events))
    last = max(int(row[0]) for row in rows)
    if last % 1000 < len(events):  # about once per thousand events
        await s.execute(PRUNE, last - KEEP_EVENTS)


async def sequence(s: Session) -> int:
    return int(await s.fetchval(SEQUENCE))


async def since(s: Session, after: int, limit: int) -> list[StockEvent]:
    return [StockEvent(int(row[0]), row[1], int(row[2]), StockEventKind(row[3]), row[4])
            for row in await s.fetch(SINCE, after, limit)]
