"""Cases derived from Magento's own MSI tests (see MAGENTO_CASES.md), run through the API.

Each case starts from the Magento test fixture (``catalog``), imports its ``config_patch`` on
top (merge), then asks ``availability``, ``validateCart`` or ``sourceSelection`` and compares
the fields the case names; an ``order_flow`` case runs its steps (orders, shipments, refunds,
admin writes and checks) in order.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_back_office import SELECTION
from tests.api.test_orders import CANCEL, ORDER, PLACE, REFUND, SHIP
from tests.api.test_storefront import AVAILABILITY, VALIDATE
from tests.support import TOKEN, Api

CASES_FILE = Path(__file__).with_name("magento_cases.json")
SUITE = json.loads(CASES_FILE.read_text())
CASES = SUITE["cases"]


def same(actual: Any, expected: Any) -> bool:
    """Numbers to 4 places; a nested object matches when every field it names matches."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and same(actual[k], v) for k, v in expected.items())
    if isinstance(expected, float | int) and not isinstance(expected, bool):
        return (isinstance(actual, float | int) and not isinstance(actual, bool)
                and math.isclose(actual, expected, abs_tol=1e-4))
    return bool(actual == expected)


def check_fields(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    for key, value in expected.items():
        assert key in actual, f"{where}: no field {key}"
        assert same(actual[key], value), f"{where}.{key}: expected {value!r}, got {actual[key]!r}"




@pytest.fixture
async def fixture_api(make_api: Callable[..., Any]) -> AsyncIterator[Api]:
    async with make_api() as api:
        await api.load(SUITE["catalog"])
        yield api


async def run_availability(api: Api, case: dict[str, Any]) -> None:
    data = await api.data(AVAILABILITY, {"channel": case["channel"], "skus": case["skus"],
                                         "group": case.get("customer_group")})
    by_sku = {entry["sku"]: entry for entry in data["availability"] if entry is not None}
    for sku, expected in case["expect"].items():
        if expected is None:
            assert sku not in by_sku, f"{sku}: expected null"
            continue
        assert sku in by_sku, f"{sku}: unexpectedly null"
        check_fields(by_sku[sku], expected, sku)


async def run_validate_cart(api: Api, case: dict[str, Any]) -> None:
    data = await api.data(VALIDATE, {"channel": case["channel"], "lines": case["lines"],
                                     "group": case.get("customer_group")})
    result = data["validateCart"]
    expect = case["expect"]
    if "ok" in expect:
        assert result["ok"] is expect["ok"], result
    for index, expected in enumerate(expect.get("lines", [])):
        line = result["lines"][index]
        codes = [e["code"] for e in line["errors"]]
        if "codes" in expected:
            if expected.get("exact", True):
                assert codes == expected["codes"], f"line {index}: {line}"
            else:
                for code in expected["codes"]:
                    assert code in codes, f"line {index}: {code} missing in {codes}"
        if "ok" in expected:
            assert line["ok"] is expected["ok"], f"line {index}: {line}"
        for message in expected.get("messages", []):
            assert any(message in e["message"] for e in line["errors"] + line["notices"]), \
                f"line {index}: {message!r} not in {line}"
        for key in ("backorderQty", "suggestedQty"):
            if key in expected:
                assert same(line[key], expected[key]), f"line {index}.{key}: {line}"
        if "notices" in expected:
            assert [n["code"] for n in line["notices"]] == expected["notices"], line


async def run_source_selection(api: Api, case: dict[str, Any]) -> None:
    data = await api.data(SELECTION, {"channel": case["channel"], "lines": case["lines"],
                                      "algorithm": case.get("algorithm", "PRIORITY"),
                                      "destination": case.get("destination")}, token=TOKEN)
    result = data["sourceSelection"]
    expect = case["expect"]
    if "shippable" in expect:
        assert result["shippable"] is expect["shippable"], result
    if "items" in expect:
        actual = result["items"]
        assert len(actual) == len(expect["items"]), actual
        for index, (got, wanted) in enumerate(zip(actual, expect["items"], strict=True)):
            check_fields(got, wanted, f"items[{index}]")


SOURCE_ITEMS = """query($sku: String!) { product(sku: $sku) {
  sourceItems { sourceCode quantity status } } }"""
SET_ITEMS = """mutation($items: [SourceItemInput!]!) { setSourceItems(items: $items)
  { ok errors { path message } } }"""
ORDER_OPS = {"place": PLACE, "ship": SHIP, "refund": REFUND, "cancel": CANCEL}


async def run_step(api: Api, step: dict[str, Any], where: str) -> None:
    """One step of an order flow: an order operation, an admin write, or a check."""
    op, expect = step["op"], step.get("expect")
    if op in ORDER_OPS:
        variables: dict[str, Any] = {"id": step["order_id"]}
        if op == "place":
            variables.update(channel=step["channel"], lines=step["lines"])
        elif op in ("ship", "refund"):
            variables["lines"] = step.get("lines")
        data = await api.data(ORDER_OPS[op], variables, token=TOKEN)
        result = next(iter(data.values()))
        check_fields(result, expect or {"ok": True}, where)
    elif op == "set_source_items":
        items = [{**item, "status": item["status"].upper()} for item in step["items"]]
        data = await api.data(SET_ITEMS, {"items": items}, token=TOKEN)
        assert data["setSourceItems"]["ok"], data
    elif op == "availability":
        await run_availability(api, step)
    elif op == "source_items":
        data = await api.data(SOURCE_ITEMS, {"sku": step["sku"]}, token=TOKEN)
        by_source = {i["sourceCode"]: i for i in data["product"]["sourceItems"]}
        for code, fields in expect.items():
            check_fields(by_source[code], fields, f"{where} {step['sku']}@{code}")
    elif op == "reservations":
        view = (await api.data(ORDER, {"id": step["order_id"]}, token=TOKEN))["order"]
        quantities = [r["quantity"] for r in view["reservations"]]
        assert quantities == expect, f"{where}: reservations {quantities}"
    else:
        raise AssertionError(f"{where}: unknown step {op!r}")


async def run_order_flow(api: Api, case: dict[str, Any]) -> None:
    for index, step in enumerate(case["steps"]):
        await run_step(api, step, f"steps[{index}] {step['op']}")


RUNNERS = {"availability": run_availability, "validate_cart": run_validate_cart,
           "source_selection": run_source_selection, "order_flow": run_order_flow}


@pytest.mark.parametrize("case", CASES, ids=[f"{n:03d}-{c['name'][:60]}"
                                             for n, c in enumerate(CASES)])
async def test_magento_case(fixture_api: Api, case: dict[str, Any]) -> None:
    patch = case.get("config_patch")
    if patch:
        await fixture_api.load({"format": "availability-catalog/1", **patch}, replace=False)
    await RUNNERS[case["kind"]](fixture_api, case)
