"""A real HTTP server that receives webhook deliveries, for tests: it records each request and answers
what the test scripts (a status, or a pause first)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from standardwebhooks.webhooks import Webhook


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    def verified(self, secret: str) -> Any:
        """The body, after the Standard Webhooks library accepts its signature under `secret`."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    """`answer(request_number)` gives the status for each request (1-based); `delay` pauses first, and
    while `gate` is given and not set, every request waits for it before its answer."""

    answer: Callable[[int], int] = lambda _n: 200
    reply: bytes = b'{"ok": true}'
    delay: float = 0.0
    gate: asyncio.Event | None = None
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(Received({k.lower(): v for k, v in request.headers.items()}, body))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.gate is not None:
            await self.gate.wait()
        return web.Response(status=self.answer(len(self.received)), body=self.reply)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
