"""A webhook receiver on a thread, for end-to-end tests whose Tessera runs in other processes."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook

from tests.pg import free_port


@dataclass
class Hook:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    def verified(self, secret: str) -> Any:
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class ThreadReceiver:
    """Records every POST. While `hold` is set, requests wait (up to a minute) before their 200."""

    port: int = field(default_factory=free_port)
    received: list[Hook] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> ThreadReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(Hook({k.lower(): v for k, v in self.headers.items()}, body))
                deadline = time.monotonic() + 60
                while receiver.hold.is_set() and time.monotonic() < deadline:
                    time.sleep(0.05)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender is gone (a killed worker)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def wait_for(self, count: int, timeout: float = 30) -> list[Hook]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"received {len(self.received)} deliveries, expected {count}")
            time.sleep(0.05)
        return self.received

    def stop(self) -> None:
        self.hold.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
