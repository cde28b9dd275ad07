"""``placeOrder`` through the compiled lane: the same answers as the normal path — status,
headers and body bytes — each order placed once, whichever path renders it.

Two apps, one with the lane and one without, each on its own database (a mutation changes
it): every request goes to both, so both databases go through the same states. Hypothesis
writes the documents (every field of ``OrderResult`` and what it holds, aliases,
``__typename``, inline and named fragments, ``@include``/``@skip``, arguments as variables
or literals) and the requests (replays and conflicting replays of a few order ids, unknown
channels and SKUs, bad and refused quantities, too many lines, bad variables, no token or a
wrong one).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import metrics
from gateway.api.lane import Miss, mutation
from gateway.api.lane.writer import Fallback
from gateway.store.errors import StoreBusy
from tests.api.lane_support import Answer, Pair, open_pair

RESULT = ["ok", "replayed", "orderId", "status", "__typename"]
OBJECTS: dict[str, tuple[str, list[str], dict[str, str]]] = {
    # field: (type, leaves, object fields)
    "error": ("OrderError", ["code", "message", "path", "__typename"], {}),
    "lines": ("CartLineResult", ["sku", "quantity", "ok", "backorderQty", "suggestedQty",
                                 "reservedQty"], {"errors": "CartIssue", "notices": "CartIssue"}),
    "errors": ("CartIssue", ["code", "message", "setting", "limit", "level", "sourceCode"], {}),
    "notices": ("CartIssue", ["code", "message", "setting", "limit", "level", "sourceCode"], {}),
    "shipments": ("ShipmentItem", ["sourceCode", "sku", "qty"], {}),
    "order": ("OrderDetails", ["orderId", "channel", "stockId", "customerGroup", "status"],
              {"skus": "OrderSkuState", "shipments": "ShipmentItem",
               "reservations": "OrderReservation"}),
    "skus": ("OrderSkuState", ["sku", "ordered", "shipped", "cancelled", "returned", "open",
                               "managed", "backorderQty"], {}),
    "reservations": ("OrderReservation", ["sku", "stockId", "quantity", "eventType"], {}),
}
ROOT_OBJECTS = ["error", "lines", "shipments", "order"]
CONDITIONS = ["@include(if: $yes)", "@skip(if: $yes)", "@include(if: true)", "@skip(if: true)"]
SKUS = ["SHIRT", "FABRIC", "PACK", "BACKORDER", "EBOOK", "GONE", "US-ONLY", "NOPE", ""]
QUANTITIES = [1, 1, 2, 0.5, 6, 12, -1, 0, 1e9]
MAX_LINES = 3
MISSING = object()
ids = itertools.count()


def maybe(draw: st.DrawFn, text: str, chance: int = 2) -> str:
    """``text`` with a directive ``chance`` times in 10 (Hypothesis would draw a float
    of 0.0 far more often than a uniform draw)."""
    if draw(st.sampled_from(range(10))) < chance:
        return f"{text} {draw(st.sampled_from(CONDITIONS))}"
    return text


def selection(draw: st.DrawFn, fragments: dict[str, str], type_name: str, leaves: list[str],
              objects: dict[str, str], depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["leaf", "leaf", "leaf", "object", "object", "inline",
                                     "spread"] if depth < 2 else ["leaf"]))
        if kind == "object" and objects:
            # lines (the most of what an answer holds) twice as often as the others
            name = draw(st.sampled_from(sorted(objects) + ["lines"] * ("lines" in objects)))
            child, child_leaves, child_objects = OBJECTS[name]
            inner = selection(draw, fragments, child, child_leaves,
                              {k: v for k, v in child_objects.items()}, depth + 1)
            alias = draw(st.sampled_from(["", "", f"my_{name}: "]))
            parts.append(maybe(draw, f"{alias}{name}") + f" {{ {inner} }}")
        elif kind == "inline":
            inner = selection(draw, fragments, type_name, leaves, objects, depth + 1)
            condition = draw(st.sampled_from([f"on {type_name}", ""]))
            parts.append(maybe(draw, f"... {condition}") + f" {{ {inner} }}")
        elif kind == "spread" and type_name == "OrderResult":
            name = f"F{draw(st.integers(0, 1))}"
            if name not in fragments:
                fragments[name] = ""  # being written: no spread of itself inside
                body = selection(draw, fragments, type_name, leaves, objects, 2)
                fragments[name] = f"fragment {name} on {type_name} {{ {body} }}"
            parts.append(maybe(draw, f"...{name}"))
        else:
            field = draw(st.sampled_from(leaves))
            alias = draw(st.sampled_from(["", "", "", f"my_{field}: "]))
            parts.append(maybe(draw, f"{alias}{field}"))
    return " ".join(parts)


@st.composite
def documents(draw: st.DrawFn) -> str:
    fragments: dict[str, str] = {}
    body = selection(draw, fragments, "OrderResult", RESULT,
                     {name: OBJECTS[name][0] for name in ROOT_OBJECTS})
    arguments = [
        draw(st.sampled_from(["orderId: $o"] * 4 + ['orderId: "LITERAL"'])),
        draw(st.sampled_from(["channel: $c", "channel: $c", 'channel: "eu_website"',
                              'channel: "nope"'])),
        draw(st.sampled_from(["lines: $l", "lines: $l",
                              'lines: [{sku: "FABRIC", quantity: 0.5}]'])),
        draw(st.sampled_from(["", "customerGroup: $g", 'customerGroup: "wholesale"',
                              "customerGroup: null"])),
    ]
    alias = draw(st.sampled_from(["", "", "placed: "]))
    root = f"{alias}placeOrder({', '.join(a for a in arguments if a)}) {{ {body} }}"
    if draw(st.booleans()):
        root = f"__typename {root}" if draw(st.booleans()) else f"{root} __typename"
    text = root + " ".join(fragments.values())
    declared = [f"${name}: {type_}" for name, type_ in (
        ("o", "String!"), ("c", draw(st.sampled_from(["String!", 'String = "us_website"']))),
        ("l", "[CartLineInput!]!"), ("g", "String"), ("yes", "Boolean!"))
        if f"${name}" in text]
    header = f"({', '.join(declared)})" if declared else ""
    return f"mutation Place{header} {{ {root} }} {' '.join(fragments.values())}"


@st.composite
def lines(draw: st.DrawFn) -> Any:
    return draw(st.lists(st.fixed_dictionaries({"sku": st.sampled_from(SKUS),
                                                "quantity": st.sampled_from(QUANTITIES)}),
                         max_size=MAX_LINES + 1))


GOOD: dict[str, st.SearchStrategy[Any]] = {
    # a few ids over and over (replays, conflicts), else mostly new ones
    "o": st.one_of(st.sampled_from(["A1", "A2", "B1"]),
                   st.integers(0, 10**9).map(lambda n: f"N{n}")),
    "c": st.sampled_from(["eu_website", "eu_website", "us_website", "nope", MISSING]),
    "l": lines(),
    "g": st.sampled_from([None, "wholesale", "retail", MISSING]),
    "yes": st.booleans(),
}
ODD: dict[str, st.SearchStrategy[Any]] = {
    "o": st.sampled_from(["", " A1", "x" * 65, None, 5, MISSING]),
    "c": st.sampled_from([None, 3, "eu\x01website"]),
    "l": st.sampled_from([{"sku": "SHIRT", "quantity": 1}, [{"sku": "SHIRT"}],
                          [{"sku": "SHIRT", "quantity": "1"}], [None], None, "SHIRT",
                          [{"sku": "SHIRT", "quantity": 1, "extra": 1}], MISSING]),
    "g": st.sampled_from([7, ["wholesale"]]),
    "yes": st.sampled_from([None, "true", MISSING]),
}
AUTHORIZATION = {"token": None, "none": "", "wrong": "Bearer not-the-token"}


@st.composite
def variables(draw: st.DrawFn) -> dict[str, Any]:
    """Good values, with one odd value a third of the time."""
    odd = draw(st.sampled_from([None, None, None, None, *ODD]))
    drawn = {name: draw(ODD[name] if name == odd else good) for name, good in GOOD.items()}
    return {name: value for name, value in drawn.items() if value is not MISSING}


async def both(pair: Pair, body: Any, authorization: str = "token") -> tuple[Answer, Answer]:
    header = AUTHORIZATION[authorization]
    options: dict[str, Any] = {"token": True} if header is None else \
        {"authorization": header} if header else {}
    return await pair.both(body, **options)


async def learn(pair: Pair, query: str) -> None:
    """Both apps answer the document once with valid variables (the lane's app learns it)."""
    await both(pair, {"query": query, "variables": {
        "o": f"learn-{next(ids)}", "c": "eu_website", "l": [{"sku": "EBOOK", "quantity": 1}],
        "g": None, "yes": True}})


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[asyncio.AbstractEventLoop, Pair]]:
    loop = asyncio.new_event_loop()
    opened = open_pair(tmp_path_factory.mktemp("lane-orders") / "gateway.sqlite3",
                       separate=True, max_cart_lines=MAX_LINES)
    pair = loop.run_until_complete(opened.__aenter__())
    yield loop, pair
    loop.run_until_complete(opened.__aexit__(None, None, None))
    loop.close()


