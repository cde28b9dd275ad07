"""The ``availability-catalog/1`` file format: validation paths, canonical export, file I/O."""

from __future__ import annotations

import copy
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.catalog import (
    FORMAT,
    CatalogProblem,
    KnownEntities,
    child_path,
    dump_catalog,
    parse_catalog,
)
from gateway.catalog.io import (
    CatalogFileError,
    decode_catalog_bytes,
    encode_catalog,
    read_catalog_file,
    write_catalog_file,
)
from gateway.domain.errors import AdminErrorCode
from gateway.domain.options import OPTIONS, Backorders
from gateway.domain.quantity import to_number
from gateway.domain.records import (
    Catalog,
    ProductRecord,
    ReservationRecord,
    SourceItemRecord,
    SourceRecord,
)

DEMO_PATH = Path(__file__).resolve().parents[2] / "data" / "demo-catalog.json"
DELETE = object()


def base() -> dict[str, Any]:
    """A small valid document; each broken case changes one thing in it."""
    return {
        "format": FORMAT,
        "config": {"backorders": "allow"},
        "sources": [{"code": "s1", "name": "Source one"}],
        "stocks": [{"id": 1, "name": "Main", "channels": ["web"],
                    "sources": [{"code": "s1", "priority": 1}]}],
        "products": [{"sku": "A", "name": "Product A"}],
        "source_items": [{"sku": "A", "source": "s1", "quantity": 1, "status": "in_stock"}],
        "reservations": [{"sku": "A", "stock": 1, "quantity": -1}],
    }


