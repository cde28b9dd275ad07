"""One subscription's view of the hub: its SKUs and the answers waiting to be sent.

Pending answers are kept per SKU and overwritten by newer ones, so a subscriber that does not
keep up holds at most one answer per watched SKU (the latest) however many changes happen,
and gets a fresh snapshot of everything that changed when it catches up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from gateway.domain.availability import Availability


class Watch:
    """Created by :meth:`AvailabilityHub.watch`; read with :meth:`next_answers`."""

    def __init__(self, channel: str, skus: tuple[str, ...], customer_group: str | None,
                 provenance: bool = False) -> None:
        self.channel = channel
        self.skus = skus
        self.sku_set = frozenset(skus)
        self.customer_group = customer_group
        self.provenance = provenance  # its answers carry every setting's origin (explain)
        self._pending: dict[str, Availability | None] = {}
        self._failure: BaseException | None = None
        self._wake = asyncio.Event()

    @property
    def group(self) -> tuple[str, str | None, bool]:
        """Watches answered by the same read."""
        return self.channel, self.customer_group, self.provenance

    @property
    def pending(self) -> int:
        """Answers waiting to be taken (at most one per watched SKU)."""
        return len(self._pending)

    def offer(self, answers: Mapping[str, Availability | None]) -> None:
        """Newer answers for some watched SKUs replace older pending ones (hub side)."""
        self._pending.update(answers)
        if self._pending:
            self._wake.set()

    def fail(self, error: BaseException) -> None:
        """End the subscription with ``error`` at the subscriber's next read (hub side)."""
        self._failure = error
        self._wake.set()

    async def next_answers(self) -> dict[str, Availability | None]:
        """Wait for answers and take them all (None: the SKU is unknown). Raises the error
        the hub failed this watch with."""
        while True:
            if self._failure is not None:
                raise self._failure
            if self._pending:
                taken, self._pending = self._pending, {}
                return taken
            self._wake.clear()
            await self._wake.wait()
