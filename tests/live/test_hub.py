"""The hub: snapshots, change fan-out, coalescing for slow subscribers, one read per group.

Driven round by round (``hub.round()``) with a fake change feed over the real storefront
service; the last tests run the hub's own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

import pytest

from gateway.domain.availability import Availability
from gateway.services.live import AvailabilityHub
from gateway.services.live.hub import MAX_PAGES
from gateway.services.reader import ChannelNotFound
from gateway.store.errors import StoreBusy
from tests.live.fakes import FakeFeed
from tests.support import TOKEN, Api

SET_ITEMS = ("mutation($items: [SourceItemInput!]!) { setSourceItems(items: $items) "
             "{ ok errors { path message } } }")


class CountingStorefront:
    """The real storefront service, counting the reads the hub asks for."""

    def __init__(self, api: Api) -> None:
        self.storefront = api.services.storefront
        self.reads: list[tuple[str, tuple[str, ...], str | None]] = []

    async def availability(self, channel: str, skus: Sequence[str],
                           customer_group: str | None = None, *,
                           provenance: bool = False) -> list[Availability | None]:
        self.reads.append((channel, tuple(skus), customer_group))
        return await self.storefront.availability(channel, skus, customer_group,
                                                  provenance=provenance)


@pytest.fixture
def feed() -> FakeFeed:
    return FakeFeed()


@pytest.fixture
def source(api: Api) -> CountingStorefront:
    return CountingStorefront(api)


@pytest.fixture
def hub(feed: FakeFeed, source: CountingStorefront) -> AvailabilityHub:
    return AvailabilityHub(feed, source, poll_interval=0.01)


async def set_shirt(api: Api, quantity: float) -> None:
    data = await api.data(SET_ITEMS, {"items": [
        {"sku": "SHIRT", "source": "eu-1", "quantity": quantity, "status": "IN_STOCK"}]},
        token=TOKEN)
    assert data["setSourceItems"]["ok"], data


def salable(answer: Availability | None) -> Decimal | None:
    assert answer is not None
    return answer.salable_qty


async def test_a_new_watch_first_gets_every_sku_s_current_answer(hub: AvailabilityHub) -> None:
    async with hub.watch("eu_website", ["SHIRT", "NOPE", "PACK", "SHIRT"]) as watch:
        assert watch.skus == ("SHIRT", "NOPE", "PACK")
        await hub.round()
        answers = await watch.next_answers()
        assert set(answers) == {"SHIRT", "NOPE", "PACK"}
        assert answers["NOPE"] is None
        assert salable(answers["SHIRT"]) == 7 and salable(answers["PACK"]) == 60
        assert watch.pending == 0


async def test_only_changed_watched_skus_are_answered(api: Api, hub: AvailabilityHub,
                                                      feed: FakeFeed) -> None:
    async with hub.watch("eu_website", ["SHIRT"]) as shirt, \
            hub.watch("eu_website", ["PACK", "FABRIC"]) as others:
        await hub.round()
        await shirt.next_answers()
        await others.next_answers()
        feed.changed("PACK")
        await hub.round()
        assert shirt.pending == 0 and others.pending == 1
        await set_shirt(api, 20)
        feed.changed("SHIRT", stock=10)
        await hub.round()
        assert others.pending == 1  # still only PACK
        assert salable((await shirt.next_answers())["SHIRT"]) == Decimal("21.5")  # 20 + 3 - 1.5


async def test_a_subscriber_that_does_not_read_holds_one_answer_per_sku(
        api: Api, hub: AvailabilityHub, feed: FakeFeed) -> None:
    async with hub.watch("eu_website", ["SHIRT", "PACK"]) as slow:
        for quantity in range(10, 60):
            await set_shirt(api, quantity)
            feed.changed("SHIRT", "PACK", "FABRIC")
            await hub.round()
            stats = hub.stats()
            assert stats.max_pending <= 2 and stats.pending <= 2, stats
        answers = await slow.next_answers()  # caught up: the latest answers, nothing older
        assert salable(answers["SHIRT"]) == Decimal("60.5")  # the last write: 59 + 3 - 1.5
        assert set(answers) == {"SHIRT", "PACK"}
        assert slow.pending == 0


async def test_one_read_per_channel_and_group_whatever_the_number_of_watches(
        hub: AvailabilityHub, feed: FakeFeed, source: CountingStorefront) -> None:
    async with contextlib.AsyncExitStack() as stack:
        for n in range(20):
            await stack.enter_async_context(hub.watch("eu_website", ["SHIRT", f"X-{n}"]))
        for _ in range(5):
            await stack.enter_async_context(hub.watch("eu_website", ["SHIRT"], "wholesale"))
        await stack.enter_async_context(hub.watch("us_website", ["PACK"]))
        await hub.round()  # the snapshots: one read per group
        assert sorted(((channel, group or "") for channel, _, group in source.reads)) == [
            ("eu_website", ""), ("eu_website", "wholesale"), ("us_website", "")]
        source.reads.clear()
        feed.changed("SHIRT", "SHIRT", "X-3")
        await hub.round()
        assert set(source.reads) == {("eu_website", ("SHIRT", "X-3"), None),
                                     ("eu_website", ("SHIRT",), "wholesale")}
        assert len(source.reads) == 2
        source.reads.clear()
        await hub.round()  # nothing changed: nothing read
        assert source.reads == []


async def test_everything_changed_answers_every_watched_sku(hub: AvailabilityHub,
                                                            feed: FakeFeed) -> None:
    async with hub.watch("eu_website", ["SHIRT", "PACK", "NOPE"]) as watch:
        await hub.round()
        await watch.next_answers()
        feed.changed("FABRIC", None)  # e.g. a configuration write
        await hub.round()
        assert set(await watch.next_answers()) == {"SHIRT", "PACK", "NOPE"}


async def test_more_changes_than_the_hub_lists_answer_everything(
        hub: AvailabilityHub, feed: FakeFeed) -> None:
    hub.page_size = 2
    async with hub.watch("eu_website", ["SHIRT", "PACK"]) as watch:
        await hub.round()
        await watch.next_answers()
        feed.changed(*(f"OTHER-{n}" for n in range(2 * MAX_PAGES + 1)))
        await hub.round()
        assert set(await watch.next_answers()) == {"SHIRT", "PACK"}
        assert hub.stats().sequence == len(feed.log)


async def test_a_failed_round_loses_nothing(api: Api, hub: AvailabilityHub,
                                            feed: FakeFeed) -> None:
    async with hub.watch("eu_website", ["SHIRT"]) as watch:
        feed.failing = StoreBusy("database is locked")
        with pytest.raises(StoreBusy):
            await hub.round()
        feed.failing = None
        await hub.round()
        assert salable((await watch.next_answers())["SHIRT"]) == 7  # the snapshot still came
        await set_shirt(api, 1)
        feed.changed("SHIRT")
        feed.failing = StoreBusy("database is locked")
        with pytest.raises(StoreBusy):
            await hub.round()
        assert watch.pending == 0
        feed.failing = None
        await hub.round()
        assert salable((await watch.next_answers())["SHIRT"]) == Decimal("2.5")  # 1 + 3 - 1.5


async def test_an_unknown_channel_ends_the_watch_with_its_error(hub: AvailabilityHub) -> None:
    async with hub.watch("mars", ["SHIRT"]) as lost, hub.watch("eu_website", ["SHIRT"]) as ok:
        await hub.round()
        with pytest.raises(ChannelNotFound):
            await lost.next_answers()
        assert salable((await ok.next_answers())["SHIRT"]) == 7


@contextlib.asynccontextmanager
async def running(hub: AvailabilityHub) -> AsyncIterator[None]:
    task = asyncio.create_task(hub.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_loop_polls_only_while_someone_watches(hub: AvailabilityHub,
                                                         feed: FakeFeed) -> None:
    async with running(hub):
        await asyncio.sleep(0.1)
        assert feed.calls == 0
        async with hub.watch("eu_website", ["SHIRT"]) as watch:
            answers = await asyncio.wait_for(watch.next_answers(), 5)
            assert salable(answers["SHIRT"]) == 7
            feed.changed("SHIRT")
            await asyncio.sleep(0.1)
            assert feed.calls > 3  # polled every 10 ms
            assert set(await asyncio.wait_for(watch.next_answers(), 5)) == {"SHIRT"}
        await asyncio.sleep(0.05)
        calls = feed.calls
        await asyncio.sleep(0.1)
        assert feed.calls == calls and hub.stats().watches == 0


async def test_the_loop_backs_off_while_the_store_fails_and_recovers(
        hub: AvailabilityHub, feed: FakeFeed, caplog: pytest.LogCaptureFixture) -> None:
    feed.failing = StoreBusy("database is locked")
    async with running(hub), hub.watch("eu_website", ["SHIRT"]) as watch:
        await asyncio.sleep(0.5)
        # 10 ms doubling: about 6 rounds in 0.5 s instead of 50, and one error logged.
        assert 3 <= feed.calls <= 10, feed.calls
        assert [r.levelname for r in caplog.records if r.name == "gateway.live"] == ["ERROR"]
        feed.failing = None
        answers = await asyncio.wait_for(watch.next_answers(), 10)
        assert salable(answers["SHIRT"]) == 7
        assert "works again" in caplog.records[-1].getMessage()