def test_placements_get_the_same_answers_through_the_lane(
        harness: tuple[asyncio.AbstractEventLoop, Pair]) -> None:
    loop, pair = harness
    compared = 0
    answered = {"before": pair.lane.answered}

    @settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(query=documents(), sent=variables(),
           authorization=st.sampled_from(["token", "token", "token", "none", "wrong"]))
    def check(query: str, sent: dict[str, Any], authorization: str) -> None:
        nonlocal compared

        async def run() -> None:
            await learn(pair, query)
            lane, normal = await both(pair, {"query": query, "variables": sent},
                                      authorization)
            assert lane == normal, (query, sent, authorization, lane.body, normal.body)

        loop.run_until_complete(run())
        compared += 1

    check()
    lane = pair.lane
    counts = f"compared {compared}: lane answered {lane.answered}, missed {dict(lane.missed)}"
    # Worth something only if the lane answered often (learning requests included) and left
    # requests to the normal path for most kinds of refusal before the placement (each kind is
    # provoked on purpose below).
    assert lane.answered - answered["before"] >= compared // 2, counts
    reasons = (Miss.PERMISSION, Miss.VARIABLES, Miss.ARGUMENTS, Miss.REFUSED)
    assert sum(lane.missed[why] > 0 for why in reasons) >= 3, counts


