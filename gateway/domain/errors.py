"""Codes and messages of everything the domain can refuse.

Messages are Magento's own wording where Magento has one, so storefronts that already show
Magento's texts keep showing the same sentences.
"""

from __future__ import annotations

from enum import StrEnum


class CartIssueCode(StrEnum):
    """Why a requested quantity is refused (docs/rules.md §6), plus the BACKORDERED notice."""

    INVALID_QUANTITY = "INVALID_QUANTITY"
    PRODUCT_NOT_FOUND = "PRODUCT_NOT_FOUND"
    NOT_ASSIGNED_TO_STOCK = "NOT_ASSIGNED_TO_STOCK"
    MIN_SALE_QTY = "MIN_SALE_QTY"
    MAX_SALE_QTY = "MAX_SALE_QTY"
    QTY_INCREMENTS = "QTY_INCREMENTS"
    DECIMAL_NOT_ALLOWED = "DECIMAL_NOT_ALLOWED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    BACKORDERED = "BACKORDERED"


MESSAGES: dict[CartIssueCode, str] = {
    CartIssueCode.INVALID_QUANTITY: "Enter a valid quantity.",
    CartIssueCode.PRODUCT_NOT_FOUND: "The product that was requested doesn't exist.",
    CartIssueCode.NOT_ASSIGNED_TO_STOCK: "The requested sku is not assigned to given stock.",
    CartIssueCode.MIN_SALE_QTY: "The fewest you may purchase is %1.",
    CartIssueCode.MAX_SALE_QTY: (
        "The requested qty exceeds the maximum qty allowed in shopping cart"
    ),
    CartIssueCode.QTY_INCREMENTS: "You can buy this product only in quantities of %1 at a time.",
    CartIssueCode.DECIMAL_NOT_ALLOWED: "You cannot use decimal quantity for this product.",
    CartIssueCode.OUT_OF_STOCK: "There are no source items with the in stock status",
    CartIssueCode.INSUFFICIENT_STOCK: "Not enough items for sale",
    CartIssueCode.BACKORDERED: (
        "We don't have as many quantity as you requested, "
        "but we'll back order the remaining %1."
    ),
}

SHIPMENT_SHORTFALL = "Not all of your products are available in the requested quantity."


def message(code: CartIssueCode, argument: str | None = None) -> str:
    """Magento's message for ``code`` with ``%1`` replaced by ``argument``."""
    text = MESSAGES[code]
    return text.replace("%1", argument) if argument is not None else text


class OrderErrorCode(StrEnum):
    """Why an order operation was refused as a whole (``OrderResult.error.code``)."""

    INVALID_ORDER_ID = "INVALID_ORDER_ID"
    EMPTY_ORDER = "EMPTY_ORDER"
    LINES_REFUSED = "LINES_REFUSED"  # placeOrder: lines failed the cart check (lines[].errors)
    ORDER_ID_CONFLICT = "ORDER_ID_CONFLICT"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    SKU_NOT_IN_ORDER = "SKU_NOT_IN_ORDER"
    QTY_EXCEEDS_ORDER = "QTY_EXCEEDS_ORDER"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    SHIPMENT_SHORTFALL = "SHIPMENT_SHORTFALL"
    NOTHING_TO_SHIP = "NOTHING_TO_SHIP"
    NOTHING_TO_REFUND = "NOTHING_TO_REFUND"


class LookupErrorCode(StrEnum):
    """A request named something that does not exist (GraphQL ``extensions.code``)."""

    CHANNEL_NOT_FOUND = "CHANNEL_NOT_FOUND"
    SOURCE_NOT_FOUND = "SOURCE_NOT_FOUND"


class AdminErrorCode(StrEnum):
    """Why part of a back-office write (a catalog document or an admin mutation) was refused."""

    INVALID = "INVALID"  # a value of the wrong type, range or form
    REQUIRED = "REQUIRED"  # a required field is missing
    UNKNOWN_FIELD = "UNKNOWN_FIELD"  # a field or option the format does not know
    DUPLICATE = "DUPLICATE"  # the same key defined twice
    NOT_FOUND = "NOT_FOUND"  # refers to a product, source or stock that does not exist
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"  # too many entries in one call
    VERSION_CONFLICT = "VERSION_CONFLICT"  # expectedVersion is not the current data version


ErrorCode = OrderErrorCode | LookupErrorCode


class DomainError(Exception):
    """A rule refused an operation; ``code`` is stable, ``message`` is for people.

    ``path`` names the argument at fault when there is one (``lines[2].quantity``).
    """

    def __init__(self, code: ErrorCode, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path
