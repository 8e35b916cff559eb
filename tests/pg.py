"""A throwaway PostgreSQL cluster in a temp folder, started with initdb/pg_ctl as a non-root user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bin(name: str) -> str:
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    found = shutil.which(name)
    if found:
        return found
    raise RuntimeError(f"{name} not found: install PostgreSQL's server (make test does)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    root: Path
    port: int
    user: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


def start() -> Cluster:
    owner = None
    if os.geteuid() == 0:
        owner = "postgres" if _user_exists("postgres") else "nobody"
    root = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
    data = root / "data"
    if owner:
        info = pwd.getpwnam(owner)
        os.chown(root, info.pw_uid, info.pw_gid)
    os.chmod(root, 0o700)
    user = "tessera"
    subprocess.run(
        _as_owner([_bin("initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync"], owner),
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300"
    )
    subprocess.run(
        _as_owner([_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"], owner),
        check=True,
        capture_output=True,
    )
    return Cluster(root, port, user)


def stop(cluster: Cluster) -> None:
    owner = None
    if os.geteuid() == 0:
        owner = "postgres" if _user_exists("postgres") else "nobody"
    subprocess.run(
        _as_owner([_bin("pg_ctl"), "-D", str(cluster.root / "data"), "-m", "immediate", "-w", "stop"], owner),
        capture_output=True,
    )
    # By the end of `make test` the cluster holds a database per PostgreSQL test (about 10 MB each, some
    # 10 GB): removing it took the session 40 s. The cluster is stopped; its files go in the background.
    # (A shell starts the removal and returns, so no child of ours is left running when Python exits.)
    subprocess.run(
        ["sh", "-c", 'rm -rf -- "$1" &', "sh", str(cluster.root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )


def pg_dump(cluster: Cluster, database: str) -> bytes:
    result = subprocess.run(
        [_bin("pg_dump"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", cluster.user, database],
        check=True,
        capture_output=True,
    )
    return result.stdout


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
