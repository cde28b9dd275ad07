"""The lint service over a real SQLite store (docs/rules.md §10): every stock or one channel,
chunked scans, the per-configuration memo, the progress callback, and the CLI's rendering."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.domain.lint import LintCode
from gateway.lint_output import finding_line, render
from gateway.services import Services, build_services
from gateway.services import lint as lint_module
from gateway.store.postgres import PostgresStore
from gateway.store.protocol import Store
from gateway.store.sqlite import SqliteStore
from tests.postgres_support import start_server

C = LintCode

CATALOG: dict[str, Any] = {
    "format": "availability-catalog/1",
    "sources": [{"code": "s1", "name": "One"}, {"code": "s2", "name": "Two"},
                {"code": "off", "name": "Off", "enabled": False}],
    "stocks": [
        {"id": 1, "name": "Main", "channels": ["web", "app"],
         "sources": [{"code": "s1", "priority": 1}, {"code": "off", "priority": 2}]},
        {"id": 2, "name": "Other", "channels": ["other"], "sources": [{"code": "s2",
                                                                       "priority": 1}]},
    ],
    # Twelve SKUs share one bad configuration (min above max); one is fine.
    "products": [{"sku": f"BAD-{n:02d}", "name": "Bad", "config": {"min_sale_qty": 5,
                                                                    "max_sale_qty": 2}}
                 for n in range(12)] + [{"sku": "GOOD", "name": "Good"},
                                        {"sku": "SHUT", "name": "Only on a disabled source"}],
    "source_items": [{"sku": f"BAD-{n:02d}", "source": "s1" if n % 2 else "s2", "quantity": n,
                      "status": "in_stock"} for n in range(12)]
    + [{"sku": "GOOD", "source": "s1", "quantity": 3, "status": "in_stock"},
       {"sku": "SHUT", "source": "off", "quantity": 3, "status": "in_stock"}],
}


@pytest.fixture(params=["sqlite", "postgresql"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    server = start_server() if request.param == "postgresql" else None
    database = server.create_database() if server else str(tmp_path / "lint.sqlite3")
    store: Store = PostgresStore(database, pool_size=2) if server else SqliteStore(database)
    await store.open()
    built = build_services(store)
    assert await built.catalog.import_document(CATALOG) == []
    yield built
    await store.close()
    if server:
        server.drop_database(database)


async def test_report_of_every_stock_in_stock_then_sku_order(services: Services,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.setattr(lint_module, "CHUNK", 5)  # several chunks, and a SKU split across them
    calls: list[tuple[int, int]] = []
    report = await services.lint.report(progress=lambda done, total: calls.append((done, total)))
    keys = [(f.stock_id, f.sku, f.code) for f in report.findings]
    assert keys == sorted(keys)
    assert {(f.sku, f.stock_id) for f in report.findings if f.code is C.MIN_ABOVE_MAX} == {
        (f"BAD-{n:02d}", 1 if n % 2 else 2) for n in range(12)}
    assert [(f.sku, f.stock_id) for f in report.findings if f.code is C.NO_ENABLED_SOURCE] == [
        ("SHUT", 1)]
    assert report.skus_checked == 14
    assert calls == [(5, 14), (10, 14), (14, 14)]
    assert report.channels(1) == ("app", "web")


async def test_report_of_one_channel(services: Services) -> None:
    report = await services.lint.report("other")
    assert {f.stock_id for f in report.findings} == {2}
    assert len(report.findings) == 6  # the even BAD-nn are on s2


async def test_memo_never_mixes_up_skus_or_stale_settings(services: Services) -> None:
    first = await services.lint.findings("web", limit=100)
    assert [f.sku for f in first] == [f"BAD-{n:02d}" for n in range(1, 12, 2)] + ["SHUT"]
    # Fixing the shared configuration of one SKU changes only that SKU's findings.
    assert (await services.admin.set_product_config("BAD-01", {"max_sale_qty": 9})).problems == []
    second = await services.lint.findings("web", limit=100)
    assert [f.sku for f in second] == [f"BAD-{n:02d}" for n in range(3, 12, 2)] + ["SHUT"]


async def test_rendering_one_line_per_finding_and_a_table_on_a_terminal(
        services: Services, capsys: pytest.CaptureFixture[str]) -> None:
    report = await services.lint.report("web")
    line = finding_line(report, report.findings[0], None)
    fields = line.split("\t")
    assert fields[:3] == ["BAD-01", "app,web", "MIN_ABOVE_MAX"]
    assert fields[4] == "min_sale_qty=5 (PRODUCT); max_sale_qty=2 (PRODUCT)"
    assert fields[5].startswith("Lower min_sale_qty to at most 2")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    plain, terminal = io.StringIO(), Terminal()
    render(report, "web", plain)
    render(report, "web", terminal)
    assert len(plain.getvalue().splitlines()) == len(report.findings) == 7
    table = terminal.getvalue()
    assert table.startswith("┏") and "BAD-01" in table and "MIN_ABOVE_MAX" in table
    assert "\t" not in terminal.getvalue()
    assert "7 finding(s)" in capsys.readouterr().err


async def test_memo_tells_apart_skus_that_differ_only_by_an_item_status(
        services: Services) -> None:
    # Same sources, same configs; on the second SKU the item that allows backorders (with
    # notification, uncapped) is out of stock, so it does not speak for the stock (§3).
    items = [{"sku": sku, "source": "s1", "quantity": 0, "status": status,
              "config": {"backorders": "allow_notify"}} for sku, status in
             (("NOTIFY-A", "in_stock"), ("NOTIFY-B", "out_of_stock"))]
    items += [{"sku": sku, "source": "s3", "quantity": 5, "status": "in_stock"}
              for sku in ("NOTIFY-A", "NOTIFY-B")]
    stock = {**CATALOG["stocks"][0], "sources": [*CATALOG["stocks"][0]["sources"],
                                                 {"code": "s3", "priority": 3}]}
    document = {"format": "availability-catalog/1", "sources": [{"code": "s3", "name": "3"}],
                "stocks": [stock],
                "products": [{"sku": "NOTIFY-A", "name": "A"}, {"sku": "NOTIFY-B", "name": "B"}],
                "source_items": items}
    assert await services.catalog.import_document(document) == []
    found = await services.lint.findings("web", ["NOTIFY-A", "NOTIFY-B"], limit=100)
    assert [(f.sku, f.code) for f in found] == [("NOTIFY-A", C.UNCAPPED_BACKORDER_NOTICE)]
