"""Logging, configured once per process at startup, and the request id of the running request.

One configuration for the gateway's own loggers and uvicorn's, on standard error, in one of two
formats: ``text`` (time, level, logger, request id, message) or ``json`` (one JSON object per
line: ``time``, ``level``, ``logger``, ``message``, ``request_id`` inside a request,
``exception`` when there is one, and the access-log fields). :func:`logging_config` is also
handed to uvicorn, so every worker process of ``gateway serve --workers N`` configures itself
the same way.

The request id lives in a context variable set by the request middleware
(:mod:`gateway.api.middleware`); every log line written while a request runs carries it.
"""

from __future__ import annotations

import logging
import logging.config
import time
from contextvars import ContextVar
from typing import Any, Literal

import orjson

LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
#: The logger of the access log (one line per request, when switched on).
ACCESS_LOGGER = "gateway.access"
#: Fields of an access-log line (``extra=``), written as JSON keys or after the text message.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "operation")


class RequestState:
    """What the middleware knows about the running request (one per HTTP request)."""

    __slots__ = ("execution", "request_id")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        #: The GraphQL execution context, once the request reached GraphQL (for metrics).
        self.execution: Any = None


#: The running request, set by the middleware for the duration of one HTTP request.
CURRENT_REQUEST: ContextVar[RequestState | None] = ContextVar("gateway_request", default=None)


def current_request_id() -> str | None:
    """The id of the request being served by this task, or None outside a request."""
    state = CURRENT_REQUEST.get()
    return state.request_id if state is not None else None


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; never raises on odd messages or arguments."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "-")
        if request_id != "-":
            entry["request_id"] = request_id
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def _iso_time(created: float) -> str:
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def logging_config(level: str = "info", fmt: LogFormat = "text",
                   access_log: bool = False) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the ``gateway`` and ``uvicorn`` loggers.

    With ``access_log`` the access logger writes at INFO whatever ``level`` is: it was asked
    for explicitly (``GATEWAY_ACCESS_LOG=1``) and would otherwise vanish under ``warning``.
    """
    level = level.upper()
    handler = {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["request_id"],
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"text": {"format": TEXT_FORMAT}, "json": {"()": JsonFormatter}},
        "handlers": {"stderr": handler},
        "loggers": {
            "gateway": {"handlers": ["stderr"], "level": level, "propagate": False},
            ACCESS_LOGGER: {"level": "INFO" if access_log else "WARNING"},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }


def configure_logging(level: str = "info", fmt: LogFormat = "text",
                      access_log: bool = False) -> None:
    """Install :func:`logging_config` (idempotent: a second call replaces the first)."""
    logging.config.dictConfig(logging_config(level, fmt, access_log))
