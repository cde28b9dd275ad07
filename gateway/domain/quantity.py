"""Decimal quantities with Magento's 4-place precision.

Every quantity that enters the domain goes through :func:`parse_quantity`, so the rest of the
code only ever sees finite :class:`~decimal.Decimal` values with at most four decimal places.
Comparisons use :func:`compare`, which behaves like PHP's ``bccomp($a, $b, 4)`` (both operands
truncated to four places), the way Magento MSI compares salable and requested quantities.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

PLACES = 4
STEP = Decimal("0.0001")
ZERO = Decimal(0)
# Magento stores quantities as DECIMAL(12,4): anything beyond that is a typo or an attack.
MAX_QUANTITY = Decimal("99999999.9999")


class QuantityError(ValueError):
    """A value that cannot be used as a quantity; the message says why.

    ``reason`` says it for people, after "The quantity" ("is negative", "has more than 4
    decimal places"), without repeating a value that may be huge or hostile.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_quantity(value: object, *, allow_negative: bool = True) -> Decimal:
    """Return ``value`` as a finite Decimal with at most 4 decimal places.

    Accepts int, float, str and Decimal (not bool). Floats are read through their shortest
    ``repr`` so ``0.1`` is exactly ``Decimal("0.1")``. Raises :class:`QuantityError` for NaN,
    infinities, more than four decimal places, magnitudes above :data:`MAX_QUANTITY`, and
    negative values when ``allow_negative`` is false.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise QuantityError(f"expected a number, got {type(value).__name__}", "is not a number")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise QuantityError(f"not a number: {value!r}", "is not a number") from None
    if not number.is_finite():
        raise QuantityError("must be a finite number", "is not a finite number")
    if number.copy_abs() > MAX_QUANTITY:  # copy_abs: no context, so 1e999999999 cannot overflow
        raise QuantityError(f"must be at most {MAX_QUANTITY} in magnitude",
                            f"is too large (at most {MAX_QUANTITY})")
    if number != number.quantize(STEP, rounding=ROUND_DOWN):
        raise QuantityError(f"has more than {PLACES} decimal places",
                            f"has more than {PLACES} decimal places")
    if not allow_negative and number < 0:
        raise QuantityError("must not be negative", "is negative")
    return number + ZERO  # folds -0 into 0


def truncate4(value: Decimal) -> Decimal:
    """``value`` truncated (not rounded) to four decimal places, as bcmath does."""
    return value.quantize(STEP, rounding=ROUND_DOWN)


def round4(value: Decimal) -> Decimal:
    """``value`` rounded half-up to four decimal places (for presentation of results)."""
    return value.quantize(STEP, rounding=ROUND_HALF_UP)


#: Truncating moves a value by less than one step, so values two steps apart keep their order.
_APART = 2 * STEP


def compare(left: Decimal, right: Decimal) -> int:
    """-1, 0 or 1 as ``left`` is below, equal to or above ``right`` at 4-place precision."""
    difference = left - right
    if difference >= _APART:  # decided without truncating (the common case)
        return 1
    if difference <= -_APART:
        return -1
    a, b = truncate4(left), truncate4(right)
    return (a > b) - (a < b)


def is_integral(value: Decimal) -> bool:
    """True when ``value`` has no fractional part."""
    return value == value.to_integral_value()


def format_qty(value: Decimal) -> str:
    """``value`` as people write it: ``2``, ``1.5``, ``0.0001`` (no exponent, no trailing 0)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def to_number(value: Decimal) -> int | float:
    """A JSON-friendly number: an int when integral, else a float of the 4-place value."""
    if is_integral(value):
        return int(value)
    return float(round4(value))
