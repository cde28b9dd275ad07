"""One ``placeOrder`` call, made once per request whichever path answers it.

The resolver and the compiled lane (:mod:`gateway.api.lane.mutation`) both place an order
through :func:`place`, which calls the order service and turns its outcome into the answer's
:class:`~gateway.api.orders.types.OrderResult` (counted in the metrics there), or records the
exception it raised. When the lane has called the service but leaves the rendering to the
normal path (a storage error, an unexpected exception, an answer its writer does not render),
it hands that record over in :data:`HANDED_OVER`: the resolver then answers from the record —
the same result object, or the same exception raised again — and does not call the service.
So a placement is executed exactly once per request, whichever path renders it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from gateway.api.orders.types import OrderAction, OrderResult, order_result
from gateway.domain.cart import RequestedLine
from gateway.services import Services


@dataclass(frozen=True, slots=True)
class Placement:
    """The arguments of one placement, as the resolver hands them to the service (lines
    already checked by :func:`~gateway.api.limits.requested_lines`)."""

    order_id: str
    channel: str
    lines: tuple[RequestedLine, ...]
    customer_group: str | None
    #: the requested quantities as sent (the answer's ``lines[].quantity``)
    quantities: tuple[float, ...]


@dataclass(slots=True)
class Placed:
    """What the one service call of a placement gave: the answer or the exception."""

    placement: Placement
    result: OrderResult | None
    error: Exception | None
    #: the normal path answered from this record (it is used at most once)
    taken: bool = field(default=False)

    def answer(self) -> OrderResult:
        """The result, or the service's exception raised again (as the resolver would)."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


#: The placement the lane made for the request being answered and left to the normal path.
HANDED_OVER: ContextVar[Placed | None] = ContextVar("handed_over_placement", default=None)


async def place(services: Services, placement: Placement) -> Placed:
    """Call the order service once and record what it gave (an ``Exception`` included; a
    cancellation propagates)."""
    try:
        outcome = await services.orders.place_order(
            placement.order_id, placement.channel, placement.lines, placement.customer_group)
    except Exception as exc:  # rendered by whichever path answers, never retried
        return Placed(placement, None, exc)
    quantities = list(placement.quantities)
    requested = quantities if len(outcome.lines) == len(quantities) and not outcome.replayed \
        else None
    return Placed(placement, order_result(outcome, requested, action=OrderAction.PLACE), None)


async def placed_answer(services: Services, placement: Placement) -> OrderResult:
    """The resolver's answer: from the lane's record of this very placement when it handed
    one over, else from a service call made now."""
    handed = HANDED_OVER.get()
    if handed is not None and not handed.taken and handed.placement == placement:
        handed.taken = True
        return handed.answer()
    return (await place(services, placement)).answer()
