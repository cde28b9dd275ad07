"""The layers hold: api → services → domain, services → store; the domain imports no I/O.

Read from the source's import statements (module-level and inside functions alike), so a
shortcut from a resolver to the database fails here rather than in a review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"

#: Packages each layer must not import (its own and the layers below it are allowed).
FORBIDDEN = {
    "api": ("gateway.store", "sqlite3", "aiosqlite", "asyncpg"),
    "services": ("gateway.api", "strawberry", "starlette", "sqlite3", "aiosqlite", "asyncpg"),
    "domain": ("gateway.api", "gateway.services", "gateway.store", "gateway.catalog",
               "strawberry", "starlette", "sqlite3", "aiosqlite", "asyncpg", "asyncio",
               "pydantic", "socket", "subprocess"),
    "store": ("gateway.api", "gateway.services", "gateway.settings"),
}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations(layer: str) -> list[str]:
    banned = FORBIDDEN[layer]
    return [f"{path.relative_to(GATEWAY.parent)} imports {name}"
            for path in sorted((GATEWAY / layer).rglob("*.py"))
            for name in sorted(imports(path))
            if any(name == ban or name.startswith(ban + ".") for ban in banned)]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_or_beside_its_place(layer: str) -> None:
    assert violations(layer) == []


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from gateway.store import open_store\n")
    assert imports(module) == {"gateway.store"}


def store_reaches(path: Path) -> list[int]:
    """Lines where ``path`` reaches for a ``.store`` attribute (the services' store)."""
    return [node.lineno for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, ast.Attribute) and node.attr == "store"]


def test_the_api_never_reaches_through_a_service_to_its_store() -> None:
    reaches = {str(path.relative_to(GATEWAY.parent)): lines
               for path in sorted((GATEWAY / "api").rglob("*.py"))
               if (lines := store_reaches(path))}
    assert reaches == {}
