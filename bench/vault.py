"""The vault's key rotation: what a Tessera store holds encrypted, and `tessera vault rotate` timed on it."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from typing import Any

from bench import pg
from bench.config import BenchError
from bench.procs import CpuWatch
from bench.servers import Server, tessera_env

# Every encrypted field the rotation re-encrypts: a saved card's PAN, a card token's PAN and (until the
# token expires) its CVV. Deleted cards have no PAN left.
COUNTS = {
    "cards": "SELECT count(*) FROM cards WHERE pan_ciphertext IS NOT NULL",
    "token_pans": "SELECT count(*) FROM card_tokens",
    "token_cvvs": "SELECT count(*) FROM card_tokens WHERE cvv_ciphertext IS NOT NULL",
}
SQLITE_FILE = ".tessera/tessera.db"  # in the server's work folder: Tessera's default data dir
ROTATED = re.compile(r"re-encrypted (\d+) fields in ([\d.]+) s \(([\d,.]+) per second\)")
ROTATE_TIMEOUT_S = 3600


def stored(server: Server) -> dict[str, int]:
    """How many saved cards and card tokens the server's store holds encrypted, and the fields in all."""
    if server.database_url:
        counts = pg.counts(server.database_url, COUNTS)
    else:
        with closing(sqlite3.connect(server.workdir / SQLITE_FILE, timeout=30)) as conn:
            counts = {name: int(conn.execute(sql).fetchone()[0]) for name, sql in COUNTS.items()}
    return {**counts, "fields": sum(counts.values())}


def rotate(server: Server) -> dict[str, Any]:
    """Run `tessera vault rotate --yes` against the server's store, from its work folder (where the vault's
    key file is), and read the fields it re-encrypted and its own timing from its last line."""
    argv = [sys.executable, "-m", "tessera", "vault", "rotate", "--yes"]
    if server.database_url:
        argv += ["--database-url", server.database_url]
    watch, started = CpuWatch(), time.perf_counter()
    try:
        done = subprocess.run(
            argv, cwd=server.workdir, env=tessera_env(), capture_output=True, text=True, timeout=ROTATE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"tessera vault rotate did not finish within {ROTATE_TIMEOUT_S} s") from exc
    wall = time.perf_counter() - started
    other = watch.other_cpu_pct()
    output = (done.stdout + done.stderr).strip()
    if done.returncode:
        raise BenchError(f"tessera vault rotate failed ({done.returncode}):\n{output[-3000:]}")
    found = ROTATED.findall(done.stdout)
    if not found:
        raise BenchError(f"tessera vault rotate printed no 're-encrypted ...' line:\n{output[-3000:]}")
    fields, seconds, rate = int(found[-1][0]), float(found[-1][1]), float(found[-1][2].replace(",", ""))
    last_lines = [line for line in output.splitlines() if line.strip()][-3:]
    return {
        "fields": fields,
        "seconds": seconds,
        "fields_per_s": rate,  # the command's own: over its unrounded time
        "command_wall_s": round(wall, 3),
        "fields_per_command_s": round(fields / wall, 1) if wall else None,
        "other_cpu_pct": other,
        "output": last_lines,
    }
