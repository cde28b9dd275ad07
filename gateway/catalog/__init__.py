"""The catalog file format ``availability-catalog/1``: validation with exact paths, and export.

:func:`parse_catalog` turns a decoded JSON document into a :class:`~gateway.domain.records.Catalog`
or reports *every* problem it finds, each with a JSONPath-like location such as
``$.source_items[3].quantity`` or ``$.products[0].config.backorders``. :func:`dump_catalog` is its
inverse and produces the canonical document (the format is described in the README):

- keys in a fixed order: ``format``, ``config``, ``sources``, ``stocks``, ``products``,
  ``source_items``, ``reservations``; the global ``config`` is present exactly when the catalog
  has one; other sections are omitted when empty;
- a source always has ``code``, ``name``, ``enabled``, then ``latitude``, ``longitude``,
  ``country``, ``postcode`` when set; a stock always has ``id``, ``name``, ``channels``,
  ``sources``; a product always has ``sku`` and ``name``; nested ``config`` objects and
  reservation ``metadata`` are omitted when empty;
- config keys in registry order (:data:`~gateway.domain.options.OPTIONS`), customer groups
  sorted; numbers are ints when integral, else floats.

Parsing is pure (no I/O); file reading and writing live in :mod:`gateway.catalog.io`.
"""

from gateway.catalog.dump import dump_catalog, dump_config, dump_stock
from gateway.catalog.parse import parse_catalog
from gateway.catalog.problems import FORMAT, CatalogProblem, KnownEntities, child_path

__all__ = ["FORMAT", "CatalogProblem", "KnownEntities", "child_path", "dump_catalog",
           "dump_config", "dump_stock", "parse_catalog"]
