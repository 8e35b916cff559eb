"""Fixtures the integration tests of several dialects share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from httpx import AsyncClient

from tessera.app import create_app
from tessera.bootstrap import Container, build
from tests.conftest import Backend, make_settings


@pytest.fixture
async def proxied(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[Container, AsyncClient]]:
    """Tessera behind a trusted proxy at 127.0.0.1 (the in-process client's address), so a request can
    come from any address through X-Forwarded-For."""
    c = build(make_settings(backend, tmp_path, trusted_proxies="127.0.0.1/32,10.9.0.0/16"))
    await c.start()
    app = create_app(c.settings, container=c, embedded_worker=False)
    try:
        async with AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tessera.test") as http:
            yield c, http
    finally:
        await c.close()
