"""The option registry: every inventory option, its type, default, levels and validation.

One :class:`Option` entry per option of docs/rules.md §2; adding an option is adding one entry to
:data:`OPTIONS`. Everything that reads or writes option values (the catalog file, admin
mutations, the inheritance engine, ``explain``) goes through this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from gateway.domain.errors import AdminErrorCode
from gateway.domain.quantity import (
    QuantityError,
    format_qty,
    is_integral,
    parse_quantity,
    to_number,
)


class Level(StrEnum):
    """Where an effective value came from, most specific first."""

    SOURCE_ITEM = "SOURCE_ITEM"
    PRODUCT = "PRODUCT"
    STOCK = "STOCK"
    GLOBAL = "GLOBAL"
    DEFAULT = "DEFAULT"


class Backorders(StrEnum):
    """Magento's backorders modes; ``rank`` orders them from strict to permissive."""

    NO = "no"
    ALLOW = "allow"
    ALLOW_NOTIFY = "allow_notify"

    @property
    def rank(self) -> int:
        return {"no": 0, "allow": 1, "allow_notify": 2}[self.value]

    @property
    def enabled(self) -> bool:
        return self is not Backorders.NO


class Kind(StrEnum):
    BOOL = "bool"
    QTY = "qty"
    BACKORDERS = "backorders"
    GROUP_QTY = "group_qty"  # customer group -> quantity


OptionValue = bool | Decimal | Backorders | Mapping[str, Decimal]


