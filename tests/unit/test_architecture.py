"""Imports point inward: the core never imports web, database, dialect or processor code."""

from __future__ import annotations

import ast
from pathlib import Path

import tessera

FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "httpx",
    "uvicorn",
    "alembic",
    "pydantic",
    "tessera.dialects",
    "tessera.processors",
    "tessera.storage",
    "tessera.app",
    "tessera.bootstrap",
    "tessera.settings",
    "tessera.cli",
)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_core_imports_nothing_outward() -> None:
    core = Path(tessera.__file__).parent / "core"
    offenders = {
        f"{path.relative_to(core)}: {name}"
        for path in core.rglob("*.py")
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not offenders


def test_processors_never_import_dialects_or_storage() -> None:
    root = Path(tessera.__file__).parent / "processors"
    for path in root.rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(("tessera.dialects", "tessera.storage")), (path, name)


def test_the_delivery_worker_names_no_dialect_and_reaches_storage_only_through_its_port() -> None:
    root = Path(tessera.__file__).parent / "delivery"
    for path in root.rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(("tessera.dialects", "tessera.storage")), (path, name)
        text = path.read_text().lower()
        assert "eximpe" not in text and "callback" not in text, path


def test_each_dialects_webhook_formats_have_unique_names_and_cover_native_and_eximpe() -> None:
    from tessera.bootstrap import webhook_formats

    assert {"native", "eximpe"} <= set(webhook_formats())
