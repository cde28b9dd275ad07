"""Automatic persisted queries (Apollo's protocol): a hash instead of the text, on the normal
path and the lane alike (every request goes to both apps, which must answer identically)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.api.lane import Miss, PersistedQueries
from gateway.api.lane.persisted import query_hash
from tests.api.lane_support import Pair, open_pair

QUERY = ('query($s: [String!]!) { availability(channel: "eu_website", skus: $s) '
         '{ sku salableQty } }')
SHA = hashlib.sha256(QUERY.encode()).hexdigest()
NOT_FOUND = {"errors": [{"message": "PersistedQueryNotFound",
                         "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}


def persisted(sha: str = SHA, query: str | None = None, version: Any = 1,
              **variables: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"variables": variables or {"s": ["SHIRT"]},
                            "extensions": {"persistedQuery": {"version": version,
                                                              "sha256Hash": sha}}}
    if query is not None:
        body["query"] = query
    return body


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async with open_pair(tmp_path / "gateway.sqlite3") as opened:
        yield opened


async def same(pair: Pair, body: Any) -> tuple[int, dict[str, str], Any]:
    lane, normal = await pair.both(body)
    assert lane == normal
    return lane.status, dict((k.decode(), v.decode()) for k, v in lane.headers), lane.json()


async def test_an_unknown_hash_asks_for_the_query(pair: Pair) -> None:
    status, headers, body = await same(pair, persisted())
    assert (status, body) == (200, NOT_FOUND)
    assert headers["cache-control"] == "private, no-cache, must-revalidate"


async def test_a_registered_hash_runs_the_stored_query_in_the_lane(pair: Pair) -> None:
    status, _, registered = await same(pair, persisted(query=QUERY))
    assert status == 200 and registered["data"]["availability"] == [
        {"sku": "SHIRT", "salableQty": 7.0}]
    for skus in (["SHIRT"], ["PACK", "NOPE"]):
        status, _, body = await same(pair, persisted(s=skus))
        assert status == 200 and [i and i["sku"] for i in body["data"]["availability"]] == [
            *skus[:1], *([None] if len(skus) > 1 else [])]
    assert pair.lane.answered == 2  # the hash alone: no text sent, none parsed


async def test_a_query_sent_with_its_hash_in_the_lane_registers_it_too(pair: Pair) -> None:
    await same(pair, {"query": QUERY, "variables": {"s": ["SHIRT"]}})  # learnt
    await same(pair, persisted(query=QUERY))  # the lane answers and stores the text
    assert pair.lane.answered == 1
    _, _, body = await same(pair, persisted())
    assert "errors" not in body and pair.lane.answered == 2


async def test_the_normal_path_runs_stored_queries_the_lane_does_not_cover(pair: Pair) -> None:
    explain = '{ availability(channel: "eu_website", skus: ["SHIRT"]) { explain { name } } }'
    await same(pair, persisted(query_hash(explain), explain))
    _, _, body = await same(pair, persisted(query_hash(explain)))
    assert {"name": "backorders"} in body["data"]["availability"][0]["explain"]
    assert pair.lane.answered == 0 and pair.lane.missed[Miss.NOT_COVERED] == 1


@pytest.mark.parametrize(("body", "message"), [
    (persisted(query=QUERY + " "), "provided sha does not match query"),
    (persisted(query=QUERY, sha=SHA.upper()), "provided sha does not match query"),
    (persisted(version=2), "Unsupported persisted query version (expected 1)."),
    (persisted(version=True), "Unsupported persisted query version (expected 1)."),
    (persisted(sha=5), "extensions.persistedQuery.sha256Hash must be a string."),  # type: ignore[arg-type]
    ({"extensions": {"persistedQuery": "x"}},
     "extensions.persistedQuery must be an object with version and sha256Hash."),
])
async def test_malformed_persisted_queries_are_refused(pair: Pair, body: dict[str, Any],
                                                       message: str) -> None:
    status, _, answer = await same(pair, body)
    assert (status, answer) == (400, {"errors": [
        {"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]})


@pytest.mark.parametrize("query", [
    "{ availability(channel: 1, skus: []) { sku } }",  # invalid: never stored
    '{ availability(channel: "eu_website", skus: ["A"]) { sku } } query { x }',
])
async def test_a_query_that_does_not_validate_is_not_stored(pair: Pair, query: str) -> None:
    status, _, answer = await same(pair, persisted(query_hash(query), query))
    assert status in (200, 400) and "errors" in answer
    assert (await same(pair, persisted(query_hash(query))))[2] == NOT_FOUND


async def test_a_query_that_ran_into_an_error_is_stored(pair: Pair) -> None:
    query = '{ availability(channel: "nope", skus: ["SHIRT"]) { sku } }'
    _, _, answer = await same(pair, persisted(query_hash(query), query))
    assert answer["errors"][0]["extensions"]["code"] == "CHANNEL_NOT_FOUND"
    assert (await same(pair, persisted(query_hash(query))))[2] == answer


def test_the_store_is_bounded_in_queries_and_characters() -> None:
    store = PersistedQueries(max_queries=2, max_characters=10)
    store.remember("a", "1234")
    store.remember("b", "5678")
    assert store.lookup("a") == "1234"  # now the most recent
    store.remember("c", "9")
    assert (store.lookup("b"), len(store)) == (None, 2)
    store.remember("d", "123456789")  # 14 characters: the least recent goes
    assert (store.lookup("a"), store.lookup("c"), store.lookup("d")) == (None, "9", "123456789")
    store.remember("e", "x" * 11)  # larger than the whole store: not kept
    assert store.lookup("e") is None and store.lookup("d") is not None
