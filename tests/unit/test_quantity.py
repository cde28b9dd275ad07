"""docs/rules.md §1 (quantities: 4 places, bccomp-like tolerance) — gateway.domain.quantity."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.domain.quantity import (
    MAX_QUANTITY,
    QuantityError,
    compare,
    format_qty,
    is_integral,
    parse_quantity,
    round4,
    to_number,
    truncate4,
)

D = Decimal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(1, D(1), id="int"),
        pytest.param(0, D(0), id="zero"),
        pytest.param(0.1, D("0.1"), id="float-read-through-repr"),
        pytest.param(0.17, D("0.17"), id="float-0.17-exact"),
        pytest.param(8.5, D("8.5"), id="float-8.5"),
        pytest.param("1.5", D("1.5"), id="str"),
        pytest.param(" 2 ", D(2), id="str-with-spaces"),
        pytest.param("1.2345", D("1.2345"), id="four-places"),
        pytest.param("1.23450", D("1.2345"), id="trailing-zero-beyond-4-places-is-fine"),
        pytest.param(D("3.0000"), D(3), id="decimal"),
        pytest.param(-9.33, D("-9.33"), id="negative-allowed-by-default"),
        pytest.param(-0.0, D(0), id="negative-zero-folds"),
        pytest.param("1e2", D(100), id="exponent-string"),
        pytest.param(MAX_QUANTITY, MAX_QUANTITY, id="max-magnitude"),
        pytest.param(-MAX_QUANTITY, -MAX_QUANTITY, id="min-magnitude"),
    ],
)
def test_parse_quantity_accepts(raw: object, expected: Decimal) -> None:
    parsed = parse_quantity(raw)
    assert parsed == expected
    assert isinstance(parsed, Decimal)
    assert not parsed.is_signed() or parsed < 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="inf"),
        pytest.param(float("-inf"), id="-inf"),
        pytest.param("NaN", id="str-nan"),
        pytest.param("sNaN", id="str-snan"),
        pytest.param("Infinity", id="str-inf"),
        pytest.param(D("NaN"), id="decimal-nan"),
        pytest.param("abc", id="abc"),
        pytest.param("", id="empty"),
        pytest.param("1,5", id="comma"),
        pytest.param(1.00001, id="five-places"),
        pytest.param("0.00001", id="str-five-places"),
        pytest.param(1e-5, id="tiny-float"),
        pytest.param(1e12, id="absurdly-large-float"),
        pytest.param(10**12, id="absurdly-large-int"),
        pytest.param(10**400, id="huge-int"),
        pytest.param("1e999999", id="huge-exponent"),
        pytest.param("1e1000000", id="exponent-beyond-decimal-emax"),
        pytest.param("-1e1000000", id="negative-exponent-beyond-decimal-emax"),
        pytest.param(D("1e999999999"), id="decimal-exponent-beyond-emax"),
        pytest.param(MAX_QUANTITY + D("0.0001"), id="just-above-max"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="none"),
        pytest.param([1], id="list"),
        pytest.param({"qty": 1}, id="dict"),
    ],
)
def test_parse_quantity_rejects(raw: object) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(raw)


@pytest.mark.parametrize("raw", [pytest.param(-1, id="int"), pytest.param("-0.5", id="str")])
def test_parse_quantity_rejects_negative_when_asked(raw: object) -> None:
    with pytest.raises(QuantityError, match="negative"):
        parse_quantity(raw, allow_negative=False)
    assert parse_quantity(raw) < 0


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        pytest.param(D("0.17"), D("0.17"), 0, id="equal"),
        pytest.param(D("8.5") - D("9.33") + 1, D("0.17"), 0, id="salable-0.17-vs-0.17"),
        pytest.param(D("0.17"), D("0.18"), -1, id="below"),
        pytest.param(D("0.18"), D("0.17"), 1, id="above"),
        pytest.param(D("1.00009"), D(1), 0, id="fifth-place-truncated"),
        pytest.param(D("1.99999"), D("1.9999"), 0, id="truncated-not-rounded"),
        pytest.param(D("1.0001"), D(1), 1, id="fourth-place-counts"),
        pytest.param(D("-0.00001"), D(0), 0, id="tiny-negative-is-zero"),
        pytest.param(D("-0.0001"), D(0), -1, id="negative-fourth-place"),
        pytest.param(D("0.1") + D("0.2"), D("0.3"), 0, id="no-float-drift"),
        pytest.param(D(0), D(0), 0, id="zeros"),
    ],
)
def test_compare_like_bccomp_4(left: Decimal, right: Decimal, expected: int) -> None:
    assert compare(left, right) == expected
    assert compare(right, left) == -expected


@pytest.mark.parametrize(
    ("value", "truncated", "rounded"),
    [
        pytest.param(D("1.23456"), D("1.2345"), D("1.2346"), id="positive"),
        pytest.param(D("-1.23456"), D("-1.2345"), D("-1.2346"), id="negative"),
        pytest.param(D("2.00005"), D("2.0000"), D("2.0001"), id="half-up"),
    ],
)
def test_truncate_and_round(value: Decimal, truncated: Decimal, rounded: Decimal) -> None:
    assert truncate4(value) == truncated
    assert round4(value) == rounded


@pytest.mark.parametrize(
    ("value", "integral"),
    [
        pytest.param(D(2), True, id="int"),
        pytest.param(D("2.0000"), True, id="int-with-zeros"),
        pytest.param(D("2.5"), False, id="half"),
        pytest.param(D("0.0001"), False, id="tiny"),
    ],
)
def test_is_integral(value: Decimal, integral: bool) -> None:
    assert is_integral(value) is integral


@pytest.mark.parametrize(
    ("value", "text", "number"),
    [
        pytest.param(D(2), "2", 2, id="int"),
        pytest.param(D("2.5000"), "2.5", 2.5, id="trailing-zeros"),
        pytest.param(D("0.0001"), "0.0001", 0.0001, id="no-exponent"),
        pytest.param(D("100"), "100", 100, id="no-exponent-large"),
        pytest.param(D("-0"), "0", 0, id="negative-zero"),
    ],
)
def test_format_and_number(value: Decimal, text: str, number: float) -> None:
    assert format_qty(value) == text
    converted = to_number(value)
    assert converted == number
    assert isinstance(converted, int) is (text.lstrip("-").isdigit())
