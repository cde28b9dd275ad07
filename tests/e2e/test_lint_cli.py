"""`gateway lint` as a user runs it: findings one per line, exit codes 0 / 1 / 2."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_serve import run
from tests.servers import ROOT, import_catalog
from tests.support import SHOP


def test_demo_shop_has_the_deliberate_finding(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    assert run("import", str(ROOT / "data" / "demo-catalog.json"), "--db", str(db),
               "--quiet").returncode == 0
    result = run("lint", "--db", str(db))
    assert result.returncode == 1, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert all(len(row) == 6 for row in rows)
    assert ["CORD-ACCESSORY-5MM", "eu_website", "FRACTIONAL_MIN_WITHOUT_DECIMALS"] in [
        row[:3] for row in rows]
    assert "finding(s)" in result.stderr and "16 SKU(s) checked" in result.stderr
    us = run("lint", "--channel", "us_website", "--db", str(db))
    assert us.returncode == 1
    assert {row.split("\t")[1] for row in us.stdout.splitlines()} == {"us_website"}
    assert "CORD-ACCESSORY-5MM" not in us.stdout  # not sold in the US


def test_a_clean_shop_exits_0(tmp_path: Path) -> None:
    clean = {**SHOP, "products": [p for p in SHOP["products"] if p["sku"] != "PACK"],
             "source_items": [i for i in SHOP["source_items"] if i["sku"] != "PACK"]}
    db = import_catalog(tmp_path, clean)
    result = run("lint", "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "" and "0 finding(s)" in result.stderr


def test_errors_exit_2(tmp_path: Path) -> None:
    db = import_catalog(tmp_path, SHOP)
    unknown = run("lint", "--channel", "mars", "--db", str(db))
    assert unknown.returncode == 2 and "mars" in unknown.stderr
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    broken = run("lint", "--db", str(garbage))
    assert broken.returncode == 2 and "error" in broken.stderr
    assert "Traceback" not in broken.stderr
