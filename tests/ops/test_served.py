"""Operations on a real `gateway serve` process: metrics summed over workers, readiness,
request ids, JSON and access logs."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.multiprocess import MultiProcessCollector

from tests.ops.support import metric
from tests.servers import import_catalog, running_server
from tests.support import SHOP

SHELF = 'query Shelf { availability(channel: "eu_website", skus: ["SHIRT"]) { sku } }'


def shelf(base: str, request_id: str) -> httpx.Response:
    # A new connection per request, so the kernel spreads them over the workers.
    response = httpx.post(f"{base}/graphql", json={"query": SHELF},
                          headers={"x-request-id": request_id}, timeout=10)
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    assert response.headers["x-request-id"] == request_id
    return response


def per_worker_requests(directory: Path) -> list[float]:
    """GraphQL requests counted by each worker process (one counter file each)."""
    counts = []
    for file in sorted(directory.glob("counter_*.db")):
        total = sum(sample.value for family in MultiProcessCollector.merge([str(file)])
                    for sample in family.samples
                    if sample.name == "gateway_graphql_requests_total")
        counts.append(total)
    return counts


def both_answered(per_worker: list[float]) -> bool:
    return len(per_worker) == 2 and all(count > 0 for count in per_worker)


def test_two_workers_metrics_are_summed_and_logs_are_json(tmp_path: Path) -> None:
    db = import_catalog(tmp_path, SHOP)
    temp = tmp_path / "tmp"
    temp.mkdir()
    log = tmp_path / "server.log"
    env = {"TMPDIR": str(temp), "GATEWAY_LOG_FORMAT": "json", "GATEWAY_ACCESS_LOG": "1"}
    sent = 0
    with running_server(db, workers=2, log=log, env=env) as server, \
            ThreadPoolExecutor(8) as pool:
        (directory,) = temp.glob("gateway-metrics-*")  # the private metrics directory
        # Until both workers answered some (the kernel picks who accepts), at most 2000.
        # A worker's counter file appears with its first counted request, so "every
        # file counts more than zero" is not enough: there must be two files.
        while sent < 2000:
            list(pool.map(lambda i: shelf(server.base, f"e2e-{i}"), range(sent, sent + 20)))
            sent += 20
            if both_answered(per_worker_requests(directory)):
                break
        per_worker = per_worker_requests(directory)
        assert both_answered(per_worker), per_worker
        # Whichever worker answers the scrape reports both workers' requests.
        for _ in range(6):
            scraped = httpx.get(f"{server.base}/metrics", timeout=10)
            assert scraped.status_code == 200
            assert metric(scraped.text, "gateway_graphql_requests_total", operation="Shelf",
                          type="query") == sent
            assert metric(scraped.text, "gateway_graphql_request_duration_seconds_count",
                          operation="Shelf", type="query") == sent
        ready = httpx.get(f"{server.base}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert not directory.exists()  # removed when the server stopped

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    access = {line["request_id"]: line for line in lines if line["logger"] == "gateway.access"}
    assert len([i for i in access if i.startswith("e2e-")]) == sent
    line: dict[str, Any] = access["e2e-7"]
    assert line["method"] == "POST" and line["path"] == "/graphql" and line["status"] == 200
    assert line["operation"] == "Shelf" and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["time"].endswith("Z")


def test_access_log_is_off_by_default(tmp_path: Path) -> None:
    db = import_catalog(tmp_path, SHOP)
    log = tmp_path / "server.log"
    with running_server(db, log=log, env={"GATEWAY_LOG_FORMAT": "text"}) as server:
        shelf(server.base, "quiet-1")
        response = httpx.get(f"{server.base}/healthz", timeout=10)
        assert response.headers["x-request-id"]
    assert "quiet-1" not in log.read_text()