def changed(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """``base()`` with the value at ``path`` set (or appended / deleted)."""
    doc = base()
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    last = path[-1]
    if value is DELETE:
        del target[last]
    elif isinstance(target, list) and last == len(target):
        target.append(value)
    else:
        target[last] = value
    return doc


def paths(document: object, known: KnownEntities | None = None) -> list[str]:
    catalog, problems = parse_catalog(document, known)
    assert (catalog is None) == bool(problems)
    return [p.path for p in problems]


def demo() -> dict[str, Any]:
    document = read_catalog_file(DEMO_PATH, progress=False)
    assert isinstance(document, dict)
    return document


def test_base_document_is_valid() -> None:
    catalog, problems = parse_catalog(base())
    assert problems == []
    assert catalog is not None
    assert catalog.config == {"backorders": Backorders.ALLOW}
    assert catalog.source_items[0].quantity == Decimal(1)


BROKEN: list[tuple[str, tuple[str | int, ...], object, list[str]]] = [
    # top level
    ("format missing", ("format",), DELETE, ["$.format"]),
    ("format null", ("format",), None, ["$.format"]),
    ("format other version", ("format",), "availability-catalog/2", ["$.format"]),
    ("unknown top-level key", ("version",), 1, ["$.version"]),
    ("key needing quotes", ("a b",), 1, ['$["a b"]']),
    ("section not an array", ("reservations",), {"sku": "A"}, ["$.reservations"]),
    ("undefined product: stock creates it", ("products",), {"sku": "A"}, ["$.products"]),
    ("config not an object", ("config",), [], ["$.config"]),
    # global config through the option registry
    ("unknown option", ("config", "colour"), "red", ["$.config.colour"]),
    ("bad backorders", ("config", "backorders"), "maybe", ["$.config.backorders"]),
    ("fractional global step", ("config", "qty_increments"), 0.5, ["$.config.qty_increments"]),
    ("zero global step", ("config", "qty_increments"), 0, ["$.config.qty_increments"]),
    ("string quantity in config", ("config", "min_qty"), "5", ["$.config.min_qty"]),
    ("option not global", ("config", "is_qty_decimal"), True, ["$.config.is_qty_decimal"]),
    ("bool as quantity", ("config", "max_sale_qty"), True, ["$.config.max_sale_qty"]),
    ("nan in config", ("config", "notify_stock_qty"), math.nan, ["$.config.notify_stock_qty"]),
    ("negative group minimum", ("config", "min_sale_qty_by_group"), {"wholesale": -1},
     ["$.config.min_sale_qty_by_group.wholesale"]),
    ("string group minimum", ("config", "min_sale_qty_by_group"), {"big buyers": "10"},
     ['$.config.min_sale_qty_by_group["big buyers"]']),
    ("five decimals", ("config", "min_qty"), 1.00001, ["$.config.min_qty"]),
    # sources
    ("source not an object", ("sources", 1), "s2", ["$.sources[1]"]),
    ("unknown source key", ("sources", 0, "colour"), "red", ["$.sources[0].colour"]),
    ("source name blank", ("sources", 0, "name"), "  ", ["$.sources[0].name"]),
    ("source code empty", ("sources", 1), {"code": "", "name": "x"}, ["$.sources[1].code"]),
    ("source code padded", ("sources", 1), {"code": "s2 ", "name": "x"}, ["$.sources[1].code"]),
    ("source code too long", ("sources", 1), {"code": "x" * 65, "name": "x"},
     ["$.sources[1].code"]),
    ("source code control char", ("sources", 1), {"code": "s\n2", "name": "x"},
     ["$.sources[1].code"]),
    ("source code number", ("sources", 1), {"code": 2, "name": "x"}, ["$.sources[1].code"]),
    ("duplicate source", ("sources", 1), {"code": "s1", "name": "again"}, ["$.sources[1].code"]),
    ("enabled not bool", ("sources", 0, "enabled"), "yes", ["$.sources[0].enabled"]),
    ("latitude too big", ("sources", 0), {"code": "s1", "name": "x", "latitude": 90.5,
                                          "longitude": 0}, ["$.sources[0].latitude"]),
    ("longitude too small", ("sources", 0), {"code": "s1", "name": "x", "latitude": 0,
                                             "longitude": -180.1}, ["$.sources[0].longitude"]),
    ("latitude infinite", ("sources", 0), {"code": "s1", "name": "x", "latitude": math.inf,
                                           "longitude": 0}, ["$.sources[0].latitude"]),
    ("latitude string", ("sources", 0), {"code": "s1", "name": "x", "latitude": "45",
                                         "longitude": 0}, ["$.sources[0].latitude"]),
    ("latitude alone", ("sources", 0, "latitude"), 45, ["$.sources[0]"]),
    ("country lowercase", ("sources", 0, "country"), "fr", ["$.sources[0].country"]),
    ("postcode too long", ("sources", 0, "postcode"), "1" * 33, ["$.sources[0].postcode"]),
    # stocks
    ("stock id bool", ("stocks", 1), {"id": True, "name": "B"}, ["$.stocks[1].id"]),
    ("stock id zero", ("stocks", 1), {"id": 0, "name": "B"}, ["$.stocks[1].id"]),
    ("stock id float", ("stocks", 1), {"id": 2.0, "name": "B"}, ["$.stocks[1].id"]),
    ("stock id string", ("stocks", 1), {"id": "2", "name": "B"}, ["$.stocks[1].id"]),
    ("stock id beyond Int", ("stocks", 1), {"id": 2**31, "name": "B"}, ["$.stocks[1].id"]),
    ("duplicate stock", ("stocks", 1), {"id": 1, "name": "B"}, ["$.stocks[1].id"]),
    ("channel in two stocks", ("stocks", 1), {"id": 2, "name": "B", "channels": ["web"]},
     ["$.stocks[1].channels[0]"]),
    ("channel twice in a stock", ("stocks", 0, "channels"), ["web", "web"],
     ["$.stocks[0].channels[1]"]),
    ("channel not a string", ("stocks", 0, "channels"), ["web", 7], ["$.stocks[0].channels[1]"]),
    ("channels not an array", ("stocks", 0, "channels"), "web", ["$.stocks[0].channels"]),
    ("link to unknown source", ("stocks", 0, "sources", 1), {"code": "nope", "priority": 2},
     ["$.stocks[0].sources[1].code"]),
    ("source linked twice", ("stocks", 0, "sources", 1), {"code": "s1", "priority": 2},
     ["$.stocks[0].sources[1].code"]),
    ("priority zero", ("stocks", 0, "sources", 0, "priority"), 0,
     ["$.stocks[0].sources[0].priority"]),
    ("priority fractional", ("stocks", 0, "sources", 0, "priority"), 1.5,
     ["$.stocks[0].sources[0].priority"]),
    ("priority bool", ("stocks", 0, "sources", 0, "priority"), True,
     ["$.stocks[0].sources[0].priority"]),
    ("priority missing", ("stocks", 0, "sources", 0, "priority"), DELETE,
     ["$.stocks[0].sources[0].priority"]),
    ("unknown link key", ("stocks", 0, "sources", 0, "weight"), 1,
     ["$.stocks[0].sources[0].weight"]),
    ("option not at stock level", ("stocks", 0, "config"), {"is_qty_decimal": True},
     ["$.stocks[0].config.is_qty_decimal"]),
    # products
    ("duplicate sku", ("products", 1), {"sku": "A"}, ["$.products[1].sku"]),
    ("sku missing", ("products", 1), {"name": "B"}, ["$.products[1].sku"]),
    ("product name number", ("products", 0, "name"), 5, ["$.products[0].name"]),
    ("global-only option on product", ("products", 0, "config"), {"auto_return": True},
     ["$.products[0].config.auto_return"]),
    ("stock-only option on product", ("products", 0, "config"), {"stock_threshold_qty": 2},
     ["$.products[0].config.stock_threshold_qty"]),
    ("product config array", ("products", 0, "config"), ["backorders"],
     ["$.products[0].config"]),
    # source items
    ("quantity nan", ("source_items", 0, "quantity"), math.nan, ["$.source_items[0].quantity"]),
    ("quantity infinite", ("source_items", 0, "quantity"), -math.inf,
     ["$.source_items[0].quantity"]),
    ("quantity five places", ("source_items", 0, "quantity"), 0.00001,
     ["$.source_items[0].quantity"]),
    ("quantity huge", ("source_items", 0, "quantity"), 10**12, ["$.source_items[0].quantity"]),
    ("quantity string", ("source_items", 0, "quantity"), "1", ["$.source_items[0].quantity"]),
    ("quantity bool", ("source_items", 0, "quantity"), False, ["$.source_items[0].quantity"]),
    ("quantity missing", ("source_items", 0, "quantity"), DELETE,
     ["$.source_items[0].quantity"]),
    ("bad status", ("source_items", 0, "status"), "available", ["$.source_items[0].status"]),
    ("item on unknown source", ("source_items", 0, "source"), "s9",
     ["$.source_items[0].source"]),
    ("duplicate source item", ("source_items", 1),
     {"sku": "A", "source": "s1", "quantity": 2, "status": "in_stock"}, ["$.source_items[1]"]),
    ("option not at source item level", ("source_items", 0, "config"), {"min_sale_qty": 2},
     ["$.source_items[0].config.min_sale_qty"]),
    # reservations
    ("zero reservation", ("reservations", 0, "quantity"), 0, ["$.reservations[0].quantity"]),
    ("reservation unknown stock", ("reservations", 0, "stock"), 99,
     ["$.reservations[0].stock"]),
    ("reservation stock string", ("reservations", 0, "stock"), "1",
     ["$.reservations[0].stock"]),
    ("reservation unknown sku", ("reservations", 0, "sku"), "Z", ["$.reservations[0].sku"]),
    ("metadata not an object", ("reservations", 0, "metadata"), "order 1",
     ["$.reservations[0].metadata"]),
    ("metadata value number", ("reservations", 0, "metadata"), {"order_id": 100001},
     ["$.reservations[0].metadata.order_id"]),
    ("metadata empty key", ("reservations", 0, "metadata"), {"": "x"},
     ['$.reservations[0].metadata[""]']),
]


@pytest.mark.parametrize(("path", "value", "expected"), [c[1:] for c in BROKEN],
                         ids=[c[0] for c in BROKEN])
def test_broken_document_reports_exact_paths(path: tuple[str | int, ...], value: object,
                                             expected: list[str]) -> None:
    assert paths(changed(path, value)) == expected


@pytest.mark.parametrize("document", [None, [], "catalog", 1, True],
                         ids=["null", "array", "string", "number", "bool"])
def test_document_must_be_an_object(document: object) -> None:
    catalog, problems = parse_catalog(document)
    assert catalog is None
    assert problems[0].path == "$"
    assert problems[0].message.startswith("must be an object")


def test_every_problem_is_reported_at_once_in_document_order() -> None:
    document = {
        "format": "availability-catalog/0",
        "extra": True,
        "config": {"backorders": "sometimes", "qty_increments": -1},
        "sources": [{"code": "s1", "name": "One", "latitude": 100, "longitude": 0},
                    {"code": "s1", "name": "Again", "enabled": 1}],
        "stocks": [{"id": 1, "name": "Main", "channels": ["web"],
                    "sources": [{"code": "s1", "priority": 0}, {"code": "s2", "priority": 2}]},
                   {"id": 1, "name": "Copy", "channels": ["web"]}],
        "products": [{"sku": "A", "config": {"min_sale_qty_by_group": {"wholesale": 0.12345}}},
                     {"sku": " A"}],
        "source_items": [{"sku": "A", "source": "s1", "quantity": math.inf, "status": "yes"},
                         {"sku": "B", "source": "s1", "quantity": -3, "status": "in_stock",
                          "colour": "red"}],
        "reservations": [{"sku": "A", "stock": 2, "quantity": 0, "metadata": {"n": 1}}],
    }
    assert paths(document) == [
        "$.extra",
        "$.format",
        "$.config.backorders",
        "$.config.qty_increments",
        "$.sources[0].latitude",
        "$.sources[1].code",
        "$.sources[1].enabled",
        "$.stocks[0].sources[0].priority",
        "$.stocks[0].sources[1].code",
        "$.stocks[1].id",
        "$.stocks[1].channels[0]",
        "$.products[0].config.min_sale_qty_by_group.wholesale",
        "$.products[1].sku",
        "$.source_items[0].quantity",
        "$.source_items[0].status",
        "$.source_items[1].colour",
        "$.reservations[0].stock",
        "$.reservations[0].quantity",
        "$.reservations[0].metadata.n",
    ]


def test_problem_messages_are_readable() -> None:
    _, problems = parse_catalog(changed(("sources", 1), {"code": "s1", "name": "again"}))
    assert problems == [CatalogProblem(
        "$.sources[1].code", "duplicate source code 's1' (first defined at $.sources[0].code)",
        AdminErrorCode.DUPLICATE)]
    assert str(problems[0]).startswith("$.sources[1].code: duplicate")
    _, problems = parse_catalog(changed(("reservations", 0, "sku"), "B"))
    assert "unknown sku 'B'" in problems[0].message


def test_accepted_edge_values() -> None:
    document = base()
    document["sources"][0].update(latitude=-90, longitude=180.0, country="FR", postcode="75001",
                                  enabled=False, code="x" * 64)
    document["stocks"][0]["sources"][0]["code"] = "x" * 64
    document["stocks"][0]["sources"][0]["priority"] = 2**31 - 1
    document["source_items"][0].update(source="x" * 64, quantity=-3.25, status="out_of_stock",
                                       config={"notify_stock_qty": -1, "is_qty_decimal": True,
                                               "backorders": "allow_notify"})
    document["products"][0]["config"] = {"qty_increments": 0.25, "min_sale_qty": 0}
    document["reservations"][0].update(quantity=99999999.9999, metadata={"order_id": "1"})
    catalog, problems = parse_catalog(document)
    assert problems == []
    assert catalog is not None
    assert catalog.sources[0].latitude == -90.0
    assert catalog.sources[0].enabled is False
    assert catalog.source_items[0].quantity == Decimal("-3.25")
    assert catalog.source_items[0].in_stock is False
    assert catalog.reservations[0].quantity == Decimal("99999999.9999")


def test_null_means_absent_for_optional_fields() -> None:
    document = base()
    document["config"] = None
    document["sources"][0].update(enabled=None, latitude=None, longitude=None, country=None)
    document["products"][0]["config"] = {"backorders": None}
    document["reservations"] = None
    catalog, problems = parse_catalog(document)
    assert problems == []
    assert catalog is not None
    assert catalog.config is None
    assert catalog.sources[0] == SourceRecord("s1", "Source one")
    assert catalog.products[0].config == {}
    assert catalog.reservations == ()


def test_every_section_is_optional() -> None:
    catalog, problems = parse_catalog({"format": FORMAT})
    assert problems == []
    assert catalog == Catalog()
    assert dump_catalog(Catalog()) == {"format": FORMAT}


def test_configs_use_the_level_of_their_place() -> None:
    document = base()
    document["config"] = {"auto_return": True, "stock_threshold_qty": 5}
    document["stocks"][0]["config"] = {"stock_threshold_qty": 3, "backorders": "no"}
    document["products"][0]["config"] = {"is_decimal_divided": True, "qty_increments": 0}
    document["source_items"][0]["config"] = {"is_qty_decimal": True}
    catalog, problems = parse_catalog(document)
    assert problems == []
    assert catalog is not None
    assert catalog.config == {"auto_return": True, "stock_threshold_qty": Decimal(5)}
    assert catalog.stocks[0].config["backorders"] is Backorders.NO
    assert catalog.products[0].config["qty_increments"] == Decimal(0)
    assert catalog.source_items[0].config == {"is_qty_decimal": True}


# -- references to what is already stored ----------------------------------------------------


def referencing_document() -> dict[str, Any]:
    return {
        "format": FORMAT,
        "stocks": [{"id": 2, "name": "New", "sources": [{"code": "old-src", "priority": 1}]}],
        "source_items": [{"sku": "OLD", "source": "old-src", "quantity": 3,
                          "status": "in_stock"}],
        "reservations": [{"sku": "OLD", "stock": 7, "quantity": -1}],
    }


def test_references_to_known_entities_are_accepted() -> None:
    known = KnownEntities(sources=frozenset({"old-src"}), skus=frozenset({"OLD"}),
                          stocks=frozenset({7}))
    catalog, problems = parse_catalog(referencing_document(), known)
    assert problems == []
    assert catalog is not None
    assert catalog.source_items[0] == SourceItemRecord("OLD", "old-src", Decimal(3), True)


def test_references_without_known_entities_are_refused() -> None:
    # OLD is not refused: its stock creates it (see the implicit-product test below).
    expected = ["$.stocks[0].sources[0].code", "$.source_items[0].source",
                "$.reservations[0].stock"]
    assert paths(referencing_document()) == expected
    assert paths(referencing_document(), KnownEntities()) == expected
    partly = KnownEntities(skus=frozenset({"OLD"}), stocks=frozenset({2}))
    assert paths(referencing_document(), partly) == [
        "$.stocks[0].sources[0].code", "$.source_items[0].source", "$.reservations[0].stock"]


def test_an_invalid_definition_still_satisfies_references() -> None:
    # The source's ``enabled`` is wrong, but its code is fine: only one problem, no cascade.
    assert paths(changed(("sources", 0, "enabled"), "no")) == ["$.sources[0].enabled"]


# -- export and canonical form ----------------------------------------------------------------


def test_dump_is_canonical() -> None:
    catalog = Catalog(
        config={"qty_increments": Decimal(2), "backorders": Backorders.ALLOW_NOTIFY,
                "min_sale_qty_by_group": {"z": Decimal("1.5"), "a": Decimal(2)}},
        sources=(SourceRecord("s1", "One", latitude=48.0, longitude=2.35),),
        products=(ProductRecord("A"),),
        source_items=(SourceItemRecord("A", "s1", Decimal("5.5000"), False),),
        reservations=(ReservationRecord("A", 3, Decimal(-2)),),
    )
    document = dump_catalog(catalog)
    assert document == {
        "format": FORMAT,
        "config": {"min_sale_qty_by_group": {"a": 2, "z": 1.5}, "backorders": "allow_notify",
                   "qty_increments": 2},
        "sources": [{"code": "s1", "name": "One", "enabled": True, "latitude": 48,
                     "longitude": 2.35}],
        "products": [{"sku": "A", "name": ""}],
        "source_items": [{"sku": "A", "source": "s1", "quantity": 5.5,
                          "status": "out_of_stock"}],
        "reservations": [{"sku": "A", "stock": 3, "quantity": -2}],
    }
    assert list(document) == ["format", "config", "sources", "products", "source_items",
                              "reservations"]
    config = document["config"]
    assert isinstance(config, dict)
    assert list(config) == ["min_sale_qty_by_group", "backorders", "qty_increments"]
    assert list(config["min_sale_qty_by_group"]) == ["a", "z"]
    assert isinstance(config["qty_increments"], int)


DESIGN_EXAMPLE: dict[str, Any] = {
    "format": "availability-catalog/1",
    "config": {"manage_stock": True, "backorders": "no", "min_qty": 0,
               "min_sale_qty": 1, "min_sale_qty_by_group": {"wholesale": 10},
               "max_sale_qty": 10000, "notify_stock_qty": 1, "enable_qty_increments": False,
               "qty_increments": 1, "stock_threshold_qty": 0, "auto_return": False},
    "sources": [{"code": "eu-1", "name": "EU warehouse 1", "enabled": True,
                 "latitude": 48.85, "longitude": 2.35, "country": "FR", "postcode": "75001"}],
    "stocks": [{"id": 10, "name": "EU stock", "channels": ["eu_website"],
                "sources": [{"code": "eu-1", "priority": 1}], "config": {}}],
    "products": [{"sku": "SKU-1", "name": "Shirt",
                  "config": {"backorders": "allow", "min_qty": -5}}],
    "source_items": [{"sku": "SKU-1", "source": "eu-1", "quantity": 5.5, "status": "in_stock",
                      "config": {"notify_stock_qty": 2}}],
    "reservations": [{"sku": "SKU-1", "stock": 10, "quantity": -2,
                      "metadata": {"event_type": "order_placed", "order_id": "100001"}}],
}


def test_design_example_parses_and_normalises() -> None:
    catalog, problems = parse_catalog(DESIGN_EXAMPLE)
    assert problems == []
    assert catalog is not None
    dumped = dump_catalog(catalog)
    # Same content; canonical form orders config keys by registry and drops empty configs.
    assert dumped["reservations"] == DESIGN_EXAMPLE["reservations"]
    assert dumped["source_items"] == DESIGN_EXAMPLE["source_items"]
    assert dumped["config"] == DESIGN_EXAMPLE["config"]
    assert dumped["stocks"] == [{k: v for k, v in DESIGN_EXAMPLE["stocks"][0].items()
                                 if k != "config"}]
    assert parse_catalog(dumped)[0] == catalog


def test_demo_catalog_parses_clean_and_is_canonical() -> None:
    document = demo()
    catalog, problems = parse_catalog(document)
    assert problems == []
    assert catalog is not None
    assert dump_catalog(catalog) == document
    # Byte for byte: the file is exactly what an export would write.
    assert encode_catalog(dump_catalog(catalog)) == DEMO_PATH.read_bytes()


def test_demo_catalog_exercises_the_whole_format() -> None:
    catalog, _ = parse_catalog(demo())
    assert catalog is not None and catalog.config is not None
    used = set(catalog.config) | {k for s in catalog.stocks for k in s.config} | {
        k for p in catalog.products for k in p.config} | {
        k for i in catalog.source_items for k in i.config}
    assert used == set(OPTIONS)
    assert catalog.config["backorders"] is Backorders.ALLOW
    assert catalog.config["min_qty"] == Decimal(-50)
    assert catalog.config["min_sale_qty_by_group"] == {"wholesale": Decimal(10)}
    assert any(p.config.get("backorders") is Backorders.NO and p.config.get("min_qty") == 10
               for p in catalog.products)
    assert {c for s in catalog.stocks for c in s.channels} == {"eu_website", "us_website"}
    assert any(not s.enabled for s in catalog.sources)
    assert 12 <= len(catalog.products) <= 20
    assert all(r.metadata.get("order_id") for r in catalog.reservations)
    # every level of docs/rules.md §3 is set somewhere
    assert any(s.config for s in catalog.stocks)
    assert any(i.config for i in catalog.source_items)
    assert any(i.quantity < 0 for i in catalog.source_items)


def test_round_trip_is_a_fixed_point() -> None:
    catalog, _ = parse_catalog(demo())
    assert catalog is not None
    once = dump_catalog(catalog)
    again, problems = parse_catalog(copy.deepcopy(once))
    assert problems == []
    assert again == catalog
    assert again is not None and dump_catalog(again) == once


def test_non_canonical_input_becomes_canonical() -> None:
    document = base()
    document["products"][0]["config"] = {"max_sale_qty": 10.0, "backorders": "no",
                                         "min_qty": 2}
    document["stocks"][0]["config"] = {}
    catalog, problems = parse_catalog(document)
    assert problems == [] and catalog is not None
    dumped = dump_catalog(catalog)
    products = dumped["products"]
    assert isinstance(products, list)
    assert products[0]["config"] == {"min_qty": 2, "max_sale_qty": 10, "backorders": "no"}
    assert list(products[0]["config"]) == ["min_qty", "max_sale_qty", "backorders"]
    stocks = dumped["stocks"]
    assert isinstance(stocks, list)
    assert "config" not in stocks[0]
    assert dump_catalog(parse_catalog(dumped)[0] or Catalog()) == dumped


def test_child_path_quotes_keys_that_are_not_names() -> None:
    assert child_path("$", "sources") == "$.sources"
    assert child_path("$.sources", 3) == "$.sources[3]"
    assert child_path("$.x", "big buyers") == '$.x["big buyers"]'
    assert child_path("$.x", "9lives") == '$.x["9lives"]'
    assert child_path("$.x", 'a"b') == '$.x["a\\"b"]'


# -- file I/O ---------------------------------------------------------------------------------


def test_write_then_read_is_stable(tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    document = demo()
    write_catalog_file(target, document)
    text = target.read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.startswith('{\n  "format": "availability-catalog/1",\n  "config": {\n    "')
    assert read_catalog_file(target) == document
    write_catalog_file(str(target), read_catalog_file(target))
    assert target.read_text(encoding="utf-8") == text
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_write_to_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    write_catalog_file("-", {"format": FORMAT})
    assert capsysbinary.readouterr().out == b'{\n  "format": "availability-catalog/1"\n}\n'


def test_write_to_missing_directory_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(CatalogFileError, match="cannot write"):
        write_catalog_file(tmp_path / "missing" / "x.json", {"format": FORMAT})


def test_malformed_json_reports_line_and_column(tmp_path: Path) -> None:
    target = tmp_path / "broken.json"
    target.write_bytes(b'{\n  "format": "availability-catalog/1",\n  "sources": [,]\n}\n')
    with pytest.raises(CatalogFileError) as caught:
        read_catalog_file(target, progress=True)
    assert (caught.value.line, caught.value.column) == (3, 15)
    assert str(caught.value).startswith(f"{target}:3:15: invalid JSON")


def test_invalid_utf8_is_located() -> None:
    with pytest.raises(CatalogFileError) as caught:
        decode_catalog_bytes(b'{"format":\n "caf\xe9"}', "x.json")
    assert (caught.value.line, caught.value.column) == (2, 6)
    assert "UTF-8" in caught.value.message


def test_byte_order_mark_is_accepted() -> None:
    assert decode_catalog_bytes(b'\xef\xbb\xbf{"format": "x"}') == {"format": "x"}


@pytest.mark.parametrize("data", [b"", b"{", b"[1,]", b'{"a": NaN}'])
def test_not_json_raises_catalog_file_error(data: bytes) -> None:
    with pytest.raises(CatalogFileError, match="invalid JSON"):
        decode_catalog_bytes(data)


def test_missing_file_raises_catalog_file_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogFileError, match="cannot read"):
        read_catalog_file(tmp_path / "nope.json", progress=True)


# -- properties: never raise -------------------------------------------------------------------

KEYS = sorted({"format", "config", "sources", "stocks", "products", "source_items",
               "reservations", "code", "name", "enabled", "latitude", "longitude", "country",
               "postcode", "id", "channels", "priority", "sku", "source", "quantity", "status",
               "stock", "metadata", *OPTIONS})
scalars = (st.none() | st.booleans() | st.integers() | st.floats()
           | st.sampled_from([FORMAT, "in_stock", "out_of_stock", "allow", "s1", "A", ""])
           | st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5),
    max_leaves=25,
)


