"""Fixtures shared by every test package (see tests/support.py)."""

from tests.support import api, db_path, make_api

__all__ = ["api", "db_path", "make_api"]
