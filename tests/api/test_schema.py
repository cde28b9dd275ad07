"""The committed schema.graphql is exactly what the code exports."""

from __future__ import annotations

from pathlib import Path

from gateway.api.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == build_schema().as_str() + "\n", (
        "schema.graphql is stale: run `make schema` and commit it")


def test_contract_names_are_present() -> None:
    sdl = build_schema().as_str()
    for name in ("enum StockStatus", "enum Backorders", "enum SettingLevel",
                 "input CartLineInput", "type ProductAvailability", "type QuantityRule",
                 "type EffectiveSetting", "enum SourceSelectionAlgorithm",
                 "input DestinationInput", "type SourceSelection", "type SourceSelectionItem",
                 "type CartValidation", "type CartLineResult", "type CartIssue",
                 "type ImportResult", "type ImportProblem", "enum CartIssueCode"):
        assert name in sdl
