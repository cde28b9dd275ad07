"""Shared helpers for the hand-run benchmarks (not a test module).

- :class:`Server`: start a server process in its own session, wait for ``/healthz``, stop it
  (SIGINT, then SIGKILL of its process group after a grace period), measure its CPU time.
- :func:`run_load`: a small closed-loop HTTP/1.1 keep-alive load generator on raw asyncio
  streams (no HTTP client library: it must stay light, it shares the 2 cores with the server).
- :func:`import_catalog`: ``gateway import`` into a database file.

Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_note() -> str:
    """Cores and load average: other processes on the machine skew every number."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def import_catalog(catalog: Path, db: Path) -> None:
    """``gateway import FILE --db DB`` (a fresh file), failing loudly."""
    subprocess.run([PYTHON, "-m", "gateway.cli", "import", str(catalog), "--db", str(db),
                    "--quiet"], cwd=ROOT, check=True)


# -- server processes ----------------------------------------------------------------------

def _process_stats() -> Iterator[tuple[int, list[str]]]:
    """(pid, /proc stat fields from field 3 on) of every live process. fields[0] is field 3
    (state): ppid is field 4, pgrp 5, utime 14, stime 15."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        yield int(entry), stat[stat.rindex(")") + 2:].split()


def _cpu_seconds(stats: Iterable[tuple[int, list[str]]]) -> float:
    return sum(int(f[11]) + int(f[12]) for _, f in stats) / CLK_TCK


def _group_stats(pgid: int) -> list[tuple[int, list[str]]]:
    """The stats of every live process in group ``pgid``."""
    return [(pid, fields) for pid, fields in _process_stats() if int(fields[2]) == pgid]


def _group_cpu_seconds(pgid: int) -> float:
    """user+system CPU seconds of every live process in process group ``pgid``."""
    return _cpu_seconds(_group_stats(pgid))


def tree_cpu_seconds(pid: int) -> float:
    """user+system CPU seconds of process ``pid`` and its live children (a PostgreSQL
    postmaster and its backends)."""
    return _cpu_seconds((p, f) for p, f in _process_stats() if p == pid or int(f[1]) == pid)


def group_pids(pgid: int) -> list[int]:
    return sorted(pid for pid, _ in _group_stats(pgid))


@dataclass
class Server:
    """A server command run in its own session (process group) on 127.0.0.1:``port``."""

    argv: Sequence[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    name: str = "server"
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(list(self.argv), cwd=ROOT, env=env,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        url = f"http://{HOST}:{self.port}/healthz"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout:.0f} s")

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        return _group_cpu_seconds(self.proc.pid)

    def worker_pids(self) -> list[int]:
        """The server's processes (the uvicorn supervisor first when there are workers)."""
        assert self.proc is not None
        return group_pids(self.proc.pid)

    def stop(self, grace: float = 10.0) -> None:
        """SIGINT (uvicorn's graceful shutdown), then SIGKILL to the group after ``grace``."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        # Workers left behind by a crashed supervisor (same process group, started by us).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def gateway_server(db: Path, port: int, workers: int, env: dict[str, str] | None = None) -> Server:
    """``gateway serve`` exactly as documented (access log off, stdlib asyncio loop)."""
    return Server([PYTHON, "-m", "gateway.cli", "serve", "--db", str(db), "--host", HOST,
                   "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
                  port, {"GATEWAY_ADMIN_TOKEN": "bench-token", **(env or {})}, name="gateway")


# -- load generator ------------------------------------------------------------------------

def post_request(path: str, body: bytes, port: int, headers: dict[str, str] | None = None) -> bytes:
    head = [f"POST {path} HTTP/1.1", f"Host: {HOST}:{port}", "Content-Type: application/json",
            f"Content-Length: {len(body)}", "Connection: keep-alive"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class LoadResult:
    duration: float
    latencies: list[float]  # seconds, requests completed in the measured window
    errors: int  # transport errors and non-200 answers in the measured window
    client_cpu: float  # CPU seconds of this (client) process in the measured window
    server_cpu: float | None = None  # CPU seconds of the server's processes in the window
    reported: dict[float, float] | None = None  # wrk: its count and percentiles, no samples
    reported_count: int = 0

    @property
    def count(self) -> int:
        return self.reported_count if self.reported is not None else len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.duration if self.duration else 0.0

    def percentile(self, p: float) -> float:
        if self.reported is not None:
            return self.reported.get(p, float("nan"))
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def summary(self, unit: str = "req/s") -> str:
        text = (f"{self.rate:8.1f} {unit}  p50 {self.percentile(50) * 1000:7.2f} ms  "
                f"p99 {self.percentile(99) * 1000:7.2f} ms  ({self.count} in "
                f"{self.duration:.1f} s, {self.errors} errors; CPU: ")
        text += "client (wrk) n/a" if self.reported is not None else \
            f"client {self.client_cpu / self.duration:.0%}"
        if self.server_cpu is not None:
            text += f", server {self.server_cpu / self.duration:.0%}"
        return text + " of one core)"


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise RuntimeError("chunked answers are not supported by this load generator")
    if length is None:
        raise RuntimeError("answer without Content-Length")
    return status, await reader.readexactly(length)


async def _load(port: int, make_request: Callable[[int], bytes],
                check: Callable[[int, bytes], None] | None, concurrency: int, warmup: float,
                duration: float, server: Server | None) -> LoadResult:
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    stop_at = measure_from + duration
    latencies: list[float] = []
    errors = 0
    counter = 0
    marks: dict[str, float] = {}

    async def mark() -> None:
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        marks["cpu"] = time.process_time()
        marks["server"] = server.cpu_seconds() if server else 0.0

    async def connection() -> None:
        nonlocal errors, counter
        reader = writer = None
        while loop.time() < stop_at:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                assert reader is not None
                counter += 1
                request = make_request(counter)
                t0 = loop.time()
                writer.write(request)
                status, body = await _read_response(reader)
                t1 = loop.time()
                if status != 200:
                    raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
                if check is not None:
                    check(status, body)
                if measure_from <= t1 <= stop_at:
                    latencies.append(t1 - t0)
            except (OSError, RuntimeError, asyncio.IncompleteReadError) as exc:
                if loop.time() >= measure_from:
                    errors += 1
                if errors <= 3:
                    print(f"  load error: {exc!r}", file=sys.stderr)
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.05)
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    marker = asyncio.create_task(mark())
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    await marker
    # Everything started before stop_at has finished: read the CPU counters now (the tail is
    # at most one request per connection).
    end = max(loop.time(), stop_at)
    client_cpu = time.process_time() - marks["cpu"]
    server_cpu = server.cpu_seconds() - marks["server"] if server else None
    return LoadResult(min(duration, end - measure_from), latencies, errors, client_cpu,
                      server_cpu)


def run_load(port: int, make_request: Callable[[int], bytes], *, concurrency: int,
             warmup: float, duration: float, check: Callable[[int, bytes], None] | None = None,
             server: Server | None = None) -> LoadResult:
    """Closed loop: ``concurrency`` keep-alive connections, each sending its next request as
    soon as the previous answer arrived, for ``warmup`` + ``duration`` seconds; only requests
    completed in the last ``duration`` seconds are measured. ``check`` sees every 200 answer
    (it may raise RuntimeError to count an error)."""
    return asyncio.run(_load(port, make_request, check, concurrency, warmup, duration, server))


def graphql_body(query: str, variables: dict[str, object]) -> bytes:
    return json.dumps({"query": query, "variables": variables}, separators=(",", ":")).encode()


# -- wrk (optional cross-check of the Python client) ----------------------------------------

def run_wrk(port: int, path: str, body: bytes, *, concurrency: int, warmup: float,
            duration: float, workdir: Path, server: Server | None = None) -> LoadResult:
    """The same fixed POST through ``wrk -t1`` (C, much cheaper than the Python client);
    p50/p99 come from wrk's ``--latency`` report."""
    script = workdir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body.decode())}\n")
    url = f"http://{HOST}:{port}{path}"
    if warmup > 0:
        subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(warmup))}s", "-s",
                        str(script), url], check=True, capture_output=True)
    cpu0 = server.cpu_seconds() if server else 0.0
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{round(duration)}s", "--latency",
                          "-s", str(script), url], check=True, capture_output=True,
                         text=True).stdout
    server_cpu = server.cpu_seconds() - cpu0 if server else None
    rate = p50 = p99 = 0.0
    errors = 0
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            rate = float(words[1])
        elif len(words) == 2 and words[0] in ("50%", "99%"):
            value = _wrk_seconds(words[1])
            if words[0] == "50%":
                p50 = value
            else:
                p99 = value
        elif "Non-2xx" in line or "Socket errors" in line:
            errors += sum(int(w.strip(",")) for w in words if w.strip(",").isdigit())
    return LoadResult(duration, [], errors, 0.0, server_cpu, reported={50: p50, 99: p99},
                      reported_count=round(rate * duration))


