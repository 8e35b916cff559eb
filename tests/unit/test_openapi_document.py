"""The OpenAPI document is whole: every `$ref` in it points at something in it, so code generators and
fuzzers can read it; and what it documents is what the server enforces (the constraints a client can
rely on, each checked here against the rule it mirrors)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera.app import create_app
from tessera.settings import Settings


def _document(tmp_path: Path) -> dict[str, Any]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db", environment="development")
    return create_app(settings, embedded_worker=False).openapi()


def _refs(node: Any, path: str = "#") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield path, value
            else:
                yield from _refs(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, f"{path}/{i}")


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise KeyError(ref)
        node = node[part]
    return node


@pytest.fixture
def document(tmp_path: Path) -> dict[str, Any]:
    return _document(tmp_path)


def test_every_ref_in_the_openapi_document_resolves_inside_it(document: dict[str, Any]) -> None:
    refs = list(_refs(document))
    dangling = []
    for where, ref in refs:
        try:
            _resolve(document, ref)
        except KeyError:
            dangling.append(f"{where}: {ref}")
    assert refs and dangling == []
    assert not [where for where, _ in _refs(document) if "$defs" in where]


def test_the_eximpe_order_body_names_its_nested_models_as_components(document: dict[str, Any]) -> None:
    schema = document["paths"]["/eximpe/pg/orders/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "$defs" not in schema
    assert schema["properties"]["buyer"] == {"$ref": "#/components/schemas/BuyerIn"}
    for name in ("AddressIn", "BuyerIn", "CardDetailsIn", "InvoiceIn", "ProductIn"):
        assert document["components"]["schemas"][name]["type"] == "object"


def test_a_second_app_documents_the_same_components(document: dict[str, Any], tmp_path: Path) -> None:
    # The hook moves $defs out of a copy: the routes' own schemas keep them for the next app built.
    (tmp_path / "again").mkdir()
    again = _document(tmp_path / "again")
    assert again["components"]["schemas"].keys() == document["components"]["schemas"].keys()
