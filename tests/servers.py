"""Real `gateway` processes for tests that need a server: import with the CLI, serve, stop.

Servers are started in their own session (process group) so that a test can stop them
cleanly (SIGINT to the uvicorn master) or crash them with their worker children (SIGKILL to
the whole group). Logs go to a file, never to a pipe.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
GATEWAY = [sys.executable, "-m", "gateway.cli"]
#: 4 workers importing Strawberry on a slow 2-core CI can take a while.
STARTUP_TIMEOUT = 60.0


def import_catalog(tmp_path: Path, document: dict[str, Any]) -> Path:
    """Write ``document`` as JSON and import it with the CLI into a fresh database file."""
    db = tmp_path / "gateway.sqlite3"
    import_into(tmp_path, document, str(db))
    return db


def import_into(tmp_path: Path, document: dict[str, Any], database: str) -> None:
    """Write ``document`` as JSON and import it with the CLI into ``database`` (a file path or
    a postgresql:// URL)."""
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document))
    result = subprocess.run([*GATEWAY, "import", str(path), "--db", database, "--quiet"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    def kill_all(self) -> None:
        """SIGKILL the master and every worker (the whole process group), then reap."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (graceful uvicorn shutdown), then SIGKILL the group if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
    # Workers left behind (crash or hang) are killed with the group in every case.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@contextlib.contextmanager
def running_server(db: Path | str, workers: int = 1, token: str = "test-token", *,
                   log: Path | None = None,
                   env: dict[str, str] | None = None,
                   args: tuple[str, ...] = (),
                   open_files: tuple[int, int] | None = None) -> Iterator[Server]:
    """Serve ``db`` (a file, or a postgresql:// URL with ``log`` given) with ``workers``
    processes on a free port; yield once /healthz is 200.

    The background reservation compaction is off unless ``env`` turns it on: the tests read
    reservation rows and must not race a compaction round. ``args`` are added to the command
    line; ``open_files`` (soft, hard) is the server's RLIMIT_NOFILE.
    """
    port = free_port()
    if log is None:
        assert isinstance(db, Path), "give the log file of a server on a database URL"
        log = db.with_name(f"server-{port}.log")
    environ = {**os.environ, "GATEWAY_ADMIN_TOKEN": token, "GATEWAY_COMPACT_INTERVAL": "0",
               **(env or {})}
    environ.pop("GATEWAY_ENV", None)

    def limit_open_files() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, open_files)

    with log.open("w") as out:
        proc = subprocess.Popen(
            [*GATEWAY, "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--log-level", "warning", *args],
            cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=limit_open_files if open_files is not None else None)
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}: {server.logs()}")
            try:
                if httpx.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not healthy within {STARTUP_TIMEOUT:.0f} s: "
                            f"{server.logs()}")
            time.sleep(0.1)
        yield server
    finally:
        _stop(proc)
