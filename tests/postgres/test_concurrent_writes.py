"""Writes from several replicas at once on one PostgreSQL database (each replica a store with
its own pool, as in separate processes): no oversell, no deadlock, no lost update.

- placements lock their (sku, stock) totals last, in sorted order: multi-line orders naming
  the same SKUs in any order never deadlock, and never sell more than the stock;
- a write that changes a SKU's facts (here: a stock correction) serialises with placements on
  the row both update: a placement waiting for it re-evaluates its guard against the new floor;
- order updates lock what they read: concurrent shipments from one shelf all count, a double
  cancellation releases once.
"""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import asyncpg

from gateway.domain.cart import CartIssueCode, RequestedLine
from gateway.services import Services, build_services
from gateway.services.orders import OrderOutcome
from gateway.store.postgres import PostgresStore
from tests.concurrency.conftest import CHANNEL, STOCK_ID, catalog
from tests.postgres.conftest import OpenPostgres
from tests.postgres_support import query

D = Decimal


async def shop(open_postgres: OpenPostgres, quantities: dict[str, float],
               count: int = 3) -> list[Services]:
    services = [build_services(await open_postgres(pool_size=8)) for _ in range(count)]
    assert await services[0].catalog.import_document(catalog(quantities), replace=True) == []
    return services


def reserved(url: str) -> dict[str, Decimal]:
    return {str(sku): Decimal(str(total)) for sku, total in
            query(url, "SELECT sku, reserved FROM stock_facts WHERE stock_id = $1", STOCK_ID)}


def refusal(outcome: OrderOutcome) -> set[CartIssueCode]:
    return {issue.code for line in outcome.lines for issue in line.errors}


async def test_multi_line_orders_in_any_order_never_deadlock_or_oversell(
        open_postgres: OpenPostgres, postgres_url: str) -> None:
    stock = {"A": 40, "B": 40, "C": 40}
    replicas = await shop(open_postgres, stock)
    rng = random.Random(7)
    orders = {}
    for n in range(240):
        skus = rng.sample(sorted(stock), rng.randint(2, 3))  # any order of the SKUs
        orders[f"m{n}"] = [RequestedLine(sku, str(rng.randint(1, 2))) for sku in skus]
    async with asyncio.timeout(120):
        outcomes = await asyncio.gather(*(
            replicas[n % 3].orders.place_order(order_id, CHANNEL, lines)
            for n, (order_id, lines) in enumerate(orders.items())))
    sold = {sku: D(0) for sku in stock}
    for outcome in outcomes:
        if outcome.ok:
            for line in orders[outcome.order_id]:
                sold[line.sku] += D(line.quantity)
        else:
            assert refusal(outcome) == {CartIssueCode.INSUFFICIENT_STOCK}, outcome
    assert all(sold[sku] <= stock[sku] for sku in stock), sold
    assert sum(sold.values()) >= 100  # the stock really was contended for, and mostly sold
    assert reserved(postgres_url) == {sku: -qty for sku, qty in sold.items()}


async def test_a_placement_waits_for_a_stock_correction_and_obeys_it(
        open_postgres: OpenPostgres, postgres_url: str) -> None:
    (replica,) = await shop(open_postgres, {"HOT": 10}, count=1)
    # A correction of the shelf, in progress on another connection: the write an admin
    # update makes (the source item and its facts row), not committed yet.
    correction = await asyncpg.connect(postgres_url)
    try:
        await correction.execute("BEGIN")
        await correction.execute("UPDATE source_items SET quantity = 0, status = "
                                 "'out_of_stock' WHERE sku = 'HOT'")
        await correction.execute("UPDATE stock_facts SET physical = 0, in_stock = FALSE, "
                                 "sellable = FALSE, floor = 0 WHERE sku = 'HOT'")
        placing = asyncio.create_task(replica.orders.place_order(
            "waits", CHANNEL, [RequestedLine("HOT", "1")]))
        await asyncio.sleep(0.5)
        assert not placing.done()  # its guarded update waits for the correction's row lock
        await correction.execute("COMMIT")
    finally:
        await correction.close()
    outcome = await asyncio.wait_for(placing, 10)
    assert not outcome.ok and refusal(outcome) == {CartIssueCode.OUT_OF_STOCK}
    assert query(postgres_url, "SELECT order_id FROM orders") == []
    assert reserved(postgres_url) == {"HOT": D(0)}


async def test_placements_racing_a_stock_correction_stay_consistent(
        open_postgres: OpenPostgres, postgres_url: str) -> None:
    """Orders committed before the correction stay (a correction may leave more reserved
    than the shelf holds); afterwards the totals, the orders and the answers agree, and
    nothing more is sold unless the new shelf has room."""
    replicas = await shop(open_postgres, {"HOT": 100})

    async def correct() -> None:
        await asyncio.sleep(0.05)
        problems = await replicas[2].admin.set_source_items([
            {"sku": "HOT", "source": "src", "quantity": 30, "status": "in_stock"}])
        assert problems.problems == []

    async with asyncio.timeout(120):
        outcomes, _ = await asyncio.gather(asyncio.gather(*(
            replicas[n % 2].orders.place_order(f"r{n}", CHANNEL, [RequestedLine("HOT", "1")])
            for n in range(150))), correct())
    placed = {o.order_id for o in outcomes if o.ok}
    assert all(refusal(o) == {CartIssueCode.INSUFFICIENT_STOCK} for o in outcomes if not o.ok)
    (total,) = reserved(postgres_url).values()
    assert total == -len(placed)
    assert {str(r[0]) for r in query(postgres_url, "SELECT order_id FROM orders")} == placed
    (answer,) = await replicas[0].storefront.availability(CHANNEL, ["HOT"])
    assert answer is not None
    assert answer.salable_qty == max(D(0), D(30) - len(placed))
    extra = await replicas[1].orders.place_order("extra", CHANNEL, [RequestedLine("HOT", "1")])
    assert extra.ok is (len(placed) < 30)


