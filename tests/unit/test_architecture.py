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


# What a dialect may not reach: the composition root, storage, other adapters. Its only way into the
# gateway is the services facade, with the core's commands and values.
DIALECT_FORBIDDEN = (
    "tessera.storage",
    "tessera.bootstrap",
    "tessera.app",
    "tessera.cli",
    "tessera.settings",
    "tessera.delivery",
    "tessera.processors",
    "tessera.sandbox",
    "tessera.shopper",
    "tessera.worker",
)
DIALECTS_ROOT = Path(tessera.__file__).parent / "dialects"


def _dialect_folders() -> list[Path]:
    return [p for p in DIALECTS_ROOT.iterdir() if p.is_dir() and not p.name.startswith("_")]


def _imported_names(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every `from module import name`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node.module, alias.name) for alias in node.names)
    return found


def test_dialects_reach_nothing_but_the_core_and_the_facade() -> None:
    offenders = {
        f"{path.relative_to(DIALECTS_ROOT)}: {name}"
        for path in DIALECTS_ROOT.rglob("*.py")
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in DIALECT_FORBIDDEN)
    }
    assert not offenders


def test_a_dialect_never_imports_another_dialect() -> None:
    names = {p.name for p in _dialect_folders()}
    assert {"native", "eximpe"} <= names
    offenders = []
    for folder in _dialect_folders():
        for path in folder.rglob("*.py"):
            for module in _imports(path):
                parts = module.split(".")
                if parts[:2] == ["tessera", "dialects"] and len(parts) > 2 and parts[2] in names - {folder.name}:
                    offenders.append(f"{path.relative_to(DIALECTS_ROOT)}: {module}")
    assert not offenders


def test_dialects_call_no_core_service_function_directly() -> None:
    """Commands, values and pure edge helpers (money, clock) only: every service call goes through the
    facade, which binds its dependencies."""
    import importlib
    import inspect

    offenders = []
    for path in DIALECTS_ROOT.rglob("*.py"):
        for module, name in _imported_names(path):
            if not module.startswith("tessera.core"):
                continue
            target = getattr(importlib.import_module(module), name, None)
            if target is None:  # a submodule imported by name: the module itself is the service
                offenders.append(f"{path.relative_to(DIALECTS_ROOT)}: {module}.{name} (a module)")
            elif inspect.iscoroutinefunction(target):
                offenders.append(f"{path.relative_to(DIALECTS_ROOT)}: {module}.{name}")
    assert not offenders


def _names_in(path: Path) -> set[str]:
    """Identifiers, attribute names and string constants of a module: where a dialect could be named."""
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Name):
            found.add(node.id.lower())
        elif isinstance(node, ast.Attribute):
            found.add(node.attr.lower())
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(word.lower() for word in node.value.replace(".", " ").split())
    return found


def test_the_shopper_pages_and_the_delivery_worker_name_no_dialect() -> None:
    root = Path(tessera.__file__).parent
    dialects = {p.name for p in _dialect_folders()}
    for path in [root / "shopper.py", *(root / "delivery").rglob("*.py")]:
        for module in _imports(path):
            assert not any(module.startswith(f"tessera.dialects.{d}") for d in dialects), (path, module)
        assert not (_names_in(path) & dialects), (path, _names_in(path) & dialects)


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