def check_outcome(document: object) -> None:
    catalog, problems = parse_catalog(document)
    if catalog is None:
        assert problems
        assert all(isinstance(p, CatalogProblem) and p.path.startswith("$") for p in problems)
        return
    assert problems == []
    dumped = dump_catalog(catalog)
    again, problems = parse_catalog(orjson.loads(encode_catalog(dumped)))
    assert problems == []
    assert again is not None and dump_catalog(again) == dumped


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_json_never_raises(document: object) -> None:
    check_outcome(document)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({"format": st.just(FORMAT)},
                             optional={k: json_values for k in ("config", "sources", "stocks",
                                                                "products", "source_items",
                                                                "reservations")}))
def test_random_sections_never_raise(document: object) -> None:
    check_outcome(document)


DEMO = orjson.loads(DEMO_PATH.read_bytes())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_demo_never_raises(data: st.DataObject) -> None:
    document = copy.deepcopy(DEMO)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        parent: Any = document
        # walk down to a random container
        while True:
            children = list(parent.items()) if isinstance(parent, dict) else list(
                enumerate(parent))
            nested = [(k, v) for k, v in children if isinstance(v, dict | list) and v]
            if not nested or data.draw(st.booleans(), label="stop here"):
                break
            parent = data.draw(st.sampled_from(nested), label="descend")[1]
        keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
        operation = data.draw(st.sampled_from(["replace", "delete", "add"]), label="operation")
        if operation == "replace" and keys:
            parent[data.draw(st.sampled_from(keys))] = data.draw(json_values)
        elif operation == "delete" and keys:
            del parent[data.draw(st.sampled_from(keys))]
        elif isinstance(parent, dict):
            parent[data.draw(st.sampled_from(KEYS) | st.text(max_size=6))] = data.draw(
                json_values)
        else:
            parent.append(data.draw(json_values))
    check_outcome(document)


