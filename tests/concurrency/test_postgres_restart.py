"""PostgreSQL restarted in the middle of an order burst, under two `gateway serve` replicas.

While the database is away, requests fail with the retryable STORE_UNAVAILABLE (never
INTERNAL_ERROR) and /readyz answers 503; once it is back, the replicas' pools reconnect by
themselves. Nothing acknowledged is lost, nothing is half-written, and an order whose answer
was an error can be retried with the same id: it is placed at most once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from tests.concurrency.conftest import catalog, client, order_lines
from tests.concurrency.test_postgres_replicas import (
    burst,
    check_stored,
    place,
    replicas,
)
from tests.pgcluster import Cluster
from tests.postgres_support import with_database
from tests.servers import import_into

BURST = 900
STOP_AFTER = 60
BACK_WITHIN = 20.0


async def ready(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/readyz", timeout=10)


async def test_postgresql_restart_mid_burst_loses_nothing(private_cluster: Cluster,
                                                          tmp_path: Path) -> None:
    url = with_database(private_cluster.url(), "postgres")
    import_into(tmp_path, catalog(dict.fromkeys("ABC", 100_000)), url)
    requests = {f"restart-{n:04d}": order_lines(n) for n in range(BURST)}
    with replicas(url, tmp_path, count=2) as servers:
        acked, errors, broken = await burst(servers, requests,
                                            lambda: private_cluster.stop("fast"), STOP_AFTER)
        assert broken == [], (broken, [s.logs()[-3000:] for s in servers])  # all answered
        assert len(acked) >= STOP_AFTER and errors, (len(acked), len(errors))
        codes = {error.get("extensions", {}).get("code") for error in errors}
        assert codes == {"STORE_UNAVAILABLE"}, errors[:3]
        assert all("Unexpected error" not in error["message"] for error in errors)

        clients = [client(server.base) for server in servers]
        try:
            for http in clients:  # the database is away: not ready, and says why
                answer = await ready(http)
                assert answer.status_code == 503, answer.text
                assert answer.json()["code"] == "STORE_UNAVAILABLE"
                assert "retry-after" in answer.headers
            private_cluster.start()
            deadline = time.monotonic() + BACK_WITHIN
            for http in clients:  # the pools reconnect by themselves
                while (await ready(http)).status_code != 200:
                    assert time.monotonic() < deadline, "not ready again after the restart"
                    await asyncio.sleep(0.2)
            # Retry every order that was not acknowledged, with its id: each is placed once.
            missing = [order_id for order_id in requests if order_id not in acked]
            async with asyncio.timeout(60):
                results = await asyncio.gather(*(
                    place(clients[n % 2], order_id, requests[order_id])
                    for n, order_id in enumerate(missing)))
            assert all(result["ok"] for result in results), [r for r in results if not r["ok"]]
        finally:
            for http in clients:
                await http.aclose()
    check_stored(url, requests, set(requests))
