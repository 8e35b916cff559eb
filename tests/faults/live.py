"""What the fault tests against a real `tessera serve` share: a database for it on either backend, a
server whose working folder lives under the session's artifacts, and the native API's calls they make."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import Server


def running_server(
    artifacts: Path, name: str, database_url: str | None, env: dict[str, str], *args: str
) -> Iterator[Server]:
    server = Server(artifacts / f"{name}-{uuid.uuid4().hex[:6]}", database_url=database_url, extra_env=env)
    server.start(*args)
    try:
        yield server
    finally:
        server.stop()


class Api:
    """The demo merchant's secret key on the native API of one server."""

    def __init__(self, server: Server, *, timeout: float = 30) -> None:
        self.server = server
        self.key = server.credentials()["secret_key"]
        self.http = httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {self.key}"}, timeout=timeout
        )

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body or {})

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def events(self) -> list[dict[str, Any]]:
        """Every event of the merchant's test mode, in sequence order."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.get("/v1/events", after=found[-1]["sequence"] if found else 0, limit=100).json()
            found.extend(page["data"])
            if not page["has_more"]:
                return found

    def close(self) -> None:
        self.http.close()
