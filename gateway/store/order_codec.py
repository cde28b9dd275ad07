"""Orders as stored: one JSON document per order (its SKUs, lines and shipment history).

Quantities are written as strings so they round-trip exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from gateway.domain.orders import Order, OrderSku, PlacedLine, ReservationDelta, ShipmentLine
from gateway.domain.records import ReservationRecord
from gateway.store.codec import dump_json


def reservation_records(order: Order, deltas: Sequence[ReservationDelta]
                        ) -> list[ReservationRecord]:
    """The reservation rows of ``order``'s non-zero ``deltas``, with the metadata Magento
    writes (the event type and the order id)."""
    return [ReservationRecord(sku=d.sku, stock=order.stock_id, quantity=d.qty,
                              metadata={"event_type": d.event_type, "order_id": order.order_id})
            for d in deltas if d.qty != 0]


def dump_order(order: Order) -> str:
    return dump_json({
        "skus": [{"sku": s.sku, "ordered": str(s.ordered), "managed": s.managed,
                  "backorder_qty": str(s.backorder_qty), "shipped": str(s.shipped),
                  "cancelled": str(s.cancelled), "returned": str(s.returned),
                  "subtract": s.subtract}
                 for s in order.skus],
        "lines": [{"sku": line.sku, "qty": str(line.qty),
                   "backorder_qty": str(line.backorder_qty), "notify": line.notify}
                  for line in order.lines],
        "shipments": [{"source": line.source_code, "sku": line.sku, "qty": str(line.qty)}
                      for line in order.shipments],
    })


def order_row(order: Order) -> tuple[object, ...]:
    """Column values in the order of INSERT_ORDER / UPDATE_ORDER."""
    return (order.order_id, order.channel, order.stock_id, order.customer_group,
            order.status.value, order.request_key, dump_order(order))


def order_from_row(row: tuple[Any, ...]) -> Order:
    order_id, channel, stock_id, customer_group, _status, request_key, document = row
    doc = json.loads(document)
    return Order(
        order_id=order_id, channel=channel, stock_id=stock_id, customer_group=customer_group,
        request_key=request_key,
        skus=tuple(OrderSku(sku=s["sku"], ordered=Decimal(s["ordered"]), managed=s["managed"],
                            backorder_qty=Decimal(s["backorder_qty"]),
                            shipped=Decimal(s["shipped"]), cancelled=Decimal(s["cancelled"]),
                            returned=Decimal(s["returned"]),
                            # Orders stored before can_subtract existed were all reserved.
                            subtract=s.get("subtract", True)) for s in doc["skus"]),
        lines=tuple(PlacedLine(line["sku"], Decimal(line["qty"]),
                               Decimal(line["backorder_qty"]), line["notify"])
                    for line in doc["lines"]),
        shipments=tuple(ShipmentLine(line["source"], line["sku"], Decimal(line["qty"]))
                        for line in doc["shipments"]))
