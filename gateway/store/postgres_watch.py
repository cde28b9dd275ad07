"""What other replicas wrote, noticed quickly: one listening connection per process.

The data-version row is the truth. ``NOTIFY`` is only a hint that makes a replica look at it
sooner: a configuration write notifies ``gateway_data_version`` in its transaction (delivered
only if it commits), and a process that committed change-log rows notifies
``gateway_changes`` right after (coalesced: at most one hint per :data:`HINT_DELAY`). A hint
can be lost (the listening connection drops, a proxy that does not forward notifications), so
the watcher also reads the version every :data:`POLL_INTERVAL` seconds, and at once after
every (re)connection. A change made on one replica is therefore seen on every other within
the poll interval even when no hint arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from gateway.store import postgres_sql as sql
from gateway.store.postgres_tx import VERSION_CHANNEL

log = logging.getLogger("gateway.store")

CHANGES_CHANNEL = "gateway_changes"
#: Seconds between two reads of the data version when no hint arrives.
POLL_INTERVAL = 1.0
#: Seconds a process waits before sending a change hint (commits in between share it).
HINT_DELAY = 0.02
#: Longest wait between two attempts to reconnect the listening connection.
MAX_RECONNECT_DELAY = 5.0

VersionCallback = Callable[[int], None]


class VersionWatch:
    """Keeps :attr:`version` current and calls subscribers when it changes; tells waiters
    when another process committed changes."""

    def __init__(self, dsn: str, poll_interval: float = POLL_INTERVAL, *,
                 listen: bool = True) -> None:
        self._dsn = dsn
        self.poll_interval = poll_interval
        self._listen = listen  # False: the poll alone (to prove the safety net in tests)
        self.version: int | None = None
        self._callbacks: list[VersionCallback] = []
        self._wake = asyncio.Event()
        self._changes = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Times the listening connection was (re)established.
        self.connections = 0

    def subscribe(self, callback: VersionCallback) -> None:
        """Call ``callback(version)`` (on the event loop) whenever the version changes."""
        self._callbacks.append(callback)
        self.start()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(),
                                                                name="gateway-version-watch")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_for_changes(self, within: float) -> bool:
        """Wait until a change hint arrives (or the watcher reconnected, when hints may have
        been missed); False after ``within`` seconds without one."""
        self.start()
        try:
            await asyncio.wait_for(self._changes.wait(), within)
        except TimeoutError:
            return False
        self._changes.clear()
        return True

    def changes_here(self) -> None:
        """This process committed changes: wake its own waiters at once."""
        self._changes.set()

    def _observe(self, version: int) -> None:
        if version != self.version:
            self.version = version
            for callback in list(self._callbacks):
                try:
                    callback(version)
                except Exception:  # a subscriber's bug must not stop the watch
                    log.exception("data version subscriber failed")

    def _on_version(self, conn: object, pid: int, channel: str, payload: object) -> None:
        self._wake.set()

    def _on_changes(self, conn: object, pid: int, channel: str, payload: object) -> None:
        self._changes.set()

    async def _run(self) -> None:
        failures = 0
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn, timeout=5.0, server_settings={
                    "application_name": "gateway-watch"})
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, ended=lost: ended.set())
                if self._listen:
                    await conn.add_listener(VERSION_CHANNEL, self._on_version)
                    await conn.add_listener(CHANGES_CHANNEL, self._on_changes)
                self.connections += 1
                if failures:
                    log.warning("watching the database again (after %d failed attempts)",
                                failures)
                failures = 0
                self._changes.set()  # hints may have been missed while disconnected
                while not lost.is_set():
                    self._wake.clear()
                    self._observe(int(await conn.fetchval(sql.DATA_VERSION)))
                    waiter = asyncio.ensure_future(self._wake.wait())
                    lost_waiter = asyncio.ensure_future(lost.wait())
                    try:
                        await asyncio.wait({waiter, lost_waiter}, timeout=self.poll_interval,
                                           return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        waiter.cancel()
                        lost_waiter.cancel()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failures:
                    log.warning("cannot watch the database for other replicas' changes (%s); "
                                "retrying", exc)
                failures += 1
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2.0))
            await asyncio.sleep(min(0.1 * 2 ** min(failures, 6), MAX_RECONNECT_DELAY))
