"""/metrics in one process: names, labels, order outcomes, cache hits, store latency."""

from __future__ import annotations

import pytest

from gateway.metrics import MAX_OPERATION_NAMES, GatewayMetrics
from tests.ops.support import label_values, metric
from tests.support import TOKEN, Api

PLACE = ("mutation Place($id: String!, $q: Float!) { placeOrder(orderId: $id, "
         'channel: "eu_website", lines: [{sku: "SHIRT", quantity: $q}]) '
         "{ ok replayed error { code } } }")


async def scrape(api: Api) -> str:
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


async def test_requests_by_operation_name_and_type(api: Api) -> None:
    for _ in range(3):
        await api.data('query Shelf { availability(channel: "eu_website", skus: ["SHIRT"]) '
                       "{ sku } }")
    await api.data('{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku } }')
    await api.data('mutation Cart { validateCart(channel: "eu_website", '
                   'lines: [{sku: "SHIRT", quantity: 1}]) { ok } }')
    text = await scrape(api)
    assert metric(text, "gateway_graphql_requests_total", operation="Shelf", type="query") == 3
    assert metric(text, "gateway_graphql_requests_total", operation="anonymous",
                  type="query") >= 1
    assert metric(text, "gateway_graphql_requests_total", operation="Cart",
                  type="mutation") == 1
    assert metric(text, "gateway_graphql_request_duration_seconds_count", operation="Shelf",
                  type="query") == 3
    assert metric(text, "gateway_graphql_request_duration_seconds_bucket", operation="Shelf",
                  type="query", le="+Inf") == 3
    assert metric(text, "gateway_http_requests_total", route="/graphql", status="200") >= 5
    # Probes and unknown paths are counted by route, never by raw path.
    await api.client.get("/healthz")
    await api.client.get("/no/such/path/123")
    text = await scrape(api)
    assert metric(text, "gateway_http_requests_total", route="/healthz", status="200") == 1
    assert metric(text, "gateway_http_requests_total", route="other", status="404") == 1
    assert "/no/such/path" not in text


async def test_unparseable_requests_are_counted_as_invalid(api: Api) -> None:
    body = await api.gql("query Broken { availability(")
    assert body["errors"]
    text = await scrape(api)
    assert metric(text, "gateway_graphql_requests_total", type="invalid") == 1


async def test_order_outcomes(api: Api) -> None:
    async def place(order_id: str, quantity: float) -> dict[str, object]:
        data = await api.data(PLACE, {"id": order_id, "q": quantity}, token=TOKEN)
        result: dict[str, object] = data["placeOrder"]
        return result

    assert (await place("1", 1))["ok"] is True
    assert (await place("1", 1))["replayed"] is True
    assert (await place("2", 1000))["error"] == {"code": "LINES_REFUSED"}
    await api.data('mutation { cancelOrder(orderId: "1") { ok } }', token=TOKEN)
    await api.data('mutation { cancelOrder(orderId: "nope") { ok } }', token=TOKEN)
    await api.data('mutation { shipOrder(orderId: "nope") { ok } }', token=TOKEN)
    text = await scrape(api)
    expected = [({"action": "place", "outcome": "placed", "code": ""}, 1),
                ({"action": "place", "outcome": "replayed", "code": ""}, 1),
                ({"action": "place", "outcome": "rejected", "code": "LINES_REFUSED"}, 1),
                ({"action": "cancel", "outcome": "ok", "code": ""}, 1),
                ({"action": "cancel", "outcome": "refused", "code": "ORDER_NOT_FOUND"}, 1),
                ({"action": "ship", "outcome": "refused", "code": "ORDER_NOT_FOUND"}, 1)]
    for labels, count in expected:
        assert metric(text, "gateway_orders_total", **labels) == count, labels


async def test_cache_hits_and_store_latency(api: Api) -> None:
    # Cart checks resolve effective settings through the engine (and its memo); availability
    # reads precomputed facts, so they count as topology lookups only.
    query = ('mutation { validateCart(channel: "eu_website", lines: [{sku: "SHIRT", '
             'quantity: 1}, {sku: "PACK", quantity: 6}]) { ok } }')
    await api.data(query)
    before = await scrape(api)
    for _ in range(4):
        await api.data(query)
    after = await scrape(api)

    def grew(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert grew("gateway_cache_lookups_total", cache="topology", result="hit") >= 4
    assert grew("gateway_cache_lookups_total", cache="topology", result="miss") == 0
    assert grew("gateway_cache_lookups_total", cache="settings", result="hit") >= 8
    assert grew("gateway_cache_lookups_total", cache="settings", result="miss") == 0
    # One statement per storefront request (the store's own count says so too).
    assert grew("gateway_store_statement_duration_seconds_count") >= 4
    assert metric(after, "gateway_store_statement_duration_seconds_sum") > 0


async def test_client_chosen_names_cannot_grow_the_labels(api: Api) -> None:
    long_name = "L" * 65  # a legal GraphQL name, too long for a label
    response = await api.client.post("/graphql", json={
        "query": f'query {long_name} {{ availability(channel: "eu_website", skus: ["SHIRT"]) '
                 "{ sku } }", "operationName": long_name})
    assert response.status_code == 200 and "errors" not in response.json()
    hostile = ["a-b", "Ünïcode", "x\ny"]  # no such operation in the document: 400
    for name in hostile:
        response = await api.client.post("/graphql", json={
            "query": '{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku } }',
            "operationName": name})
        assert response.status_code == 400
    text = await scrape(api)
    names = label_values(text, "gateway_graphql_requests_total", "operation")
    assert not names & {long_name, *hostile}
    assert metric(text, "gateway_graphql_requests_total", operation="other",
                  type="query") == 1
    assert metric(text, "gateway_graphql_requests_total", operation="other",
                  type="invalid") == len(hostile)


def test_distinct_operation_names_are_capped() -> None:
    metrics = GatewayMetrics()
    labels = [metrics._name_label(f"Op{i}") for i in range(MAX_OPERATION_NAMES + 20)]
    assert labels[:MAX_OPERATION_NAMES] == [f"Op{i}" for i in range(MAX_OPERATION_NAMES)]
    assert set(labels[MAX_OPERATION_NAMES:]) == {"other"}
    assert metrics._name_label("Op3") == "Op3"  # known names keep counting
    assert metrics._name_label(None) == "anonymous"


@pytest.mark.parametrize("name", ["1abc", "a b", "x" * 65, "", "a\nb"])
def test_only_plain_graphql_names_become_labels(name: str) -> None:
    assert GatewayMetrics()._name_label(name) == "other"