PLACE = ("mutation Place($o: String!, $l: [CartLineInput!]!) { placeOrder(orderId: $o, "
         "channel: \"eu_website\", lines: $l) { ok replayed orderId status "
         "error { code message path } lines { sku quantity ok reservedQty "
         "errors { code message } } } }")


def order(order_id: str, *lines: tuple[str, float]) -> dict[str, Any]:
    return {"query": PLACE, "variables": {
        "o": order_id, "l": [{"sku": sku, "quantity": qty} for sku, qty in lines]}}


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async with open_pair(tmp_path / "gateway.sqlite3", separate=True) as opened:
        yield opened


async def same(pair: Pair, body: Any, authorization: str = "token") -> Any:
    lane, normal = await both(pair, body, authorization)
    assert lane == normal
    return lane.json()


async def test_the_lane_places_replays_and_refuses_orders(pair: Pair) -> None:
    first = await same(pair, order("P1", ("SHIRT", 2)))
    assert pair.lane.answered == 0 and pair.lane.missed[Miss.UNKNOWN] == 1
    second = await same(pair, order("P2", ("SHIRT", 2)))
    assert second["data"]["placeOrder"]["ok"] is True and pair.lane.answered == 1
    replay = await same(pair, order("P2", ("SHIRT", 2)))
    assert replay["data"]["placeOrder"]["replayed"] is True
    conflict = await same(pair, order("P2", ("SHIRT", 3)))
    assert conflict["data"]["placeOrder"]["error"]["code"] == "ORDER_ID_CONFLICT"
    short = await same(pair, order("P3", ("SHIRT", 500), ("NOPE", 1)))
    assert short["data"]["placeOrder"]["error"]["code"] == "LINES_REFUSED"
    assert pair.lane.answered == 4
    assert first["extensions"] == second["extensions"] == {
        "cost": {"requested": 4, "limit": 50000}}


