"""The OpenAPI of /v1 and /eximpe changes only by additions: every path, operation, parameter, schema
and property a client could rely on before the intents (the snapshot in tests/fixtures) is still
there with the same type, and nothing optional became required."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tessera.app import create_app
from tessera.settings import Settings

BASELINE = Path(__file__).parent.parent / "fixtures" / "openapi-before-intents.json"
PROSE = frozenset({"description", "summary", "example", "examples", "title"})
# Deliberate widenings, each with its reason.
WIDENED = {
    # An intent has no card until its first attempt: `card` is now `PaymentCardOut | null`.
    "components/schemas/PaymentOut/properties/card/$ref: removed",
}


def _differences(old: Any, new: Any, path: str, out: list[str]) -> None:
    if isinstance(old, dict):
        if not isinstance(new, dict):
            out.append(f"{path}: no longer an object")
            return
        for key, value in old.items():
            if key in PROSE:
                continue
            if key not in new:
                out.append(f"{path}/{key}: removed")
            else:
                _differences(value, new[key], f"{path}/{key}", out)
    elif isinstance(old, list) and path.endswith("/required"):
        newly = set(map(str, new)) - set(map(str, old))
        if newly:
            out.append(f"{path}: newly required {sorted(newly)}")
    elif old != new:
        out.append(f"{path}: {old!r} became {new!r}")


def test_the_v1_and_eximpe_api_changes_only_by_additions(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db", environment="development")
    new = create_app(settings, embedded_worker=False).openapi()
    old = json.loads(BASELINE.read_text())
    found: list[str] = []
    for route, operations in old["paths"].items():
        if not route.startswith(("/v1", "/eximpe")):
            continue
        if route not in new["paths"]:
            found.append(f"{route}: removed")
        else:
            _differences(operations, new["paths"][route], route, found)
    _differences(old["components"], new["components"], "components", found)
    assert [f for f in found if f not in WIDENED] == []
