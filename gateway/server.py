"""``gateway serve``: uvicorn with the connection rules of the README's Security section.

The open-file limit is raised to its hard limit, every worker process serves with the guarded
protocol of :mod:`gateway.connections`, and the noisy messages of uvicorn and asyncio
("Invalid HTTP request received.", "socket.accept() out of system resource") are logged at
most once per ``refusal_log_interval``, with the count of those left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import uvicorn

from gateway.connections import (
    accept_backlog,
    connection_cap,
    guarded_protocol,
    raise_open_file_limit,
)
from gateway.settings import Settings

log = logging.getLogger("gateway.server")

# -- logs -------------------------------------------------------------------------------------

class RepeatFilter(logging.Filter):
    """Lets the first of a noisy message through per interval, then one line with the count
    of those it dropped."""

    def __init__(self, messages: tuple[str, ...], interval: float) -> None:
        super().__init__()
        self.messages = messages
        self.interval = interval
        self.last: dict[str, float] = {}
        self.dropped: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        key = next((m for m in self.messages if text.startswith(m)), None)
        if key is None:
            return True
        now = time.monotonic()
        if now - self.last.get(key, -self.interval) < self.interval:
            self.dropped[key] += 1
            return False
        self.last[key] = now
        if self.dropped[key]:
            record.msg = f"{text} ({self.dropped.pop(key)} more in the last " \
                         f"{self.interval:.0f} s)"
        record.exc_info = None  # one line: the cause is in the message
        return True


NOISY = ("Invalid HTTP request received.", "socket.accept() out of system resource",
         "Exceeded concurrency limit.")


def quiet_noisy_logs(loop: asyncio.AbstractEventLoop, interval: float) -> None:
    """Rate-limit the noisy messages of uvicorn and asyncio for this worker process."""
    repeat = RepeatFilter(NOISY, interval)
    logger = logging.getLogger("uvicorn.error")
    for old in [f for f in logger.filters if isinstance(f, RepeatFilter)]:
        logger.removeFilter(old)
    logger.addFilter(repeat)

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if message.startswith(NOISY):
            cause = context.get("exception")
            text = f"{message}: {cause}" if cause is not None else message
            record = log.makeRecord(log.name, logging.WARNING, __file__, 0, text, (), None)
            if repeat.filter(record):
                log.handle(record)
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


# -- serving ----------------------------------------------------------------------------------

class GatewayConfig(uvicorn.Config):
    """uvicorn's config carrying the gateway's settings to every worker process."""

    def __init__(self, app: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.gateway_settings = settings

    def get_loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        base = super().get_loop_factory() or asyncio.new_event_loop
        interval = self.gateway_settings.refusal_log_interval

        def new_loop() -> asyncio.AbstractEventLoop:
            loop = base()
            quiet_noisy_logs(loop, interval)
            return loop
        return new_loop


def serve(app_factory: Callable[[], Any], settings: Settings, *, host: str, port: int,
          workers: int, log_config: dict[str, Any], loop: str = "asyncio",
          http: type[asyncio.Protocol] | None = None) -> None:
    """Serve ``app_factory()`` with ``workers`` processes until interrupted.

    HTTP is parsed by httptools (C) through the guarded protocol, on the standard library's
    asyncio loop; ``loop``/``http`` choose others for benchmarks (bench/lane.py), README,
    "Performance", says what each costs."""
    soft = raise_open_file_limit()
    cap = connection_cap(settings)
    if cap < settings.max_connections:
        log.warning("at most %d connections per worker: the open-file limit is %d "
                    "(GATEWAY_MAX_CONNECTIONS=%d)", cap, soft, settings.max_connections)
    config = GatewayConfig(app_factory, settings, factory=True, host=host, port=port,
                           workers=workers, access_log=False, loop=loop,
                           http=http or guarded_protocol(), backlog=accept_backlog(),
                           timeout_keep_alive=settings.keepalive_timeout,
                           log_config=log_config, log_level=settings.log_level)
    if workers <= 1:
        # uvicorn re-raises the Ctrl+C it handled once it has shut down: not worth a traceback
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config).run()
        return
    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    # Workers inherit this listening socket; without TCP_NODELAY on it (accepted sockets copy
    # it on Linux) every keep-alive response waits ~40 ms for the client's delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[sock]).run()
