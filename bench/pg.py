"""A throwaway PostgreSQL cluster for the benchmark, run by a non-root user when the harness is root.

Unlike `tests/pg.py` (which turns fsync and full-page writes off to make the test suite fast), the
cluster is durable by default, like a production database: SQLite runs with `synchronous=FULL`, so
both backends commit to disk. BENCH_PG_DURABLE=0 gives the test suite's settings instead.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from bench.config import BenchError
from bench.procs import OWN_ROOTS, free_port, log

USER = "tessera"
REPORTED_SETTINGS = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "shared_buffers",
    "max_connections",
)


def binary(name: str) -> str:
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    found = shutil.which(name)
    if found:
        return found
    raise BenchError(f"{name} not found: install PostgreSQL's server (`make bench-deps` does)")


def _owner() -> str | None:
    """Who runs the cluster: PostgreSQL refuses root, so `postgres` (or `nobody`) when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "nobody"
    return "postgres"


def _run(argv: list[str], owner: str | None) -> None:
    full = ["runuser", "-u", owner, "--", *argv] if owner else argv
    result = subprocess.run(full, capture_output=True, text=True)
    if result.returncode:
        raise BenchError(f"{' '.join(argv[:2])} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


@dataclass
class Cluster:
    root: Path
    port: int
    owner: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"


def start(durable: bool) -> Cluster:
    owner = _owner()
    root = Path(tempfile.mkdtemp(prefix="tessera-bench-pg-"))
    if owner:
        info = pwd.getpwnam(owner)
        os.chown(root, info.pw_uid, info.pw_gid)
    os.chmod(root, 0o700)
    data = root / "data"
    _run([binary("initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync"], owner)
    port = free_port()
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c full_page_writes=off"
    try:
        _run([binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"], owner)
    except BenchError:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return Cluster(root, port, owner)


def postmaster_pid(cluster: Cluster) -> int:
    return int((cluster.root / "data" / "postmaster.pid").read_text().split()[0])


def stop(cluster: Cluster) -> None:
    try:
        _run([binary("pg_ctl"), "-D", str(cluster.root / "data"), "-m", "fast", "-w", "stop"], cluster.owner)
    except BenchError as exc:
        log(f"warning: stopping PostgreSQL: {exc}")
    shutil.rmtree(cluster.root, ignore_errors=True)


@contextmanager
def running(durable: bool) -> Iterator[Cluster]:
    cluster = start(durable)
    log(f"PostgreSQL cluster on port {cluster.port} ({'durable' if durable else 'fsync off'})")
    postmaster = postmaster_pid(cluster)
    OWN_ROOTS.add(postmaster)
    try:
        yield cluster
    finally:
        OWN_ROOTS.discard(postmaster)
        stop(cluster)
        log("PostgreSQL cluster stopped")


async def _create(url: str, name: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _show(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        return {name: str(await conn.fetchval(f"SHOW {name}")) for name in REPORTED_SETTINGS}
    finally:
        await conn.close()


async def _counts(url: str, queries: dict[str, str]) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {name: int(await conn.fetchval(sql)) for name, sql in queries.items()}
    finally:
        await conn.close()


def counts(url: str, queries: dict[str, str]) -> dict[str, int]:
    """The result of each `SELECT count(*) ...` in `queries`, by name."""
    return asyncio.run(_counts(url, queries))


def create_database(cluster: Cluster, name: str) -> str:
    """Create an empty database and return its URL."""
    asyncio.run(_create(cluster.url(), name))
    return cluster.url(name)


def settings(cluster: Cluster) -> dict[str, str]:
    """The settings that matter for the results, as the server reports them."""
    return asyncio.run(_show(cluster.url()))
