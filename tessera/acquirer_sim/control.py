"""The simulator's control endpoint: plain HTTP/1.1 on a loopback port, JSON in and out, one request per
connection. For tests and people, not for the gateway:

| request | effect |
|---|---|
| `GET /health` | `{"ok": true, "port": ..., "handled": n}` |
| `GET /faults` | the rate faults in force |
| `POST /faults` `{"drop": 0.1, "delay_seconds": 4}` | set rate faults (0 clears one); `{"clear": 1}` clears all |
| `POST /faults` `{"refuse": 2}` / `{"restart": 1}` | refuse connections / restart for N seconds (answers at once) |
| `GET /ledger` | every ledger row (no card numbers: BIN and last four); during a restart, once the host is back |
| `POST /settle` | write the end-of-day settlement file; `{"lines": n, "path": ...}` |
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tessera.acquirer_sim.faults import EVENT_FAULTS
from tessera.acquirer_sim.host import AcquirerHost

logger = logging.getLogger(__name__)

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}


class Control:
    def __init__(self, host: AcquirerHost, settlement: Path) -> None:
        self._host = host
        self._settlement = settlement
        self._events: set[asyncio.Task[None]] = set()

    async def serve(self, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._handle, "127.0.0.1", port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            status, payload = await self._route(method, path, body)
        except (ValueError, asyncio.IncompleteReadError, TimeoutError, asyncio.LimitOverrunError) as exc:
            status, payload = 400, {"error": str(exc)}
        except Exception as exc:  # the control endpoint answers even when the host is in trouble
            logger.exception("acquirer-sim control request failed")
            status, payload = 500, {"error": type(exc).__name__}
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )
        with contextlib.suppress(Exception):
            await writer.drain()
            writer.close()

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        host = self._host
        if method == "GET" and path == "/health":
            return 200, {"ok": True, "port": host.port, "handled": host.handled}
        if path == "/faults" and method == "GET":
            return 200, host.faults.as_dict()
        if path == "/faults" and method == "POST":
            changes = json.loads(body or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("a JSON object of faults")
            for name, value in changes.items():
                if name == "clear":
                    host.faults.clear()
                elif name in EVENT_FAULTS:
                    act: Callable[[float], Any] = host.refuse if name == "refuse" else host.restart
                    task = asyncio.create_task(act(float(value)))
                    self._events.add(task)
                    task.add_done_callback(self._events.discard)
                else:
                    host.faults.set(name, float(value))
            return 200, host.faults.as_dict()
        if method == "GET" and path == "/ledger":
            await host.up()  # a restart closes the ledger; it is read again once the host is back
            return 200, host.ledger.rows()
        if method == "POST" and path == "/settle":
            await host.up()
            return 200, {"lines": host.ledger.write_settlement(self._settlement), "path": str(self._settlement)}
        return 404, {"error": "no such control"}
