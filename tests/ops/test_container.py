"""The container files, checked with what this machine has (no Docker engine here): the
Dockerfile's instructions and build context, and compose.yaml's structure."""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import ROOT

DOCKERFILE = ROOT / "Dockerfile"
NEVER_IN_CONTEXT = [".venv/bin/python", ".git/HEAD", "data/gateway.sqlite3",
                    "data/gateway.sqlite3-wal", "gateway/__pycache__/cli.cpython-311.pyc",
                    ".pytest_cache/README.md", ".mypy_cache/3.11/x.json",
                    ".ruff_cache/CACHEDIR.TAG", ".hypothesis/examples/x", "tests/x.db"]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def ignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matching a directory
    excludes everything below it; ``**`` matches any number of directories."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*") \
            .replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


def copied_sources() -> list[str]:
    sources = []
    for word, rest in instructions():
        if word in ("COPY", "ADD"):
            args = [a for a in shlex.split(rest) if not a.startswith("--")]
            if "--from=" in rest:
                continue  # from another build stage, not from the context
            sources.extend(args[:-1])
    return sources


def test_every_copied_file_is_in_the_build_context() -> None:
    patterns = ignore_patterns()
    sources = copied_sources()
    assert {"requirements.lock", "pyproject.toml", "gateway",
            "data/demo-catalog.json"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(source, patterns), f"{source} is excluded by .dockerignore"
    # Every tracked file of the package reaches the build.
    package = subprocess.run(["git", "ls-files", "gateway"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert package and not [f for f in package if ignored(f, patterns)]


@pytest.mark.parametrize("path", NEVER_IN_CONTEXT)
def test_the_context_leaves_out_environments_databases_and_caches(path: str) -> None:
    assert ignored(path, ignore_patterns()), path


def test_the_real_context_is_small_and_clean() -> None:
    patterns = ignore_patterns()
    files = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()]
    context = [f for f in files if not ignored(f, patterns)]
    assert not [f for f in context if fnmatch.fnmatch(f, "*.sqlite3*") or ("/." in "/" + f
                and not f.startswith((".dockerignore", ".gitignore")))]
    assert sum((ROOT / f).stat().st_size for f in context) < 20 * 1024 * 1024


def test_the_image_is_slim_non_root_healthy_and_listens_everywhere() -> None:
    steps = instructions()
    bases = [rest.split()[0] for word, rest in steps if word == "FROM"]
    assert bases and all(re.fullmatch(r"python:3\.\d+-slim", base) for base in bases)
    runs = " ".join(rest for word, rest in steps if word == "RUN")
    assert "pip install -r requirements.lock" in runs
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    final = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM"):]
    assert [rest for word, rest in final if word == "USER"], "the final stage runs as root"
    (health,) = [rest for word, rest in steps if word == "HEALTHCHECK"]
    assert "/readyz" in health and "127.0.0.1:8000" in health
    (cmd,) = [rest for word, rest in steps if word == "CMD"]
    assert "0.0.0.0" in cmd and "serve" in cmd
    assert any(word == "VOLUME" and "/data" in rest for word, rest in steps)
    env = " ".join(rest for word, rest in steps if word == "ENV")
    assert "GATEWAY_DATABASE=/data/" in env


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def test_compose_runs_the_gateway_on_sqlite_with_a_named_volume() -> None:
    document = compose()
    gateway = document["services"]["gateway"]
    assert gateway["build"] == "."
    database = gateway["environment"]["GATEWAY_DATABASE"]
    assert database == "${GATEWAY_DATABASE:-/data/gateway.sqlite3}"  # SQLite unless told
    mounts = dict(mount.split(":", 1) for mount in gateway["volumes"])
    volume = next(name for name, target in mounts.items() if target == "/data")
    assert volume in document["volumes"]  # a named volume, not a host folder
    assert any(port.endswith(":8000") for port in gateway["ports"])
    # PostgreSQL only runs with its profile: a plain `docker compose up` is the gateway alone.
    assert [name for name, service in document["services"].items()
            if "profiles" not in service] == ["gateway"]


def test_compose_imports_the_demo_shop_on_first_start_only() -> None:
    script = compose()["services"]["gateway"]["command"][-1]
    first, serve = [line.strip() for line in script.strip().splitlines()]
    # `gateway export` exits 2 for a database that does not exist yet (no file, no schema).
    assert first.startswith("gateway export > /dev/null 2>&1 ||")
    imported = shlex.split(first.split("||")[1])
    assert imported[:2] == ["gateway", "import"]
    # The file it imports is where the Dockerfile copies the demo catalog.
    workdir = next(rest for word, rest in reversed(instructions()) if word == "WORKDIR")
    copies = [shlex.split(rest) for word, rest in instructions() if word == "COPY"]
    targets = {str(Path(workdir) / args[-1]) for args in copies
               if args[0] == "data/demo-catalog.json"}
    assert imported[2] in targets
    assert "--host 0.0.0.0" in serve and serve.startswith("exec gateway serve")


def test_compose_runs_postgresql_with_its_profile() -> None:
    document = compose()
    service = document["services"]["postgres"]
    assert service["profiles"] == ["postgres"]
    assert service["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(service["healthcheck"]["test"])
    mounts = dict(mount.split(":", 1) for mount in service["volumes"])
    assert mounts["postgres-data"] == "/var/lib/postgresql/data"
    assert "postgres-data" in document["volumes"]
    # The gateway waits for it when it runs, and runs without it otherwise.
    dependency = document["services"]["gateway"]["depends_on"]["postgres"]
    assert dependency == {"condition": "service_healthy", "required": False}
    # The URL the header comment gives names this service and its credentials.
    text = (ROOT / "compose.yaml").read_text()
    env = service["environment"]
    url = (f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/"
           f"{env['POSTGRES_DB']}")
    assert f"GATEWAY_DATABASE={url}" in text
    assert "docker compose --profile postgres up --build" in text