async def test_a_domain_error_is_answered_by_the_lane(pair: Pair) -> None:
    await same(pair, order("D1", ("SHIRT", 1)))
    body = {"query": PLACE.replace('"eu_website"', "$c").replace("$o: String!",
                                                                 "$o: String!, $c: String!"),
            "variables": {"o": "D2", "c": "eu_website", "l": [{"sku": "SHIRT", "quantity": 1}]}}
    await same(pair, body)
    refused = await same(pair, {**body, "variables": {**body["variables"], "o": "D3",
                                                      "c": "nope"}})
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "CHANNEL_NOT_FOUND"
    assert pair.lane.answered == 1 and pair.lane.missed[Miss.FAILED] == 0


@pytest.mark.parametrize("authorization", ["none", "wrong"])
async def test_callers_without_the_token_get_the_normal_paths_refusal(
        pair: Pair, authorization: str) -> None:
    await same(pair, order("T1", ("SHIRT", 1)))
    refused = await same(pair, order("T2", ("SHIRT", 1)), authorization)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert pair.lane.missed[Miss.PERMISSION] == 1 and pair.lane.answered == 0


def count_calls(pair: Pair, monkeypatch: pytest.MonkeyPatch,
                fail: Exception | None) -> list[int]:
    """Count the order service's placements in each app (lane app first); ``fail``: each
    placement raises it instead of placing."""
    calls = [0, 0]
    for index, app in enumerate(pair.apps):
        service = app.state.services.orders
        real = service.place_order

        async def place_order(*args: Any, _index: int = index, _real: Any = real) -> Any:
            calls[_index] += 1
            if fail is not None:
                raise fail
            return await _real(*args)

        monkeypatch.setattr(service, "place_order", place_order)
    return calls


@pytest.mark.parametrize("error", [StoreBusy("the database is busy: retry", retry_after=1.5),
                                   RuntimeError("a bug")])
async def test_errors_the_lane_does_not_render_are_rendered_from_its_one_placement(
        pair: Pair, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    await same(pair, order("E1", ("SHIRT", 1)))
    calls = count_calls(pair, monkeypatch, error)
    answer = await same(pair, order("E2", ("SHIRT", 1)))
    assert calls == [1, 1]
    assert pair.lane.missed[Miss.HANDED_OVER] == 1 and pair.lane.answered == 0
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] in {"STORE_BUSY", "INTERNAL_ERROR"}