def _wrk_seconds(text: str) -> float:
    for suffix, scale in (("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * scale
    return float(text)


# -- profiling -----------------------------------------------------------------------------

def profile_under_load(server: Server, load: Callable[[float], object], seconds: float,
                       out: Path, top: int, keep: str | None = None) -> None:
    """``py-spy record`` every process of ``server`` (non-blocking sampling, 200 Hz) while
    ``load(seconds)`` runs, then print the top frames (and copy the raw stacks to ``keep``).
    The load generator and py-spy share the cores with the server: profile runs are for the
    shape of the costs, not for throughput numbers."""
    pyspy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    if not Path(pyspy).exists():
        print("py-spy not found: `.venv/bin/pip install py-spy`", file=sys.stderr)
        return
    duration = max(2, round(seconds))
    spy = subprocess.Popen([pyspy, "record", "--pid", str(server.worker_pids()[0]),
                            "--subprocesses", "--nonblocking", "--rate", "200",
                            "--duration", str(duration), "--format", "raw",
                            "--output", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        load(duration + 1.0)
    finally:
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
    if not out.exists():
        print("py-spy wrote nothing (is ptrace permitted?)", file=sys.stderr)
        return
    summarize_profile(out, top)
    if keep:
        shutil.copy(out, keep)


#: Inclusive shares worth naming: label -> a substring of the frame.
KEY_FRAMES = (
    ("GraphQL validation (validate_document)", "validate_document (strawberry"),
    ("GraphQL execution (graphql-core executor)", "Executor.execute_operation"),
    ("gateway availability use case (load + domain)", "InventoryService.availability ("),
    ("gateway placeOrder use case", "OrderService.place_order ("),
    ("  domain: settings inheritance (resolve)", "resolve (gateway/domain/inheritance.py"),
    ("  store: SqliteStore._run (await aiosqlite)", "SqliteStore._run ("),
    ("aiosqlite worker thread (SQLite itself)", "_connection_worker_thread ("),
    ("HTTP/1.1 h11 protocol (parse + send)", "H11Protocol.data_received ("),
    ("request body parsing (strawberry)", "parse_http_body ("),
    ("result to JSON (encode_json)", "encode_json ("),
)


def summarize_profile(path: Path, top: int) -> None:
    """Self and inclusive sample shares per frame from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return
    print(f"\nprofile: {total} samples of non-idle threads, all server processes")
    print(f"  top {top} self:")
    for frame, count in own.most_common(top):
        print(f"    {count / total:6.1%}  {frame}")
    print("  inclusive shares of named stages:")
    for label, needle in KEY_FRAMES:
        count = sum(n for frame, n in inclusive.items() if needle in frame)
        if count:
            print(f"    {count / total:6.1%}  {label}")