class OptionError(ValueError):
    """A value refused by the registry; ``message`` is meant for the person who sent it."""

    def __init__(self, message: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


Check = Callable[[Decimal, Level], str | None]


@dataclass(frozen=True)
class Option:
    """One inventory option: how to read it, where it may be set, what it defaults to."""

    name: str
    kind: Kind
    default: OptionValue
    levels: frozenset[Level]
    description: str
    check: Check | None = None

    def parse(self, raw: object, level: Level) -> OptionValue:
        """Validate ``raw`` for ``level`` and return the typed value, or raise OptionError."""
        if level not in self.levels:
            allowed = ", ".join(sorted(lv.value.lower() for lv in self.levels))
            raise OptionError(f"{self.name} cannot be set at {level.value.lower()} level "
                              f"(allowed: {allowed})")
        if self.kind is Kind.BOOL:
            if not isinstance(raw, bool):
                raise OptionError(f"{self.name} must be true or false")
            return raw
        if self.kind is Kind.BACKORDERS:
            try:
                return Backorders(raw if isinstance(raw, str) else "")
            except ValueError:
                raise OptionError(f"{self.name} must be one of: no, allow, allow_notify") from None
        if self.kind is Kind.GROUP_QTY:
            if not isinstance(raw, Mapping):
                raise OptionError(f"{self.name} must be an object of customer group -> quantity")
            parsed: dict[str, Decimal] = {}
            for group, qty in raw.items():
                if not isinstance(group, str) or not group.strip() or len(group) > 64:
                    raise OptionError(f"{self.name}: customer group names must be 1-64 characters")
                parsed[group] = self._qty(qty, level, (group,))
            return parsed
        return self._qty(raw, level, ())

    def _qty(self, raw: object, level: Level, path: tuple[str, ...]) -> Decimal:
        try:
            value = parse_quantity(raw)
        except QuantityError as exc:
            raise OptionError(f"{self.name} {exc}", path) from None
        if self.check is not None and (problem := self.check(value, level)) is not None:
            raise OptionError(f"{self.name} {problem}", path)
        return value


def _non_negative(value: Decimal, level: Level) -> str | None:
    return "must be 0 or more" if value < 0 else None


def _qty_increments(value: Decimal, level: Level) -> str | None:
    # Magento refuses a non-integer or non-positive step in the configuration, but a product may
    # carry 0 (check off) or a fractional step (used only while decimals are allowed).
    if level is Level.PRODUCT:
        return "must be 0 or more" if value < 0 else None
    if value <= 0:
        return "must be greater than 0"
    if not is_integral(value):
        return "must be a whole number in the configuration"
    return None


_G = Level.GLOBAL
_S = Level.STOCK
_P = Level.PRODUCT
_I = Level.SOURCE_ITEM
_CONFIG = frozenset({_P, _S, _G})


def _option(name: str, kind: Kind, default: OptionValue, levels: frozenset[Level],
            description: str, check: Check | None = None) -> Option:
    return Option(name, kind, default, levels, description, check)


OPTIONS: dict[str, Option] = {o.name: o for o in (
    _option("manage_stock", Kind.BOOL, True, _CONFIG,
            "Inventory is tracked; when off the product is always salable if assigned."),
    _option("stock_threshold_qty", Kind.QTY, Decimal(0), frozenset({_S, _G}),
            "'Only X left' threshold; 0 switches the message off.", _non_negative),
    _option("min_qty", Kind.QTY, Decimal(0), _CONFIG,
            "Out-of-Stock Threshold: safety stock, or a backorder cap when negative."),
    _option("min_sale_qty", Kind.QTY, Decimal(1), _CONFIG,
            "Minimum quantity in the cart (0 = no minimum).", _non_negative),
    _option("min_sale_qty_by_group", Kind.GROUP_QTY, {}, _CONFIG,
            "Minimum quantity in the cart per customer group (exact group match).",
            _non_negative),
    _option("max_sale_qty", Kind.QTY, Decimal(10000), _CONFIG,
            "Maximum quantity in the cart (0 = no maximum).", _non_negative),
    _option("is_qty_decimal", Kind.BOOL, False, frozenset({_I, _P}),
            "Fractional quantities are allowed."),
    _option("is_decimal_divided", Kind.BOOL, False, frozenset({_P}),
            "Parts may ship in separate boxes (only while decimals are allowed)."),
    _option("backorders", Kind.BACKORDERS, Backorders.NO, frozenset({_I, _P, _S, _G}),
            "Backorders: no, allow, or allow_notify (allow and tell the customer)."),
    _option("notify_stock_qty", Kind.QTY, Decimal(1), frozenset({_I, _P, _S, _G}),
            "Notify for Quantity Below: the low-stock level."),
    _option("enable_qty_increments", Kind.BOOL, False, _CONFIG,
            "Quantities must be a multiple of qty_increments."),
    _option("qty_increments", Kind.QTY, Decimal(1), _CONFIG,
            "The quantity step when increments are enabled.", _qty_increments),
    _option("auto_return", Kind.BOOL, False, frozenset({_G}),
            "Return credit-memo items to stock (stored only: refunds always return stock)."),
    _option("can_subtract", Kind.BOOL, True, frozenset({_G}),
            "Decrease Stock When Order is Placed: when off, placing an order reserves nothing."),
    _option("can_back_in_stock", Kind.BOOL, True, frozenset({_G}),
            "Set Items' Status to be In Stock When Order is Cancelled: when off, quantity "
            "returned to a source never puts it back in stock."),
    _option("show_out_of_stock", Kind.BOOL, False, frozenset({_S, _G}),
            "Display Out of Stock Products: a hint for listings, reported by availability."),
)}

#: Options whose stock-level value aggregates the source items (docs/rules.md §3).
SOURCE_LEVEL_OPTIONS = tuple(n for n, o in OPTIONS.items() if _I in o.levels)


@dataclass(frozen=True)
class Problem:
    """One refused value: where it is (path below the config object) and why."""

    path: tuple[str, ...]
    message: str
    code: AdminErrorCode = AdminErrorCode.INVALID


def parse_config(raw: object, level: Level) -> tuple[dict[str, OptionValue], list[Problem]]:
    """Validate a whole config object for ``level``.

    Returns the typed values that are set (absent or null keys mean "use the level below") and
    every problem found; callers must not store anything when the problem list is non-empty.
    """
    if raw is None:
        return {}, []
    if not isinstance(raw, Mapping):
        return {}, [Problem((), "must be an object of option name -> value")]
    values: dict[str, OptionValue] = {}
    problems: list[Problem] = []
    for key, value in raw.items():
        option = OPTIONS.get(key) if isinstance(key, str) else None
        if option is None:
            problems.append(Problem((str(key),), f"unknown option {key!r}",
                                    AdminErrorCode.UNKNOWN_FIELD))
            continue
        if value is None:
            continue
        try:
            values[key] = option.parse(value, level)
        except OptionError as exc:
            problems.append(Problem((key, *exc.path), exc.message))
    return values, problems


def dump_value(value: OptionValue) -> object:
    """The JSON form of a typed option value (the inverse of :meth:`Option.parse`)."""


    if isinstance(value, bool):
        return value
    if isinstance(value, Backorders):
        return value.value
    if isinstance(value, Decimal):
        return to_number(value)
    return {group: to_number(qty) for group, qty in value.items()}


def display_value(value: OptionValue) -> str:
    """A short human form used by ``explain`` (``true``, ``allow_notify``, ``2.5``)."""


    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Backorders):
        return value.value
    if isinstance(value, Decimal):
        return format_qty(value)
    return ", ".join(f"{g}={format_qty(q)}" for g, q in sorted(value.items())) or "(none)"
