"""A real `tessera serve` process on a free port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.pg import free_port


@dataclass
class Server:
    workdir: Path
    database_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    stdout_path: Path | None = None
    stderr_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {**os.environ, "TESSERA_PROCESSOR_TIMEOUT_SECONDS": "0.5", **self.extra_env}
        if self.database_url:
            env["TESSERA_DATABASE_URL"] = self.database_url
        return env

    def start(self, *args: str) -> Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        n = len(list(self.workdir.glob("stdout-*.log")))
        self.stdout_path = self.workdir / f"stdout-{n}.log"
        self.stderr_path = self.workdir / f"stderr-{n}.log"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tessera", "serve", "--port", str(self.port), *args],
                cwd=self.workdir,
                env=self.env(),
                stdout=out,
                stderr=err,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tessera serve exited: {self.stderr_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("tessera serve did not become ready")

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()

    def credentials(self) -> dict[str, str]:
        content: dict[str, str] = json.loads((self.workdir / ".tessera" / "demo-credentials.json").read_text())
        return content

    def output(self) -> str:
        assert self.stdout_path and self.stderr_path
        return self.stdout_path.read_text() + self.stderr_path.read_text()

    def tessera(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tessera", *args],
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
