"""The domain's enums, registered once as GraphQL enums (fields are annotated with them).

Importing this module is what makes them GraphQL types; every API module that uses one imports
it from here, so the registration always happens first.
"""

from __future__ import annotations

import strawberry

from gateway.domain.availability import StockStatus
from gateway.domain.errors import AdminErrorCode, CartIssueCode, OrderErrorCode
from gateway.domain.lint import LintCode
from gateway.domain.options import Backorders, Level
from gateway.domain.orders import OrderStatus
from gateway.domain.records import SourceItemStatus
from gateway.domain.sourcing import Algorithm
from gateway.domain.stock_events import StockEventKind

strawberry.enum(Level, name="SettingLevel", description="Where an effective setting came from.")
strawberry.enum(Backorders, name="Backorders")
strawberry.enum(StockStatus, name="StockStatus")
strawberry.enum(SourceItemStatus, name="SourceItemStatus")
strawberry.enum(Algorithm, name="SourceSelectionAlgorithm")
strawberry.enum(CartIssueCode, name="CartIssueCode",
                description="Why a cart line was refused, or the BACKORDERED notice.")
strawberry.enum(OrderErrorCode, name="OrderErrorCode",
                description="Why an order operation was refused as a whole.")
strawberry.enum(AdminErrorCode, name="AdminErrorCode",
                description="Why part of a back-office write was refused.")
strawberry.enum(LintCode, name="LintCode",
                description="What a rule-lint finding is about (docs/rules.md §10).")
strawberry.enum(StockEventKind, name="StockEventKind",
                description="Which way a (sku, stock) crossed.")
# The values keep the lowercase spelling order statuses have always had on the wire.
strawberry.enum(OrderStatus, name="OrderStatus", graphql_name_from="value",
                description="Where an order stands; rejected and not_found describe a refused "
                            "operation.")

__all__ = ["AdminErrorCode", "Algorithm", "Backorders", "CartIssueCode", "Level", "LintCode",
           "OrderErrorCode", "OrderStatus", "SourceItemStatus", "StockEventKind", "StockStatus"]
