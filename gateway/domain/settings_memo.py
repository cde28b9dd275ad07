"""Memoised effective settings: the engine's answer reused while its inputs are the same.

Resolving every option with its provenance is a fifth of a storefront read, and most SKUs of a
shop share their configuration. The key holds everything :func:`resolve` reads: the topology
version and stock (hence the global and stock configs), the customer group, the product's
config and each source item's code, config and whether it counts or contributes. Configs are
compared by identity: the store hands out one shared object per distinct stored config, and
the key keeps a reference to it, so an identity can never be reused by another object while
its entry lives.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.availability import Availability, evaluate
from gateway.domain.inheritance import EffectiveSettings, resolve
from gateway.domain.model import StockSnapshot

MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True, eq=False)
class Same:
    """Hashes and compares an object by identity (keeping it alive)."""

    obj: object

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.obj is self.obj


class SettingsCache:
    """Effective settings per distinct input; bounded (emptied when full)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: dict[tuple[object, ...], EffectiveSettings] = {}
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    def settings(self, snapshot: StockSnapshot, topology_version: int,
                 customer_group: str | None) -> EffectiveSettings:
        """Exactly what ``resolve(snapshot.chain, snapshot.source_items, customer_group)``
        returns, computed once per distinct input."""
        key = (topology_version, snapshot.stock_id, customer_group, Same(snapshot.chain.product),
               Same(snapshot.chain.stock), Same(snapshot.chain.global_config),
               tuple((i.source_code, Same(i.config), i.counts, i.contributes)
                     for i in snapshot.source_items))
        found = self._entries.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        if len(self._entries) >= self._max:
            self._entries.clear()
        found = self._entries[key] = resolve(snapshot.chain, snapshot.source_items,
                                             customer_group)
        return found

    def assess(self, snapshot: StockSnapshot, topology_version: int,
               customer_group: str | None) -> Availability:
        """Availability of the snapshot with memoised settings."""
        return evaluate(snapshot, self.settings(snapshot, topology_version, customer_group))
