"""Catalog use cases: import a document (validated, one transaction) and export the store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from gateway.catalog import CatalogProblem, KnownEntities, dump_catalog, parse_catalog
from gateway.domain.errors import AdminErrorCode
from gateway.domain.records import Catalog, Topology
from gateway.services.reader import InventoryReader
from gateway.store.protocol import Transaction


class _Reads(Protocol):
    """What validation reads through: the store (before a write) or a transaction."""

    async def load_topology(self) -> Topology: ...
    async def known_skus(self, skus: list[str]) -> set[str]: ...


class CatalogService:
    """``availability-catalog/1`` documents in and out of the store."""

    def __init__(self, reader: InventoryReader) -> None:
        self.reader = reader
        self.store = reader.store

    async def import_document(self, document: object, *,
                              replace: bool = False) -> list[CatalogProblem]:
        """Validate and import a catalog document in one transaction.

        Returns every problem found (and writes nothing) or an empty list once committed.
        The document is validated before the write transaction, so a large file does not hold
        other writers back while it is checked; inside the transaction only its references to
        stored entities are checked again (one may have been deleted meanwhile).
        """
        return (await self.import_parsed(document, replace=replace))[1]

    async def import_parsed(self, document: object, *, replace: bool = False
                            ) -> tuple[Catalog | None, list[CatalogProblem]]:
        """:meth:`import_document`, also answering what was imported (the parsed catalog,
        products created from source items included) when it was."""
        known = None if replace else await _known(self.store, document)
        catalog, problems = parse_catalog(document, known)
        if catalog is None:
            return None, problems
        async with self.store.transaction() as tx:
            if not replace:
                problems = await _still_known(tx, catalog)
                if problems:
                    return None, problems
            await tx.import_catalog(catalog, replace=replace)
        return catalog, []

    async def import_in(self, tx: Transaction, document: object) -> list[CatalogProblem]:
        """Validate and merge ``document`` inside ``tx``: what it refers to is read in the same
        transaction as the write (a read-merge-write cannot lose a concurrent change)."""
        catalog, problems = parse_catalog(document, await _known(tx, document))
        if catalog is None:
            return problems
        await tx.import_catalog(catalog, replace=False)
        return []

    async def export_document(self) -> dict[str, object]:
        """The whole store as an ``availability-catalog/1`` document."""
        return dump_catalog(await self.store.export_catalog())


async def _known(reads: _Reads, document: object) -> KnownEntities:
    topology = await reads.load_topology()
    skus = _referenced_skus(document)
    return KnownEntities(sources=frozenset(topology.sources),
                         skus=frozenset(await reads.known_skus(skus)) if skus else frozenset(),
                         stocks=frozenset(topology.stocks))


async def _still_known(tx: Transaction, catalog: Catalog) -> list[CatalogProblem]:
    """Problems for stored entities the validated catalog relied on that are gone now."""
    defined_sources = {s.code for s in catalog.sources}
    defined_stocks = {s.id for s in catalog.stocks}
    defined_skus = {p.sku for p in catalog.products}
    sources = {link.source_code for stock in catalog.stocks for link in stock.sources}
    sources |= {item.source for item in catalog.source_items}
    stocks = {r.stock for r in catalog.reservations}
    skus = {r.sku for r in catalog.reservations}
    sources, stocks, skus = (sources - defined_sources, stocks - defined_stocks,
                             skus - defined_skus)
    if not (sources or stocks or skus):
        return []
    topology = await tx.load_topology()
    present = await tx.known_skus(sorted(skus)) if skus else set()
    gone = ([f"source {code!r}" for code in sorted(sources - set(topology.sources))]
            + [f"stock {sid}" for sid in sorted(stocks - set(topology.stocks))]
            + [f"sku {sku!r}" for sku in sorted(skus - present)])
    return [CatalogProblem("$", f"{what} was deleted while this document was being "
                                "validated: nothing was imported; check it and retry",
                           AdminErrorCode.NOT_FOUND) for what in gone]


def _referenced_skus(document: object) -> list[str]:
    """SKUs a document refers to (best effort: validation reports malformed entries)."""
    if not isinstance(document, Mapping):
        return []
    skus: list[str] = []
    for section in ("source_items", "reservations"):
        entries = document.get(section)
        if isinstance(entries, list):
            skus.extend(e["sku"] for e in entries
                        if isinstance(e, Mapping) and isinstance(e.get("sku"), str))
    return list(dict.fromkeys(skus))
