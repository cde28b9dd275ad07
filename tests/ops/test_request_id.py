"""x-request-id on every answer, the same id in masked errors and in the log."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from gateway.logs import configure_logging
from tests.support import Api

QUERY = '{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku } }'
GENERATED = re.compile(r"[0-9a-f]{16}")


async def post(api: Api, headers: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    kwargs.setdefault("json", {"query": QUERY})
    return await api.client.post("/graphql", headers=headers or {}, **kwargs)


@pytest.mark.parametrize("sent", ["abc-123", "a.b_c-D", "x" * 64,
                                  "0f8e7b1c-3b2a-4c5d-9e8f-1a2b3c4d5e6f"])
async def test_a_sane_client_id_is_echoed(api: Api, sent: str) -> None:
    response = await post(api, {"x-request-id": sent})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == sent


async def test_an_id_is_generated_when_none_is_sent(api: Api) -> None:
    ids = {(await post(api)).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5 and all(GENERATED.fullmatch(i) for i in ids)


@pytest.mark.parametrize("hostile", ["x" * 65, "a b", "<script>", "id;rm -rf", "a\tb",
                                     "é", "%0d%0aSet-Cookie:x", ""])
async def test_a_hostile_id_is_replaced(api: Api, hostile: str) -> None:
    response = await post(api, {"x-request-id": hostile.encode()})
    assert response.status_code == 200
    echoed = response.headers["x-request-id"]
    assert echoed != hostile and GENERATED.fullmatch(echoed)


async def test_every_kind_of_answer_carries_an_id(make_api: Callable[..., Any]) -> None:
    async with make_api(max_body_bytes=1000) as api:
        answers = {
            "413 body too large": await post(api, json={"query": QUERY, "pad": "x" * 2000}),
            "400 bad JSON": await post(api, content=b"{not json",
                                       headers={"content-type": "application/json"}),
            "404": await api.client.get("/nope"),
            "405": await api.client.put("/graphql"),
            "GraphiQL": await api.client.get("/graphql", headers={"accept": "text/html"}),
            "healthz": await api.client.get("/healthz"),
            "readyz": await api.client.get("/readyz"),
            "metrics": await api.client.get("/metrics"),
        }
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses["413 body too large"] == 413 and statuses["400 bad JSON"] == 400
    assert statuses["404"] == 404 and statuses["405"] == 405
    for name, response in answers.items():
        assert GENERATED.fullmatch(response.headers.get("x-request-id", "")), name
    async with make_api(max_body_bytes=1000) as api:
        response = await post(api, {"x-request-id": "big-1"},
                              json={"query": QUERY, "pad": "x" * 2000})
        assert response.status_code == 413 and response.headers["x-request-id"] == "big-1"


async def test_masked_error_and_log_line_carry_the_request_id(
        api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        restore_logging: None) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(api.services.storefront, "availability", broken)
    configure_logging("info", "json")
    for sent in ("client-id-7", None):
        capsys.readouterr()
        response = await post(api, {"x-request-id": sent} if sent else None)
        request_id = response.headers["x-request-id"]
        if sent:
            assert request_id == sent
        (error,) = response.json()["errors"]
        assert error["message"] == "Unexpected error."
        assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": request_id}
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        (logged,) = [line for line in lines if line["level"] == "ERROR"]
        assert logged["request_id"] == request_id
        assert "RuntimeError: secret detail" in logged["exception"]


async def test_concurrent_requests_keep_their_own_ids(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    original = api.services.storefront.availability

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.01)  # interleave the requests
        raise RuntimeError("boom")

    monkeypatch.setattr(api.services.storefront, "availability", slow)
    responses = await asyncio.gather(*[post(api, {"x-request-id": f"req-{i}"})
                                       for i in range(10)])
    for i, response in enumerate(responses):
        assert response.headers["x-request-id"] == f"req-{i}"
        assert response.json()["errors"][0]["extensions"]["requestId"] == f"req-{i}"
    monkeypatch.setattr(api.services.storefront, "availability", original)


async def test_an_unhandled_exception_answers_500_with_the_id_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    import httpx

    from gateway.api.middleware import RequestContext
    from gateway.logs import current_request_id

    seen: list[str | None] = []

    async def failing(scope: Any, receive: Any, send: Any) -> None:
        seen.append(current_request_id())
        raise RuntimeError("secret detail")

    app = RequestContext(failing)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/x", headers={"x-request-id": "boom-1"})
    assert response.status_code == 500 and "secret" not in response.text
    assert response.headers["x-request-id"] == "boom-1" and seen == ["boom-1"]
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "GET /x" in record.getMessage() and record.exc_info is not None
