"""Catalog use cases: import a document (validated, one transaction) and export the store."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.catalog import CatalogProblem, KnownEntities, dump_catalog, parse_catalog
from gateway.domain.records import Catalog
from gateway.services.reader import InventoryReader


class CatalogService:
    """``availability-catalog/1`` documents in and out of the store."""

    def __init__(self, reader: InventoryReader) -> None:
        self.reader = reader
        self.store = reader.store

    async def import_document(self, document: object, *,
                              replace: bool = False) -> list[CatalogProblem]:
        """Validate and import a catalog document in one transaction.

        Returns every problem found (and writes nothing) or an empty list once committed.
        """
        return (await self.import_parsed(document, replace=replace))[1]

    async def import_parsed(self, document: object, *, replace: bool = False
                            ) -> tuple[Catalog | None, list[CatalogProblem]]:
        """:meth:`import_document`, also answering what was imported (the parsed catalog,
        products created from source items included) when it was."""
        known = None
        if not replace:
            topology = await self.reader.topology()
            skus = _referenced_skus(document)
            known = KnownEntities(
                sources=frozenset(topology.sources),
                skus=frozenset(await self.store.known_skus(skus)) if skus else frozenset(),
                stocks=frozenset(topology.stocks))
        catalog, problems = parse_catalog(document, known)
        if catalog is None:
            return None, problems
        await self.store.import_catalog(catalog, replace=replace)
        return catalog, []

    async def export_document(self) -> dict[str, object]:
        """The whole store as an ``availability-catalog/1`` document."""
        return dump_catalog(await self.store.export_catalog())


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
