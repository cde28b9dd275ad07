"""Codes and messages of everything the domain can refuse.

Messages are Magento's own wording where Magento has one, so storefronts that already show
Magento's texts keep showing the same sentences.
"""

from __future__ import annotations

from enum import StrEnum


class CartIssueCode(StrEnum):
    """Why a requested quantity is refused (SEMANTICS §6), plus the BACKORDERED notice."""

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


class DomainError(Exception):
    """A rule refused an operation; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
