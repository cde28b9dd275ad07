"""/readyz (readiness) beside /healthz (liveness), in process."""

from __future__ import annotations

import pytest

from gateway.store.errors import StorageFull, StoreBusy, StoreError, StoreUnavailable
from tests.support import Api


async def test_ready_when_the_store_serves(api: Api) -> None:
    response = await api.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.mark.parametrize("error", [
    StorageFull("only 12 KiB free on the disk holding x: free some space"),
    StoreUnavailable("the database cannot be read: disk I/O error"),
    StoreBusy("another writer held the store too long"),
], ids=lambda e: type(e).__name__)
async def test_not_ready_when_the_store_says_so(api: Api, monkeypatch: pytest.MonkeyPatch,
                                                error: StoreError) -> None:
    async def not_ready() -> None:
        raise error

    monkeypatch.setattr(api.services.store, "check_ready", not_ready)
    response = await api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "code": error.code.value,
                               "reason": error.message}
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-request-id"]
    # Liveness is another question: the process is alive and answers.
    assert (await api.client.get("/healthz")).status_code == 200


async def test_not_ready_on_an_unexpected_failure(api: Api,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken() -> None:
        raise OSError("secret detail")

    monkeypatch.setattr(api.services.store, "check_ready", broken)
    response = await api.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["code"] == "STORE_UNAVAILABLE"
    assert "secret detail" not in response.text


async def test_not_ready_once_the_store_is_closed(api: Api) -> None:
    await api.services.store.close()  # e.g. during shutdown
    response = await api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "STORE_UNAVAILABLE"
