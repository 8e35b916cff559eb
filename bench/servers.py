"""The servers under test: a fresh `tessera serve` in its own temp folder, and localstripe in its own venv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.config import BenchError
from bench.procs import Managed, free_port, log, server_rss_kb, tail

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
LOCALSTRIPE_VENV = BENCH_DIR / ".localstripe-venv"
LOCALSTRIPE_REQUIREMENT = "localstripe>=1.15,<1.16"
LOCALSTRIPE_KEY = "sk_test_12345"
LOCALSTRIPE_STORE = Path("/tmp/localstripe.pickle")  # where localstripe dumps its store after every write
READY_TIMEOUT = 90.0
_CREATE_TIMEOUT_S = 120


@dataclass
class Server:
    """A running server: where it listens, its process, and (for Tessera) the demo merchant's keys, its
    work folder (which holds the SQLite file and the vault's key file) and its database URL if not SQLite's."""

    name: str
    url: str
    process: Managed
    workers: int
    credentials: dict[str, str]
    workdir: Path
    database_url: str | None = None

    def rss_kb(self) -> tuple[int, dict[int, int]]:
        return server_rss_kb(self.process.pid, self.workers)


def tessera_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env["TESSERA_LOG_LEVEL"] = "WARNING"
    return env


@contextmanager
def tessera(
    name: str, workers: int, database_url: str | None = None, *, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start `tessera serve` on a free port in a fresh temp folder; stop it and remove the folder after."""
    workdir = Path(tempfile.mkdtemp(prefix=f"tessera-bench-{name}-"))
    port = free_port()
    argv = [sys.executable, "-m", "tessera", "serve", "--port", str(port), "--workers", str(workers)]
    if database_url:
        argv += ["--database-url", database_url]
    process = Managed.start("tessera", argv, workdir, tessera_env() | (extra_env or {}))
    try:
        url = f"http://127.0.0.1:{port}"
        process.wait_ready(f"{url}/readyz", READY_TIMEOUT)
        credentials = _credentials(workdir, process)
        log(f"tessera ({name}, {workers} worker{'s' if workers > 1 else ''}) ready on {url}, pid {process.pid}")
        yield Server(name, url, process, workers, credentials, workdir, database_url)
    finally:
        process.stop()
        if process.proc.returncode not in (0, -15, 143, None):
            log(f"tessera ({name}) exited with code {process.proc.returncode}; log tail:\n{tail(process.log_path)}")
        shutil.rmtree(workdir, ignore_errors=True)


def _credentials(workdir: Path, process: Managed) -> dict[str, str]:
    path = workdir / ".tessera" / "demo-credentials.json"
    try:
        creds: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"tessera is ready but {path} is unreadable ({exc}); log:\n{tail(process.log_path)}") from exc
    missing = {"secret_key", "publishable_key"} - creds.keys()
    if missing:
        raise BenchError(f"{path} lacks {sorted(missing)}")
    return creds


def _localstripe_bin(name: str) -> Path:
    return LOCALSTRIPE_VENV / "bin" / name


def ensure_localstripe() -> str:
    """Create bench/.localstripe-venv with localstripe in it if needed; return localstripe's version."""
    if not _localstripe_bin("localstripe").exists():
        log(f"creating {LOCALSTRIPE_VENV} and installing {LOCALSTRIPE_REQUIREMENT}")
        python3 = shutil.which("python3") or sys.executable
        for argv in (
            [python3, "-m", "venv", str(LOCALSTRIPE_VENV)],
            [str(_localstripe_bin("pip")), "install", "--quiet", LOCALSTRIPE_REQUIREMENT],
        ):
            result = subprocess.run(argv, capture_output=True, text=True)
            if result.returncode:
                raise BenchError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
    version = subprocess.run(
        [str(_localstripe_bin("python")), "-c", "import importlib.metadata as m; print(m.version('localstripe'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return version.stdout.strip()


@contextmanager
def localstripe() -> Iterator[Server]:
    """Start localstripe with an empty store (--from-scratch) on a free port; stop it after."""
    workdir = Path(tempfile.mkdtemp(prefix="tessera-bench-localstripe-"))
    port = free_port()
    argv = [str(_localstripe_bin("localstripe")), "--port", str(port), "--from-scratch"]
    process = Managed.start("localstripe", argv, workdir, dict(os.environ))
    try:
        url = f"http://127.0.0.1:{port}"
        process.wait_ready(f"{url}/v1/balance", READY_TIMEOUT, {"Authorization": f"Bearer {LOCALSTRIPE_KEY}"})
        yield Server("localstripe", url, process, 1, {"secret_key": LOCALSTRIPE_KEY}, workdir)
    finally:
        process.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def create_merchant(server: Server, name: str, allow_domain: str | None = None) -> dict[str, str]:
    """A new merchant on the server's store, by `tessera merchant create --json` run from its work folder
    (where the vault's key file is, which seals the merchant's signing key): its test credentials and
    dialect identities (`brand_id`)."""
    argv = [sys.executable, "-m", "tessera", "merchant", "create", "--name", name]
    argv += ["--allow-domain", allow_domain, "--json"] if allow_domain else ["--json"]
    if server.database_url:
        argv += ["--database-url", server.database_url]
    try:
        done = subprocess.run(
            argv, cwd=server.workdir, env=tessera_env(), capture_output=True, text=True, timeout=_CREATE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"tessera merchant create did not finish within {_CREATE_TIMEOUT_S} s") from exc
    if done.returncode:
        raise BenchError(f"tessera merchant create failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    try:
        creds: dict[str, str] = json.loads(done.stdout.splitlines()[0])
    except (IndexError, ValueError) as exc:
        raise BenchError(f"tessera merchant create --json printed no JSON:\n{done.stdout[-3000:]}") from exc
    if not creds.get("secret_key"):
        raise BenchError(f"tessera merchant create --json printed no secret_key: {sorted(creds)}")
    return creds
