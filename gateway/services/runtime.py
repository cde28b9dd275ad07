"""A serving process's services over their store: opened once, wired, closed once.

The API's lifespan and the command line call :func:`open_services`; nothing above the
services layer opens a store or talks to one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from gateway.services import Services, build_services
from gateway.services.live import AvailabilityHub
from gateway.store import StoreSettings, open_store
from gateway.store.protocol import SharedStore

log = logging.getLogger("gateway")


@contextlib.asynccontextmanager
async def open_services(settings: StoreSettings, *, must_exist: bool = False
                        ) -> AsyncIterator[Services]:
    """The services over the database the settings name, opened (schema created or
    migrated) for the duration of the block and closed after it. ``must_exist``: a database
    that does not exist yet is refused (``gateway.store.DatabaseNotFound``), nothing created."""
    store = await open_store(settings, must_exist=must_exist)
    try:
        yield build_services(store)
    finally:
        await store.close()


def follow_other_writers(services: Services) -> None:
    """When other processes write the same database (PostgreSQL replicas), reload the cached
    topology in the background as soon as the store says the data version changed (the next
    request would reload it anyway: this only takes the reload off its path)."""
    store = services.store
    if isinstance(store, SharedStore):
        store.watch_data_version(_refresher(services))


def availability_hub(services: Services, poll_interval: float) -> AvailabilityHub:
    """The process's live availability hub: one change feed (the store's change log)."""
    return AvailabilityHub(services.store, services.storefront, poll_interval=poll_interval)


def _refresher(services: Services) -> Callable[[int], None]:
    running: set[asyncio.Task[object]] = set()

    async def reload() -> None:
        try:
            await services.reader.topology()
        except Exception as exc:  # the next request retries, and reports
            log.debug("topology refresh failed: %s", exc)

    def changed(version: int) -> None:
        if not running:
            task: asyncio.Task[object] = asyncio.ensure_future(reload())
            running.add(task)
            task.add_done_callback(running.discard)

    return changed
