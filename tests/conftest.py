"""Fixtures shared by every test package (see tests/support.py, tests/postgres_support.py)."""

from __future__ import annotations

import pytest

from tests.postgres_support import (
    UNAVAILABLE,
    postgres_server,
    postgres_url,
    private_cluster,
    stop_server,
)
from tests.support import api, db_path, make_api

__all__ = ["api", "db_path", "make_api", "postgres_server", "postgres_url", "private_cluster"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_server()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if UNAVAILABLE:
        terminalreporter.write_sep("=", "PostgreSQL", yellow=True)
        terminalreporter.write_line(UNAVAILABLE[0])
