"""Availability of many federated products in one store read per (channel, customer group).

A router sends every product of a page in one ``_entities`` call; each returned product then
resolves its ``availability(channel, customerGroup)`` field. The loader collects those calls
(they are issued together by the executor) and answers each group of keys sharing a channel
and customer group with one storefront call, that is one SQL statement whatever the number of
products.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from strawberry.dataloader import DataLoader

from gateway.domain.availability import Availability
from gateway.services.storefront import StorefrontService


class AvailabilityKey(NamedTuple):
    channel: str
    customer_group: str | None
    sku: str
    provenance: bool = False  # with every setting's origin (``explain`` is selected)


async def _load(storefront: StorefrontService,
                keys: Sequence[AvailabilityKey]) -> list[Availability | BaseException | None]:
    groups: defaultdict[tuple[str, str | None, bool], list[str]] = defaultdict(list)
    for key in keys:
        groups[key.channel, key.customer_group, key.provenance].append(key.sku)
    answers: dict[AvailabilityKey, Availability | BaseException | None] = {}
    for (channel, group, provenance), skus in groups.items():
        try:
            found = await storefront.availability(channel, skus, group, provenance=provenance)
        except Exception as error:  # e.g. ChannelNotFound: only this group's products fail
            answers.update((AvailabilityKey(channel, group, sku, provenance), error)
                           for sku in skus)
        else:
            answers.update((AvailabilityKey(channel, group, sku, provenance), answer)
                           for sku, answer in zip(skus, found, strict=True))
    return [answers[key] for key in keys]


def availability_loader(
        storefront: StorefrontService) -> DataLoader[AvailabilityKey, Availability | None]:
    """A loader for one ``_entities`` call: keys loaded together share one read per group."""

    async def load(keys: list[AvailabilityKey]) -> list[Availability | BaseException | None]:
        return await _load(storefront, keys)

    return DataLoader(load_fn=load)
