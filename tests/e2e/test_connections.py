"""Connections against a real ``gateway serve``: idle and slow clients are closed, a cap
protects the process, and none of it floods the log.

Waits here are bounded by the configured timeouts (a few seconds), with generous margins for
a loaded machine: they check that something happens, not how fast.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import Server, import_catalog, running_server
from tests.support import SHOP

HEADER_TIMEOUT = 2
BODY_TIMEOUT = 2
#: a closed connection must be noticed within the timeout plus this margin
MARGIN = 15.0
IDLE = 1100
#: the log of a server that was flooded stays this small
SMALL_LOG = 20_000
FAST = {"GATEWAY_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "GATEWAY_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "GATEWAY_REFUSAL_LOG_INTERVAL": "1"}
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
QUERY = {"query": '{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku salableQty } }'}


@pytest.fixture(scope="module", autouse=True)
def enough_file_descriptors() -> Iterator[None]:
    """This test process holds more than a thousand sockets at once."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE + 500
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the open-file hard limit ({hard}) is below {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def shop_db(tmp_path: Path) -> Path:
    return import_catalog(tmp_path, SHOP)


def host_port(server: Server) -> tuple[str, int]:
    host, port = server.base.removeprefix("http://").split(":")
    return host, int(port)


@contextlib.contextmanager
def idle_sockets(server: Server, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections that never send a byte."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection(host_port(server), timeout=10))
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def closed_by_server(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing ``sock``, or None if it stayed open."""
    sock.settimeout(within)
    received = b""
    deadline = time.monotonic() + within
    with contextlib.suppress(ConnectionResetError):
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return None
            if not chunk:
                return received
            received += chunk
    return received if time.monotonic() < deadline else None


def one_answer(sock: socket.socket) -> bytes:
    """Read one whole answer (head and ``content-length`` body) from ``sock``."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, received
        body += chunk
    assert len(body) == length, (head, body)
    return head + b"\r\n\r\n" + body


@contextlib.contextmanager
def kept_alive(server: Server) -> Iterator[socket.socket]:
    """A connection that has had one request answered (200) and is now kept alive."""
    sock = socket.create_connection(host_port(server), timeout=10)
    with sock:
        sock.sendall(HEALTHZ)
        answer = one_answer(sock)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        yield sock


def send_head_slowly(sock: socket.socket) -> None:
    """Start a request head, then add a byte now and then (which must not keep it open)."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    for _ in range(3):
        time.sleep(0.5)
        sock.sendall(b"X")


def answered(server: Server) -> httpx.Response:
    return httpx.post(f"{server.base}/graphql", json=QUERY, timeout=HEADER_TIMEOUT + MARGIN)


def assert_small_quiet_log(server: Server) -> None:
    log = server.logs()
    assert len(log) < SMALL_LOG, log[-3000:]
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]


@pytest.mark.parametrize("open_files", [(1024, None), (1024, 1024)],
                         ids=["soft-1024", "hard-1024"])
def test_a_thousand_idle_connections_lock_nobody_out(
        shop_db: Path, open_files: tuple[int, int | None]) -> None:
    """1,100 connections that never send a byte, on a server started with a soft open-file
    limit of 1024 (which it raises), or a hard one (which it cannot): a normal client is
    answered, the idle ones are closed after the header timeout, and the log stays small."""
    soft, hard = open_files
    limit = (soft, hard if hard is not None else resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    with running_server(shop_db, env=FAST, open_files=limit, args=("--log-level", "info")
                        ) as server, idle_sockets(server, IDLE) as sockets:
        response = answered(server)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["availability"] == [{"sku": "SHIRT", "salableQty": 7}]
        for sock in (sockets[0], sockets[len(sockets) // 2], sockets[-1]):
            assert closed_by_server(sock, HEADER_TIMEOUT + MARGIN) is not None
        time.sleep(1.5)  # past the refusal log interval: the summary line is written
        assert answered(server).status_code == 200
        assert_small_quiet_log(server)
        summaries = [line for line in server.logs().splitlines()
                     if "connections in the last" in line]
        assert any("without a complete request head" in line for line in summaries), summaries


def test_a_request_head_sent_too_slowly_gets_408(shop_db: Path) -> None:
    with running_server(shop_db, env=FAST) as server:
        sock = socket.create_connection(host_port(server), timeout=10)
        with sock:
            send_head_slowly(sock)
            received = closed_by_server(sock, HEADER_TIMEOUT + MARGIN)
        assert received is not None and received.startswith(b"HTTP/1.1 408"), received
        assert answered(server).status_code == 200
        assert_small_quiet_log(server)


def test_a_body_sent_too_slowly_is_closed_quietly(shop_db: Path) -> None:
    with running_server(shop_db, env=FAST) as server:
        sock = socket.create_connection(host_port(server), timeout=10)
        with sock:
            sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json"
                         b"\r\ncontent-length: 100\r\n\r\n{\"query\":")
            received = closed_by_server(sock, BODY_TIMEOUT + MARGIN)
        assert received is not None and received.startswith(b"HTTP/1.1 408"), received
        assert answered(server).status_code == 200
        assert_small_quiet_log(server)


def test_an_idle_keep_alive_connection_is_closed(shop_db: Path) -> None:
    with running_server(shop_db, env=FAST, args=("--keepalive-timeout", "1")) as server, \
            kept_alive(server) as sock:
        assert closed_by_server(sock, 1 + MARGIN) is not None


def test_a_keep_alive_longer_than_the_header_timeout_is_honoured(shop_db: Path) -> None:
    """A load balancer keeping connections for longer than the header timeout reuses them:
    after an answer, only the keep-alive timeout closes an idle connection."""
    keepalive = HEADER_TIMEOUT + 4
    with running_server(shop_db, env=FAST, args=("--keepalive-timeout", str(keepalive))
                        ) as server:
        with kept_alive(server) as sock:
            # past the header timeout, well within the keep-alive timeout: still open
            assert closed_by_server(sock, HEADER_TIMEOUT + 1.5) is None
            sock.sendall(HEALTHZ)
            answer = one_answer(sock)
            assert answer.startswith(b"HTTP/1.1 200"), answer
            assert closed_by_server(sock, HEADER_TIMEOUT + 1.5) is None
            assert closed_by_server(sock, keepalive + MARGIN) is not None
        assert_small_quiet_log(server)


def test_a_slow_head_on_a_kept_alive_connection_gets_408(shop_db: Path) -> None:
    """The header timeout runs from the first byte of the next request's head."""
    with running_server(shop_db, env=FAST, args=("--keepalive-timeout", "60")) as server:
        with kept_alive(server) as sock:
            send_head_slowly(sock)
            started = time.monotonic()
            received = closed_by_server(sock, HEADER_TIMEOUT + MARGIN)
        assert received is not None and received.startswith(b"HTTP/1.1 408"), received
        assert time.monotonic() - started < MARGIN  # the header timeout, not the keep-alive
        assert_small_quiet_log(server)


def test_a_client_leaving_mid_request_is_not_an_error(shop_db: Path) -> None:
    with running_server(shop_db, env=FAST) as server:
        for body in (b"{\"query\":", b""):
            sock = socket.create_connection(host_port(server), timeout=10)
            sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json"
                         b"\r\ncontent-length: 1000\r\n\r\n" + body)
            time.sleep(0.3)
            sock.close()
        time.sleep(0.5)
        assert answered(server).status_code == 200
        assert_small_quiet_log(server)


def test_over_the_connection_cap_idle_ones_make_room_then_newcomers_get_503(
        shop_db: Path) -> None:
    cap = 50
    with running_server(shop_db, env=FAST, args=("--max-connections", str(cap))) as server:
        # Idle connections give way to a client with a request ...
        with idle_sockets(server, cap):
            assert answered(server).status_code == 200
        time.sleep(0.5)
        # ... connections busy with a request (here: waiting for its body) do not.
        busy = []
        try:
            for _ in range(cap):
                sock = socket.create_connection(host_port(server), timeout=10)
                sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: "
                             b"application/json\r\ncontent-length: 100\r\n\r\n{")
                busy.append(sock)
            time.sleep(0.5)
            refused = []
            for _ in range(30):
                sock = socket.create_connection(host_port(server), timeout=10)
                with sock:
                    refused.append(closed_by_server(sock, MARGIN))
            assert all(r is not None and r.startswith(b"HTTP/1.1 503") for r in refused), \
                refused[:3]
            busy_answer = httpx.get(f"{server.base}/healthz", timeout=MARGIN)  # well-formed
            assert busy_answer.status_code == 503 and "too many" in busy_answer.text
        finally:
            for sock in busy:
                sock.close()
        time.sleep(1.5)  # one summary line per interval, with the count
        lines = [line for line in server.logs().splitlines() if "refused" in line]
        assert 1 <= len(lines) <= 3, lines
        assert_small_quiet_log(server)
