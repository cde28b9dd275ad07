"""--db / GATEWAY_DATABASE: paths, sqlite:/// URLs, PostgreSQL URLs, unknown schemes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gateway.settings import ConfigurationError, Settings
from gateway.store.url import (
    DatabaseKind,
    DatabaseUrl,
    DatabaseUrlError,
    UnsupportedDatabase,
    display,
    parse_database_url,
    sqlite_path,
)
from tests.servers import GATEWAY, ROOT
from tests.support import SHOP


@pytest.mark.parametrize(("value", "expected"), [
    ("data/gateway.sqlite3", DatabaseUrl(DatabaseKind.SQLITE, "data/gateway.sqlite3")),
    ("/var/lib/gw.db", DatabaseUrl(DatabaseKind.SQLITE, "/var/lib/gw.db")),
    ("sqlite:///data/gw.db", DatabaseUrl(DatabaseKind.SQLITE, "data/gw.db")),
    ("sqlite:////var/lib/gw.db", DatabaseUrl(DatabaseKind.SQLITE, "/var/lib/gw.db")),
    ("SQLite:///gw.db", DatabaseUrl(DatabaseKind.SQLITE, "gw.db")),
    ("postgresql://u:p@db:5432/shop", DatabaseUrl(DatabaseKind.POSTGRESQL,
                                                  "postgresql://u:p@db:5432/shop")),
    ("postgres://u@db/shop", DatabaseUrl(DatabaseKind.POSTGRESQL, "postgres://u@db/shop")),
])
def test_accepted_values(value: str, expected: DatabaseUrl) -> None:
    assert parse_database_url(value) == expected


@pytest.mark.parametrize(("value", "says"), [
    ("mysql://u@h/db", "'mysql://'"),
    ("postgresql+asyncpg://u@h/db", "'postgresql+asyncpg://'"),
    ("http://example/db", "'http://'"),
    ("sqlite://relative.db", "sqlite:///"),
    ("sqlite:///", "sqlite:///"),
    ("", "empty"),
    (":memory:", "in-memory"),
])
def test_refused_values(value: str, says: str) -> None:
    with pytest.raises(DatabaseUrlError) as refused:
        parse_database_url(value)
    assert says in str(refused.value)


def test_a_postgresql_url_is_not_a_sqlite_file() -> None:
    url = parse_database_url("postgresql://u:secret@h/db")
    with pytest.raises(UnsupportedDatabase, match="is a PostgreSQL database") as refused:
        sqlite_path(url)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize(("value", "shown"), [
    ("postgresql://u:secret@h:5432/db?sslmode=require", "postgresql://u:***@h:5432/db?sslmode=require"),
    ("postgres://u@h/db", "postgres://u@h/db"),
    ("data/gateway.sqlite3", "data/gateway.sqlite3"),
])
def test_a_database_is_displayed_without_its_password(value: str, shown: str) -> None:
    assert display(value) == shown


def test_settings_refuse_an_unknown_scheme() -> None:
    with pytest.raises(ConfigurationError, match=r"GATEWAY_DATABASE.*'mysql://'"):
        _from_env({"GATEWAY_DATABASE": "mysql://x/y"})
    with pytest.raises(ConfigurationError, match=r"--db='ftp://x'"):
        Settings.from_env(database="ftp://x")


def _from_env(environ: dict[str, str]) -> Settings:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environ.items():
            patch.setenv(name, value)
        return Settings.from_env()


def gateway(*args: str, cwd: Path, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([*GATEWAY, *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=environ, check=False)


@pytest.mark.parametrize("command", [["export"], ["explain", "SHIRT", "--channel", "eu"],
                                     ["compact-reservations"]])
def test_commands_that_read_refuse_a_missing_database(tmp_path: Path,
                                                      command: list[str]) -> None:
    result = gateway(*command, "--db", "typo.sqlite3", cwd=tmp_path)
    assert result.returncode == 2
    assert "there is no database at typo.sqlite3" in result.stderr
    assert not (tmp_path / "typo.sqlite3").exists()  # nothing was created
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["export"], ["serve"], ["import", "x.json"]])
def test_a_postgresql_url_never_becomes_a_folder(tmp_path: Path, command: list[str]) -> None:
    # Nothing listens on port 1: the server cannot be reached.
    result = gateway(*command, "--db", "postgresql://u:secret@127.0.0.1:1/shop", cwd=tmp_path)
    assert result.returncode == 2
    if command[0] != "import":  # import first says the file is missing
        assert "error: PostgreSQL at 127.0.0.1:1/shop cannot be reached" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no "postgresql:" folder
    result = gateway(*command, cwd=tmp_path, env={"GATEWAY_DATABASE": "mysql://u@db/shop"})
    assert result.returncode == 2 and "unknown database scheme 'mysql://'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_url_works_like_a_path(tmp_path: Path) -> None:
    import json

    (tmp_path / "shop.json").write_text(json.dumps(SHOP))
    imported = gateway("import", "shop.json", "--db", "sqlite:///data/shop.db", "--quiet",
                       cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert (tmp_path / "data" / "shop.db").is_file()
    exported = gateway("export", "--db", "sqlite:///data/shop.db", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert {p["sku"] for p in json.loads(exported.stdout)["products"]} == \
        {p["sku"] for p in SHOP["products"]}