async def test_an_answer_the_writer_does_not_render_is_rendered_from_the_placement(
        pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    await same(pair, order("W1", ("SHIRT", 1)))
    calls = count_calls(pair, monkeypatch, None)
    counted: list[tuple[str, str, str]] = []
    monkeypatch.setattr(metrics, "order_outcome", lambda *labels: counted.append(labels))

    def unrenderable(*args: Any) -> Any:
        raise Fallback

    monkeypatch.setattr(mutation, "write", unrenderable)
    answer = await same(pair, order("W2", ("SHIRT", 1)))
    assert answer["data"]["placeOrder"]["replayed"] is False
    assert calls == [1, 1] and counted == [("place", "placed", "")] * 2
    assert pair.lane.missed[Miss.HANDED_OVER] == 1
    monkeypatch.undo()
    replay = await same(pair, order("W2", ("SHIRT", 1)))
    assert replay["data"]["placeOrder"]["replayed"] is True


async def test_metrics_count_each_placement_once_under_the_mutations_name(
        pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    counted: list[tuple[str, str, str]] = []
    monkeypatch.setattr(metrics, "order_outcome", lambda *labels: counted.append(labels))
    for n in range(3):
        await same(pair, order(f"M{n}", ("SHIRT", 1)))
    assert pair.lane.answered == 2 and counted == [("place", "placed", "")] * 6
    exposed = (await pair.on.get("/metrics")).text
    assert 'gateway_graphql_requests_total{operation="Place",type="mutation"} 3.0' in exposed


async def test_other_mutations_and_two_placements_take_the_normal_path(pair: Pair) -> None:
    two = ('mutation { a: placeOrder(orderId: "X1", channel: "eu_website", lines: [{sku: '
           '"SHIRT", quantity: 1}]) { ok } b: placeOrder(orderId: "X2", channel: '
           '"eu_website", lines: [{sku: "SHIRT", quantity: 1}]) { ok } }')
    cancel = 'mutation { cancelOrder(orderId: "X1") { ok status } }'
    for body in ({"query": two}, {"query": two}, {"query": cancel}, {"query": cancel}):
        await same(pair, body)
    assert pair.lane.answered == 0 and pair.lane.missed[Miss.NOT_COVERED] == 2


async def test_the_customer_group_reaches_the_service(pair: Pair) -> None:
    query = PLACE.replace('lines: $l)', 'lines: $l, customerGroup: $g)').replace(
        "$l: [CartLineInput!]!)", "$l: [CartLineInput!]!, $g: String)")
    shirt = [{"sku": "SHIRT", "quantity": 2}]
    await same(pair, {"query": query, "variables": {"o": "G1", "l": shirt}})
    wholesale = await same(pair, {"query": query, "variables": {"o": "G2", "l": shirt,
                                                                "g": "wholesale"}})
    line = wholesale["data"]["placeOrder"]["lines"][0]
    assert [error["code"] for error in line["errors"]] == ["MIN_SALE_QTY"]
    assert pair.lane.answered == 1


async def test_a_persisted_placement_takes_the_lane(pair: Pair) -> None:
    digest = hashlib.sha256(PLACE.encode()).hexdigest()
    persisted = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    missing = await same(pair, {**order("H0", ("SHIRT", 1)), **persisted, "query": None})
    assert missing["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    await same(pair, {**order("H1", ("SHIRT", 1)), **persisted})  # text and hash: learnt
    by_hash = order("H2", ("SHIRT", 1))
    del by_hash["query"]
    placed = await same(pair, {**by_hash, **persisted})
    assert placed["data"]["placeOrder"]["ok"] is True
    assert pair.lane.answered == 1


@pytest.mark.parametrize(("lines", "why"), [
    ([{"sku": "SHIRT", "quantity": 1}] * 501, Miss.REFUSED),  # LIMIT_EXCEEDED (500 lines)
    ([{"sku": "SHIRT\n", "quantity": 1}], Miss.REFUSED),  # a control character
    ([{"sku": "", "quantity": 1}], Miss.ARGUMENTS),  # the resolver's SKU check
    ([{"sku": "X" * 65, "quantity": 1}], Miss.ARGUMENTS),
    ([{"sku": "SHIRT", "quantity": "1"}], Miss.VARIABLES),  # graphql-core refuses
    ([{"sku": "SHIRT"}], Miss.VARIABLES),
    (None, Miss.VARIABLES),
])
async def test_refusals_before_the_placement_are_left_to_the_normal_path(
        pair: Pair, lines: Any, why: Miss) -> None:
    await same(pair, order("R1", ("SHIRT", 1)))
    body = order("R2")
    body["variables"]["l"] = lines
    refused = await same(pair, body)
    assert refused["data"] is None and refused["errors"]
    assert pair.lane.answered == 0 and pair.lane.missed[why] == 1
    assert (await same(pair, order("R2", ("SHIRT", 1))))["data"]["placeOrder"]["replayed"] \
        is False  # nothing was placed under that id


async def test_an_unexpected_error_before_the_placement_leaves_it_to_the_normal_path(
        pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    await same(pair, order("U1", ("SHIRT", 1)))
    calls = count_calls(pair, monkeypatch, None)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the lane")

    monkeypatch.setattr(mutation, "convert_arguments", broken)
    placed = await same(pair, order("U2", ("SHIRT", 1)))
    assert placed["data"]["placeOrder"]["ok"] is True
    assert calls == [1, 1] and pair.lane.missed[Miss.FAILED] == 1 and pair.lane.answered == 0
