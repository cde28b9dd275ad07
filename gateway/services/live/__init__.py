"""Live availability: one change feed per process, fanned out to the subscriptions it serves."""

from gateway.services.live.feed import ChangeFeed
from gateway.services.live.hub import AvailabilityHub, HubStats
from gateway.services.live.watch import Watch

__all__ = ["AvailabilityHub", "ChangeFeed", "HubStats", "Watch"]