quantities = st.decimals(min_value=Decimal("-99999999.9999"), max_value=Decimal("99999999.9999"),
                         places=4, allow_nan=False, allow_infinity=False).map(to_number)
codes = st.text(st.characters(max_codepoint=0x2FF, exclude_categories=("Cc", "Cs", "Z")),
                min_size=1, max_size=64)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_valid_random_catalogs_round_trip(data: st.DataObject) -> None:
    sources = data.draw(st.lists(codes, min_size=1, max_size=4, unique=True))
    skus = data.draw(st.lists(codes, min_size=1, max_size=4, unique=True))
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(skus), st.sampled_from(sources)),
                               max_size=6, unique=True))
    document: dict[str, Any] = {
        "format": FORMAT,
        "config": {"min_qty": data.draw(quantities), "backorders": "allow_notify"},
        "sources": [{"code": code, "name": "S", "enabled": data.draw(st.booleans()),
                     "latitude": data.draw(st.floats(-90, 90)),
                     "longitude": data.draw(st.floats(-180, 180))} for code in sources],
        "stocks": [{"id": 1, "name": "Main", "channels": ["web"],
                    "sources": [{"code": code, "priority": index + 1}
                                for index, code in enumerate(sources)]}],
        "products": [{"sku": sku, "name": data.draw(st.text(max_size=10)),
                      "config": {"qty_increments": abs(data.draw(quantities))}} for sku in skus],
        "source_items": [{"sku": sku, "source": source, "quantity": data.draw(quantities),
                          "status": "in_stock"} for sku, source in pairs],
        "reservations": [{"sku": sku, "stock": 1, "quantity": q}
                         for sku in skus if (q := data.draw(quantities)) != 0],
    }
    catalog, problems = parse_catalog(document)
    assert problems == []
    assert catalog is not None
    check_outcome(document)


