"""What the hub needs from the store: its change log, polled cheaply.

Every write appends, in its own transaction, the (sku, stock) keys whose availability inputs it
changed; the log is numbered by a sequence that only grows. Every backend of the Store protocol
provides these two calls (SQLite is polled; PostgreSQL may add a NOTIFY hint to poll sooner),
so the hub works over any of them unchanged.
"""

from __future__ import annotations

from typing import Protocol

from gateway.domain.records import ChangeBatch


class ChangeFeed(Protocol):
    async def change_sequence(self) -> int:
        """The latest sequence (nothing is older than it to report)."""

    async def changes_since(self, after: int, limit: int) -> ChangeBatch:
        """Keys changed after sequence ``after``, at most ``limit`` of them, and the sequence
        they bring the reader to. A key with sku None: everything may have changed."""
