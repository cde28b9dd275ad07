"""The per-process hub: one change-feed poller, fanned out to every subscription.

Whatever the number of subscriptions, each poll is one change-feed read, and each round of
changes costs one storefront read per (channel, customer group) that watches a changed SKU
(in chunks of :data:`READ_CHUNK` SKUs). Subscriptions never block the hub: answers are handed
over into each :class:`Watch`, which keeps only the latest per SKU.

Ordering: a new watch is registered first, then answered by the next round, so its snapshot
is read after it started listening; every later round reads after the changes it reports, so
a subscriber's answers only move forward. When nobody watches, the hub does not poll at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.domain.availability import Availability
from gateway.domain.errors import DomainError
from gateway.services.live.feed import ChangeFeed
from gateway.services.live.watch import Watch

log = logging.getLogger("gateway.live")

#: SKUs per storefront read when a round has many to answer.
READ_CHUNK = 1000
#: Change-log pages read in one round before the hub stops counting and re-reads everything.
MAX_PAGES = 10
#: Longest wait between two rounds while the store keeps failing (seconds).
MAX_BACKOFF = 5.0


class AvailabilitySource(Protocol):
    """How the hub answers: the storefront's availability (one read for any SKU count)."""

    async def availability(self, channel: str, skus: Sequence[str],
                           customer_group: str | None = None, *,
                           provenance: bool = False) -> list[Availability | None]: ...


@dataclass(frozen=True, slots=True)
class HubStats:
    watches: int
    pending: int  # answers waiting in all watches
    max_pending: int  # in the fullest watch
    sequence: int | None  # the last change sequence the hub has answered


@dataclass(frozen=True, slots=True)
class _Changes:
    skus: frozenset[str]
    everything: bool
    sequence: int


class AvailabilityHub:
    """Polls ``feed`` every ``poll_interval`` seconds while someone watches (:meth:`run`)."""

    def __init__(self, feed: ChangeFeed, storefront: AvailabilitySource, *,
                 poll_interval: float, page_size: int = 1000) -> None:
        self.feed = feed
        self.storefront = storefront
        self.poll_interval = poll_interval
        self.page_size = page_size
        self._watches: set[Watch] = set()
        self._fresh: set[Watch] = set()  # registered, waiting for their first snapshot
        self._sequence: int | None = None
        self._wake = asyncio.Event()

    def stats(self) -> HubStats:
        pending = [watch.pending for watch in self._watches]
        return HubStats(watches=len(pending), pending=sum(pending),
                        max_pending=max(pending, default=0), sequence=self._sequence)

    @contextlib.asynccontextmanager
    async def watch(self, channel: str, skus: Sequence[str], customer_group: str | None = None,
                    *, provenance: bool = False) -> AsyncIterator[Watch]:
        """A registered watch of ``skus`` (duplicates ignored); its first answers are the
        current ones of every watched SKU (with every setting's origin when ``provenance``).
        Unregistered on exit."""
        watch = Watch(channel, tuple(dict.fromkeys(skus)), customer_group, provenance)
        self._watches.add(watch)
        self._fresh.add(watch)
        self._wake.set()
        try:
            yield watch
        finally:
            self._watches.discard(watch)
            self._fresh.discard(watch)

    async def run(self) -> None:
        """Serve watches until cancelled. A failed round (store busy or unavailable) is
        logged once per outage and retried with a growing delay; nothing is lost, since the
        sequence only moves on after a round succeeded."""
        failures = 0
        while True:
            if not self._watches:
                self._sequence = None  # nobody listens: nothing to poll
                self._wake.clear()
                await self._wake.wait()
            self._wake.clear()
            try:
                await self.round()
            except Exception:
                if not failures:  # once per outage, not every poll
                    log.exception("live availability: reading changes failed; retrying")
                failures += 1
            else:
                if failures:
                    log.warning("live availability: reading changes works again (after %d "
                                "failed rounds)", failures)
                failures = 0
            with contextlib.suppress(TimeoutError):  # a new watch wakes the hub at once
                await asyncio.wait_for(self._wake.wait(), self._delay(failures))

    def _delay(self, failures: int) -> float:
        """The poll interval; doubled per failed round while the store fails, up to
        :data:`MAX_BACKOFF`."""
        if not failures:
            return self.poll_interval
        return max(self.poll_interval,
                   min(self.poll_interval * 2.0 ** min(failures, 16), MAX_BACKOFF))

    async def round(self) -> None:
        """Read the changes since the last round and hand fresh answers to the watches that
        need them: new watches get all their SKUs, others the SKUs that changed."""
        fresh, self._fresh = self._fresh, set()
        try:
            if self._sequence is None:
                self._sequence = await self.feed.change_sequence()
            changes = await self._read_changes(self._sequence)
            by_group: defaultdict[tuple[str, str | None, bool], list[Watch]] = defaultdict(list)
            for watch in self._watches:
                by_group[watch.group].append(watch)
            for (channel, group, provenance), watches in by_group.items():
                await self._answer(channel, group, provenance, watches, fresh, changes)
        except BaseException:
            self._fresh |= fresh & self._watches  # still owed their snapshot
            raise
        self._sequence = changes.sequence

    async def _read_changes(self, after: int) -> _Changes:
        skus: set[str] = set()
        sequence = after
        for _ in range(MAX_PAGES):
            batch = await self.feed.changes_since(sequence, self.page_size)
            sequence = batch.sequence
            for sku, _stock in batch.keys:
                if sku is None:
                    return _Changes(frozenset(), True, await self._latest(sequence))
                skus.add(sku)
            if len(batch.keys) < self.page_size:
                return _Changes(frozenset(skus), False, sequence)
        # Too many changes to list: answer everything again, from the latest sequence on.
        return _Changes(frozenset(), True, await self._latest(sequence))

    async def _latest(self, at_least: int) -> int:
        return max(at_least, await self.feed.change_sequence())

    async def _answer(self, channel: str, group: str | None, provenance: bool,
                      watches: Iterable[Watch], fresh: set[Watch], changes: _Changes) -> None:
        wanted: dict[Watch, frozenset[str]] = {}
        for watch in watches:
            skus = (watch.sku_set if changes.everything or watch in fresh
                    else watch.sku_set & changes.skus)
            if skus:
                wanted[watch] = skus
        needed = sorted(set().union(*wanted.values())) if wanted else []
        answers: dict[str, Availability | None] = {}
        try:
            for start in range(0, len(needed), READ_CHUNK):
                chunk = needed[start:start + READ_CHUNK]
                found = await self.storefront.availability(channel, chunk, group,
                                                           provenance=provenance)
                answers.update(zip(chunk, found, strict=True))
        except DomainError as error:  # the channel is gone: its subscriptions end with why
            for watch in wanted:
                watch.fail(error)
            return
        for watch, skus in wanted.items():
            watch.offer({sku: answers[sku] for sku in skus})
