"""A dialect's routes are tried only for paths under its prefix: FastAPI otherwise tries every included
router's routes in turn, and the last dialect's requests paid for every other dialect's routes."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import Match

from tessera.dialects import _PrefixRouter


def _scope(path: str, method: str = "GET") -> dict[str, object]:
    return {"type": "http", "path": path, "method": method, "root_path": "", "headers": [], "query_string": b""}


def test_a_path_outside_the_prefix_is_passed_over_without_trying_a_route() -> None:
    tried: list[str] = []

    class Spy(APIRouter):
        def matches(self, scope):  # type: ignore[no-untyped-def]
            tried.append(scope["path"])
            return super().matches(scope)

    inner = Spy()
    inner.add_api_route("/oppwa/v1/payments", lambda: None, methods=["POST"])
    guard = _PrefixRouter("/oppwa")
    guard.include_router(inner)
    for outside in ("/v1/payments", "/oppwax/v1/payments", "/"):
        assert guard.matches(_scope(outside))[0] is Match.NONE
    assert tried == []
