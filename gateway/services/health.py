"""What the probes ask: is the store answering, can it take writes."""

from __future__ import annotations

from gateway.services.reader import InventoryReader


class HealthService:
    """Liveness and readiness of the process's store (``/healthz``, ``/readyz``)."""

    def __init__(self, reader: InventoryReader) -> None:
        self.reader = reader

    async def data_version(self) -> int:
        """The store's current data version (one statement); raises StoreError when the
        database cannot answer."""
        return await self.reader.store.data_version()

    async def check_ready(self) -> None:
        """Return when the store can serve reads and take writes now; otherwise raise a
        StoreError saying why."""
        await self.reader.store.check_ready()
