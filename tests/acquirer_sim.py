"""A real `tessera acquirer-sim` process on free ports, with its control endpoint, for tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.pg import free_port


@dataclass
class AcquirerSim:
    workdir: Path
    port: int = field(default_factory=free_port)
    control_port: int = field(default_factory=free_port)
    flags: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def ledger_path(self) -> Path:
        return self.workdir / "ledger.db"

    @property
    def settlement_path(self) -> Path:
        return self.workdir / "ledger.db.settlement"

    def url(self, **options: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"timeout": "2", "echo": "5", **options}.items())
        return f"iso8583://127.0.0.1:{self.port}?{query}"

    def start(self) -> AcquirerSim:
        self.workdir.mkdir(parents=True, exist_ok=True)
        n = len(list(self.workdir.glob("sim-*.log")))
        with (self.workdir / f"sim-{n}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tessera", "acquirer-sim", "--port", str(self.port)]
                + ["--ledger", str(self.ledger_path), "--control-port", str(self.control_port), *self.flags],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"acquirer-sim exited: {self.log()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.control_port}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("acquirer-sim did not start")

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("sim-*.log")))

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"http://127.0.0.1:{self.control_port}{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def faults(self, **faults: float) -> Any:
        return self.control("POST", "/faults", faults)

    def ledger(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.control("GET", "/ledger")
        return rows

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            finally:
                if self.process.poll() is None:
                    self.process.kill()
                    self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
