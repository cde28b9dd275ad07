"""GraphQL types shared by the features: settings with provenance, cart lines, problems."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from gateway.api.enums import AdminErrorCode, CartIssueCode, Level
from gateway.catalog import CatalogProblem
from gateway.domain.availability import Availability
from gateway.domain.cart import Issue, LineResult, RequestedLine
from gateway.domain.inheritance import Setting
from gateway.domain.sourcing import Destination


def qty(value: Decimal | None) -> float | None:
    """A quantity on the wire (GraphQL Float); None stays None."""
    return None if value is None else float(value)


@strawberry.type(description="An effective option value and where it came from.")
class EffectiveSetting:
    name: str
    value: str
    level: Level
    source_code: str | None
    overrides: list[Level]
    note: str | None


def effective_setting(s: Setting) -> EffectiveSetting:
    return EffectiveSetting(name=s.name, value=s.display, level=s.level,
                            source_code=s.source_code, overrides=list(s.overrides), note=s.note)


def explain_settings(availability: Availability) -> list[EffectiveSetting]:
    return [effective_setting(s) for s in availability.settings]


@strawberry.input
class CartLineInput:
    sku: str
    quantity: float

    def to_domain(self) -> RequestedLine:
        return RequestedLine(self.sku, self.quantity)


@strawberry.input
class DestinationInput:
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = None
    postcode: str | None = None

    def to_domain(self) -> Destination:
        return Destination(self.latitude, self.longitude, self.country, self.postcode)


@strawberry.type
class CartIssue:
    code: CartIssueCode
    message: str
    setting: str | None
    limit: float | None
    level: Level | None
    source_code: str | None


@strawberry.type
class CartLineResult:
    sku: str
    quantity: float
    ok: bool
    errors: list[CartIssue]
    notices: list[CartIssue]
    backorder_qty: float
    suggested_qty: float | None
    reserved_qty: float | None = strawberry.field(
        default=None, description="placeOrder: what this line reserved (0 when stock is not "
                                  "managed or can_subtract is off).")


def _issue(issue: Issue) -> CartIssue:
    return CartIssue(code=issue.code, message=issue.message, setting=issue.setting,
                     limit=qty(issue.limit), level=issue.level, source_code=issue.source_code)


def cart_line(result: LineResult, requested: float,
              reserved: Decimal | None = None) -> CartLineResult:
    return CartLineResult(
        sku=result.sku, quantity=requested, ok=result.ok,
        errors=[_issue(i) for i in result.errors], notices=[_issue(i) for i in result.notices],
        backorder_qty=float(result.backorder_qty), suggested_qty=qty(result.suggested_qty),
        reserved_qty=qty(reserved))


@strawberry.type(description="One refused part of a back-office write: where (a path relative "
                             "to the arguments or the document), why, and a stable code.")
class ImportProblem:
    path: str
    message: str
    code: AdminErrorCode


def problems(found: list[CatalogProblem]) -> list[ImportProblem]:
    return [ImportProblem(path=p.path, message=p.message, code=p.code) for p in found]
