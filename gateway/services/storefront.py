"""Storefront use cases: availability, cart validation and source selection.

Each loads what it needs through the shared :class:`~gateway.services.reader.InventoryReader`
(one statement for any number of SKUs while the topology cache is current) and lets the domain
decide. No SQL and no GraphQL here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.domain.availability import Availability
from gateway.domain.cart import LineResult, RequestedLine, check_cart, parse_lines
from gateway.domain.facts import availability_of
from gateway.domain.sourcing import Algorithm, Destination, Selection, select_sources
from gateway.services.reader import InventoryReader


@dataclass(frozen=True)
class CartValidation:
    lines: tuple[LineResult, ...]

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.lines)


class StorefrontService:
    """What a storefront asks: availability and cart checks (public, no side effects)."""

    def __init__(self, reader: InventoryReader) -> None:
        self.reader = reader

    async def availability(self, channel: str, skus: Sequence[str],
                           customer_group: str | None = None, *,
                           provenance: bool = False) -> list[Availability | None]:
        """One entry per requested SKU, same order; None for an unknown SKU.

        Read from the precomputed availability facts; with ``provenance`` (for ``explain``)
        through the inheritance engine instead, so every setting says where it came from. Both
        give the same answers. Raises ChannelNotFound. Costs one statement while the topology
        cache is current.
        """
        if provenance:
            _, assessed = await self.reader.assess(channel, skus, customer_group)
            return [assessed[sku] for sku in skus]
        _, data = await self.reader.facts(channel, skus)
        found = data.facts
        return [availability_of(f, customer_group) if (f := found.get(sku)) is not None
                else None for sku in skus]

    async def validate_cart(self, channel: str, lines: Sequence[RequestedLine],
                            customer_group: str | None = None) -> CartValidation:
        """The same check order placement uses (docs/rules.md §6); no side effects."""
        _, assessed = await self.reader.assess(channel, [line.sku for line in lines],
                                               customer_group)
        return CartValidation(check_cart(lines, assessed))

    async def source_selection(self, channel: str, lines: Sequence[RequestedLine],
                               algorithm: Algorithm = Algorithm.PRIORITY,
                               destination: Destination | None = None) -> Selection:
        """Which sources would ship ``lines`` (docs/rules.md §9). Raises DomainError on bad
        input."""
        parsed = parse_lines(lines)
        loaded = await self.reader.load(channel, list(dict.fromkeys(sku for sku, _ in parsed)))
        sources, shelves = loaded.selection_inputs()
        return select_sources(parsed, sources, shelves, algorithm, destination)