async def test_concurrent_shipments_from_one_shelf_all_count(
        open_postgres: OpenPostgres, postgres_url: str) -> None:
    replicas = await shop(open_postgres, {"A": 50})
    ids = [f"s{n}" for n in range(30)]
    for order_id in ids:
        assert (await replicas[0].orders.place_order(order_id, CHANNEL,
                                                     [RequestedLine("A", "1")])).ok
    async with asyncio.timeout(120):
        shipped = await asyncio.gather(*(replicas[n % 3].orders.ship_order(order_id)
                                         for n, order_id in enumerate(ids)))
    assert all(outcome.ok for outcome in shipped), [o.error for o in shipped if not o.ok]
    ((quantity,),) = query(postgres_url, "SELECT quantity FROM source_items WHERE sku = 'A'")
    assert Decimal(str(quantity)) == 50 - 30  # no shipment overwrote another's decrement
    assert reserved(postgres_url) == {"A": D(0)}
    (answer,) = await replicas[1].storefront.availability(CHANNEL, ["A"])
    assert answer is not None and answer.salable_qty == 20 and answer.physical == 20


async def test_a_double_cancellation_releases_once(open_postgres: OpenPostgres,
                                                   postgres_url: str) -> None:
    replicas = await shop(open_postgres, {"A": 5})
    assert (await replicas[0].orders.place_order("c", CHANNEL, [RequestedLine("A", "3")])).ok
    async with asyncio.timeout(60):
        outcomes = await asyncio.gather(*(replicas[n % 3].orders.cancel_order("c")
                                          for n in range(6)))
    assert all(outcome.ok for outcome in outcomes)
    assert reserved(postgres_url) == {"A": D(0)}
    assert len(query(postgres_url, "SELECT id FROM reservations")) == 2  # −3 and +3


async def test_racing_placements_record_the_crossing_once(open_postgres: OpenPostgres,
                                                          postgres_url: str) -> None:
    """However the placements of the last units interleave across replicas, the one that
    takes the last unit records OUT_OF_STOCK, once; a cancellation brings it back, once."""
    replicas = await shop(open_postgres, {"HOT": 20})
    store = replicas[0].store
    start = await store.stock_event_sequence()
    async with asyncio.timeout(120):
        outcomes = await asyncio.gather(*(
            replicas[n % 3].orders.place_order(f"e{n}", CHANNEL, [RequestedLine("HOT", "1")])
            for n in range(60)))
    placed = [o.order_id for o in outcomes if o.ok]
    assert len(placed) == 20
    events = await store.stock_events_since(start)
    # (never low: with the default notify quantity of 1, only 0 is below it)
    assert [(e.sku, e.kind.value, e.salable_qty) for e in events] == [
        ("HOT", "OUT_OF_STOCK", D(0))]
    async with asyncio.timeout(60):
        await asyncio.gather(*(replicas[n % 3].orders.cancel_order(order_id)
                               for n, order_id in enumerate(placed[:5])))
    back = await store.stock_events_since(events[-1].sequence)
    assert [(e.kind.value, e.salable_qty) for e in back] == [("BACK_IN_STOCK", D(1))]
    numbers = [e.sequence for e in [*events, *back]]
    assert numbers == list(range(start + 1, start + 1 + len(numbers)))  # commit order, no gap


async def test_a_placement_far_from_any_boundary_commits_in_its_one_write(
        open_postgres: OpenPostgres) -> None:
    """One read (the order id and the SKUs together) and one write that is its own
    transaction: two statements, two round trips. Only a placement that may cross a
    stock-state boundary (here: the last units) takes a transaction, in which the domain
    decides its stock event."""
    (replica,) = await shop(open_postgres, {"A": 10}, count=1)
    store = replica.store
    assert isinstance(store, PostgresStore)
    assert (await replica.orders.place_order("warm", CHANNEL, [RequestedLine("A", "1")])).ok
    start = await store.stock_event_sequence()
    before = store.statements  # (the topology is cached now)
    assert (await replica.orders.place_order("far", CHANNEL, [RequestedLine("A", "1")])).ok
    assert store.statements - before == 2
    before = store.statements
    assert (await replica.orders.place_order("last", CHANNEL, [RequestedLine("A", "8")])).ok
    assert store.statements - before > 2  # declined, then BEGIN … COMMIT
    assert [(e.sku, e.kind.value, e.salable_qty)
            for e in await store.stock_events_since(start)] == [("A", "OUT_OF_STOCK", D(0))]
