"""A webhook receiver that can be taken down in the ways a real one goes down: refusing connections (its
port closed), answering 503, or hanging past the sender's time-out. It runs on threads, for tests whose
Tessera is another process, and records every request that reached it with the answer it was given."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook

from tests.pg import free_port


class Mode(StrEnum):
    UP = "up"  # 200 at once
    REFUSING = "refusing"  # the port is closed: connections are refused
    FAILING = "failing"  # 503 at once
    HANGING = "hanging"  # holds the request `hang_seconds`, then 503 (the sender has given up by then)


@dataclass(frozen=True)
class Arrival:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered (or meant to, for a sender that had hung up)

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def delivered(self) -> bool:
        return self.status == 200

    def verified(self, secret: str) -> Any:
        """The body, after the Standard Webhooks library accepts its signature under `secret`."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class FlakyReceiver:
    hang_seconds: float = 2.0
    port: int = field(default_factory=free_port)
    arrivals: list[Arrival] = field(default_factory=list)
    _mode: Mode = Mode.REFUSING
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        """Switch how the next requests are answered; REFUSING closes the port, any other opens it."""
        with self._lock:
            if mode is Mode.REFUSING:
                self._close()
            elif self._server is None:
                self._open()
            self._mode = mode

    def delivered(self) -> list[Arrival]:
        return [a for a in list(self.arrivals) if a.delivered]

    def _open(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                mode = receiver._mode
                status = 200 if mode is Mode.UP else 503
                receiver.arrivals.append(Arrival({k.lower(): v for k, v in self.headers.items()}, body, status))
                if mode is Mode.HANGING:
                    time.sleep(receiver.hang_seconds)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args: object) -> None:
                pass

        # HTTPServer sets SO_REUSEADDR, so the same port opens again right after it was closed.
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def stop(self) -> None:
        with self._lock:
            self._close()
