"""What the hub needs from the store: a change log it can poll cheaply.

Every write appends, in its own transaction, the keys whose availability inputs it changed;
the log is numbered by a sequence that only grows. Any backend provides the same two calls
(SQLite is polled; PostgreSQL may add a NOTIFY hint to poll sooner).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

#: (sku, stock id): the stock is None when every stock of the SKU may have changed, the SKU is
#: None when everything may have changed (e.g. a configuration write).
ChangeKey = tuple[str | None, int | None]


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    sequence: int  # the sequence to ask from next time
    keys: tuple[ChangeKey, ...] = ()


@runtime_checkable
class ChangeFeed(Protocol):
    async def change_sequence(self) -> int:
        """The latest sequence (nothing is older than it to report)."""

    async def changes_since(self, after: int, limit: int) -> ChangeBatch:
        """Keys changed after sequence ``after``, at most ``limit`` of them, and the sequence
        they bring the reader to."""


class NoChanges:
    """The feed of a store that keeps no change log: subscriptions get their snapshot, then
    nothing (the app logs a warning when it has to use this)."""

    async def change_sequence(self) -> int:
        return 0

    async def changes_since(self, after: int, limit: int) -> ChangeBatch:
        return ChangeBatch(sequence=after)
