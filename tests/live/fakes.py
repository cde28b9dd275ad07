"""A change feed driven by the test: the store's change log without the store."""

from __future__ import annotations

from gateway.domain.records import ChangeBatch, ChangedKey


class FakeFeed:
    """Keys appended by :meth:`changed`; counts the calls the hub makes."""

    def __init__(self) -> None:
        self.log: list[ChangedKey] = []
        self.calls = 0
        self.failing: Exception | None = None

    def changed(self, *skus: str | None, stock: int | None = None) -> None:
        self.log.extend((sku, stock) for sku in skus)

    async def change_sequence(self) -> int:
        self._call()
        return len(self.log)

    async def changes_since(self, after: int, limit: int) -> ChangeBatch:
        self._call()
        keys = self.log[after:after + limit]
        return ChangeBatch(sequence=after + len(keys), keys=tuple(keys))

    def _call(self) -> None:
        self.calls += 1
        if self.failing is not None:
            raise self.failing
