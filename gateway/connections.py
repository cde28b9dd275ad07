"""Connections of a worker process: timeouts, a cap, and a count of what was closed.

- **Timeouts.** A new connection must send a complete request head within ``header_timeout``
  seconds of opening, and the body within ``body_timeout`` once the head is in; otherwise it
  is closed (with a 408 when part of a request arrived). After an answer, the connection may
  stay idle for ``keepalive_timeout`` (uvicorn closes it then); the head of its next request
  must be complete within ``header_timeout`` of its first byte. (A keep-alive timeout longer
  than the header timeout is honoured: a load balancer that keeps connections for 60 s needs
  that, or it reuses connections the gateway is closing, and its requests fail.)
- **A cap.** At most ``max_connections`` open connections, lowered to fit the open-file limit.
  A connection beyond the cap closes the oldest connection that is waiting for a request head;
  when every connection is busy with a request, the newcomer gets a 503 and is closed.
  Accepting never fails for lack of file descriptors, so the accept loop never spins.
- **A count.** Closed and refused connections are logged once per ``refusal_log_interval``,
  one line with the counts.

:class:`GuardMixin` adds this to uvicorn's HTTP protocols (h11, and httptools when installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import resource
from collections import Counter, OrderedDict
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.settings import Settings

if TYPE_CHECKING:
    from uvicorn.server import ServerState

log = logging.getLogger("gateway.connections")

#: File descriptors kept for everything but client connections (SQLite files, pipes, logs).
FD_RESERVE = 64
MAX_BACKLOG = 2048  # uvicorn's default


def _answer(status: bytes, text: bytes, *headers: bytes) -> bytes:
    """A whole HTTP/1.1 answer that closes the connection."""
    head = [b"HTTP/1.1 " + status, b"content-type: text/plain; charset=utf-8",
            b"content-length: " + str(len(text)).encode(), b"connection: close", *headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + text


BUSY = _answer(b"503 Service Unavailable", b"Server busy: too many open connections.\r\n",
               b"retry-after: 1")
TIMEOUT = _answer(b"408 Request Timeout", b"Request too slow.\r\n")


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to its hard limit (inherited by workers);
    returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def accept_backlog() -> int:
    """The listen backlog, which is also how many connections asyncio accepts in one go
    (before any of them can be closed): small enough to fit the open-file limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_BACKLOG
    return max(16, min(MAX_BACKLOG, soft // 8))


def connection_cap(settings: Settings) -> int:
    """``max_connections``, lowered so that accepting a burst of connections beyond it cannot
    fail for lack of file descriptors."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return settings.max_connections
    return max(1, min(settings.max_connections, soft - FD_RESERVE - accept_backlog()))


class Closed(StrEnum):
    """Why the server refused or closed a connection (the refusal log counts each)."""

    REFUSED = "refused (over the connection limit)"
    EVICTED = "closed while idle to make room for new ones"
    SLOW_HEAD = "closed without a complete request head in time"
    SLOW_BODY = "closed for a request body sent too slowly"


class RateLimitedLog:
    """Counts closed connections and logs them at most once per interval, as one line with
    the counts."""

    def __init__(self, interval: float, limit: int, settings: Settings) -> None:
        self.interval = interval
        self.limit = limit
        self.settings = settings
        self.counts: Counter[Closed] = Counter()
        self.flush_scheduled = False

    def note(self, kind: Closed, loop: asyncio.AbstractEventLoop) -> None:
        self.counts[kind] += 1
        if not self.flush_scheduled:
            self.flush_scheduled = True
            loop.call_later(self.interval, self.flush)

    def flush(self) -> None:
        self.flush_scheduled = False
        counts, self.counts = self.counts, Counter()
        if not counts:
            return
        level = (logging.WARNING if counts[Closed.REFUSED] or counts[Closed.EVICTED]
                 else logging.INFO)
        parts = [f"{n} {kind.value}" for kind, n in counts.items()]
        log.log(level, "connections in the last %.0f s: %s (limit %d open, head %.0f s, "
                       "body %.0f s)", self.interval, ", ".join(parts), self.limit,
                self.settings.header_timeout, self.settings.body_timeout)


class ConnectionGuard:
    """Per worker process: the connection cap, the queue of connections waiting for a
    request head (oldest first: the first to go when room is needed), the refusal log."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cap = connection_cap(settings)
        self.waiting: OrderedDict[GuardMixin, None] = OrderedDict()
        self.log = RateLimitedLog(settings.refusal_log_interval, self.cap, settings)

    @staticmethod
    def of(server_state: ServerState, settings: Settings) -> ConnectionGuard:
        guard: ConnectionGuard | None = getattr(server_state, "gateway_guard", None)
        if guard is None:
            guard = ConnectionGuard(settings)
            server_state.gateway_guard = guard  # type: ignore[attr-defined]
        return guard

    def make_room(self, open_connections: int, loop: asyncio.AbstractEventLoop) -> bool:
        """Room for one more connection, closing the oldest waiting one if needed."""
        if open_connections < self.cap:
            return True
        if self.waiting:
            oldest, _ = self.waiting.popitem(last=False)
            oldest.close_for(Closed.EVICTED, None)
            return True
        self.log.note(Closed.REFUSED, loop)
        return False


if TYPE_CHECKING:
    _Protocol = H11Protocol  # what the mixin extends: uvicorn's h11 or httptools protocol
else:
    _Protocol = object


class GuardMixin(_Protocol):
    """The timeouts and the cap of :class:`ConnectionGuard`, over a uvicorn HTTP protocol
    (both of uvicorn's keep ``cycle``, ``transport``, ``loop``, ``server_state``)."""

    guard: ConnectionGuard
    refused = False
    timer: asyncio.TimerHandle | None = None
    partial = False  # bytes of a request head arrived since the last answer

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.guard = ConnectionGuard.of(self.server_state, _settings(self.config))
        if not self.guard.make_room(len(self.server_state.connections), self.loop):
            self.refused = True
            transport.write(BUSY)
            transport.close()
            return
        super().connection_made(transport)
        self._wait_for_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.refused:
            return
        self._stop_timer()
        self.guard.waiting.pop(self, None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        super().data_received(data)
        if self.transport.get_protocol() is not self:  # upgraded to a WebSocket
            self._stop_timer()
            self.guard.waiting.pop(self, None)
        elif self.cycle is not before:
            self._head_received()
        elif self in self.guard.waiting:
            self.partial = True
            if self.timer is None:  # the first bytes of the next head on a kept-alive one
                self._start_timer(self.guard.settings.header_timeout, self._head_timeout)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and (self.cycle is None or
                                                self.cycle.response_complete):
            self._wait_for_next_head()

    # -- the two timers -----------------------------------------------------------------------

    def _wait_for_head(self) -> None:
        """A new connection: its head must be complete within the header timeout."""
        self.partial = False
        self.guard.waiting[self] = None
        self._start_timer(self.guard.settings.header_timeout, self._head_timeout)

    def _wait_for_next_head(self) -> None:
        """Kept alive after an answer: idle until uvicorn's keep-alive timeout (evictable
        meanwhile); the header timeout starts with the first byte of the next head."""
        self.partial = False
        self.guard.waiting[self] = None
        self._stop_timer()

    def _head_received(self) -> None:
        self.guard.waiting.pop(self, None)
        self._stop_timer()
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not cycle.response_complete:
            self._start_timer(self.guard.settings.body_timeout,
                              functools.partial(self._body_timeout, cycle))

    def _head_timeout(self) -> None:
        self.timer = None
        if self in self.guard.waiting:
            self.guard.waiting.pop(self)
            self.close_for(Closed.SLOW_HEAD, TIMEOUT if self.partial else None)

    def _body_timeout(self, cycle: Any) -> None:
        self.timer = None
        if self.cycle is cycle and cycle.more_body and not cycle.response_complete:
            self.close_for(Closed.SLOW_BODY, TIMEOUT)

    def _start_timer(self, seconds: float, callback: Callable[[], None]) -> None:
        self._stop_timer()
        self.timer = self.loop.call_later(seconds, callback)

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def close_for(self, reason: Closed, answer: bytes | None) -> None:
        """Close this connection (counted under ``reason`` in the refusal log)."""
        self._stop_timer()
        if self.transport.is_closing():
            return
        self.guard.log.note(reason, self.loop)
        cycle = self.cycle
        if answer is not None and (cycle is None or cycle.response_complete
                                   or not cycle.response_started):
            self.transport.write(answer)  # nothing of another answer is on the wire
        self.transport.close()


class GuardedH11Protocol(GuardMixin, H11Protocol):
    """uvicorn's h11 protocol with the timeouts and the cap of :class:`ConnectionGuard`."""


def _settings(config: uvicorn.Config) -> Settings:
    settings = getattr(config, "gateway_settings", None)
    return settings if isinstance(settings, Settings) else Settings()


def _guarded_httptools() -> type[asyncio.Protocol] | None:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is not installed
        return None

    class GuardedHttpToolsProtocol(GuardMixin, HttpToolsProtocol):  # type: ignore[misc]
        """uvicorn's httptools protocol with the timeouts and the cap."""

    GuardedHttpToolsProtocol.__qualname__ = "GuardedHttpToolsProtocol"  # picklable by name
    return GuardedHttpToolsProtocol


GuardedHttpToolsProtocol = _guarded_httptools()


def guarded_protocol() -> type[asyncio.Protocol]:
    """The guarded protocol over the parser uvicorn's "auto" would pick (httptools when
    installed, else h11)."""
    return GuardedHttpToolsProtocol or GuardedH11Protocol
