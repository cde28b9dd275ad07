"""Logging, configured once per process at startup.

One format for the gateway's own loggers and uvicorn's: time, level, logger, message, on
standard error. :func:`logging_config` is also handed to uvicorn, so every worker process of
``gateway serve --workers N`` configures itself the same way.
"""

from __future__ import annotations

import logging.config
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def logging_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the ``gateway`` and ``uvicorn`` loggers."""
    level = level.upper()
    handler = {"class": "logging.StreamHandler", "formatter": "plain",
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": FORMAT}},
        "handlers": {"stderr": handler},
        "loggers": {
            "gateway": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }


def configure_logging(level: str = "info") -> None:
    """Install :func:`logging_config` (idempotent: a second call replaces the first)."""
    logging.config.dictConfig(logging_config(level))