def test_progress_bar_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import gateway.catalog.io as catalog_io

    target = tmp_path / "big.json"
    write_catalog_file(target, demo())
    monkeypatch.setattr(catalog_io, "PROGRESS_THRESHOLD", 0)
    monkeypatch.setattr(catalog_io, "_CHUNK", 1024)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert read_catalog_file(target, progress=True) == demo()
    assert capsys.readouterr().out == ""


def test_optional_names_and_status_take_merchant_defaults() -> None:
    doc = changed(("sources", 0, "name"), DELETE)
    doc["stocks"].append({"id": 2})
    del doc["source_items"][0]["status"]
    catalog, problems = parse_catalog(doc)
    assert problems == [] and catalog is not None
    assert catalog.sources[0].name == catalog.sources[0].code
    assert catalog.stocks[-1].name == "Stock 2"
    assert catalog.source_items[0].in_stock is True


def test_stock_for_an_unknown_sku_creates_the_product_with_no_settings() -> None:
    document = {"format": FORMAT, "sources": [{"code": "s1"}],
                "source_items": [{"sku": "NEW", "source": "s1", "quantity": 2}],
                "reservations": [{"sku": "NEW", "stock": 1, "quantity": -1}],
                "stocks": [{"id": 1}]}
    catalog, problems = parse_catalog(document)
    assert problems == [] and catalog is not None
    assert catalog.products == (ProductRecord("NEW", "", {}),)
    # a SKU already stored is not re-created (its settings stay as they are)
    catalog, _ = parse_catalog(document, KnownEntities(skus=frozenset({"NEW"})))
    assert catalog is not None and catalog.products == ()
