"""The card-number scan that ends every suite run: every card number the session sent, and every test
card, searched in every form the scanner knows through what the session left behind (the SQLite files
with their WAL and journals, the e2e servers' logs, the PostgreSQL data directory with its WAL, and a
plain pg_dump of each of its databases): no card number may be anywhere in plain sight.

A canary proves the scan sees each place: a number nobody sends is written into PostgreSQL (so into
its WAL, its heap after a checkpoint, and its dump) and into a UTF-16 SQLite file in WAL mode, and
the scan must find it in all of them before its silence about the real numbers counts.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import asyncpg
import pytest

from tessera.core.vault.pan import mask
from tessera.pan_scan import FORMS, scan
from tests import pg
from tests.faults.conftest import Figure

# docs/test-cards.md (the sandbox's table), copied: tests do not read ../shared.
TEST_CARDS = frozenset(
    {
        "4242424242424242", "4111111111111111", "4444333322221111", "5555555555554444", "2223003122003222",
        "5506900480000008", "378282246310005", "6011111111111117", "3530111333300000", "36227206271667",
        "6521123456789012", "4000002500003155", "4895380110000003", "4000008400001629", "4000000000003089",
        "4000000000003097", "4000000000003105", "4000000000000002", "4000000000009995", "4000000000000069",
        "4000000000000127", "4000000000000119", "4000000000000259",
    }
)  # fmt: skip
# Every other 13-19 digit card-like literal in tests/ (grep -rE '[0-9]{13,19}' tests): BIN-range probes,
# wrong-Luhn and wrong-length numbers. Left out: 0000000000000000 (zero-filled pages and WAL file names
# hold it), 9223372036854775808 (2**63, the events cursor probe), the timestamps 20261121103000 and
# 20261121123456789, and the scanner's own look-alikes in tests/unit/test_pan_scan.py (planted outside
# the basetemp and removed).
TEST_LITERALS = frozenset(
    {
        "4242424242424241", "424242424242424242", "4222222222222", "4895380110000004", "4999990000000007",
        "4999991234567890129", "5506900480000009", "6200000000000005", "6500000000000000", "6521000000000000",
        "6522990000000000", "6759649826438453",
    }
)  # fmt: skip


def _canary() -> str:
    # A 16-digit number that begins with 8: no searched number does, so its masked form is its own.
    return "8" + "".join(random.choice("0123456789") for _ in range(15))


async def _plant_in_postgres(cluster: pg.Cluster, canary: str) -> list[str]:
    """Write the canary into the postgres database, checkpoint so that heap files hold what the WAL
    holds, and name every database there is to dump."""
    conn = await asyncpg.connect(cluster.url.replace("postgresql://", "postgres://"))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS scan_canary (note text)")
        await conn.execute("INSERT INTO scan_canary VALUES ($1)", f"canary {canary}")
        await conn.execute("CHECKPOINT")
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname")
    finally:
        await conn.close()
    return [row["datname"] for row in rows]


def _plant_in_sqlite(path: Path, canary: str) -> sqlite3.Connection:
    """A UTF-16 SQLite file in WAL mode, left open so that the row stays in the -wal file."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA encoding = 'UTF-16le'")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE canary (note TEXT)")
    db.execute("INSERT INTO canary VALUES (?)", (f"canary {canary}",))
    db.commit()
    return db


def _dump(cluster: pg.Cluster, folder: Path, database: str) -> Path:
    path = folder / f"{database}.sql"
    path.write_bytes(pg.pg_dump(cluster, database))
    return path


def _postgres_selected(request: pytest.FixtureRequest) -> bool:
    # `-m "not postgres"` runs without a cluster; the scan then covers the files alone.
    return "not postgres" not in (request.config.getoption("markexpr") or "")


@pytest.mark.scan_last
def test_no_card_number_is_left_in_databases_dumps_wal_or_logs(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    pans_used: set[str],
    figure: Figure,
) -> None:
    started = time.monotonic()
    basetemp = tmp_path_factory.getbasetemp()
    canary = _canary()
    sqlite_canary = _plant_in_sqlite(tmp_path / "canary.db", canary)
    places = [basetemp]
    cluster: pg.Cluster | None = None
    dumps: list[Path] = []
    # The dumps go outside the basetemp, and are made while the files are scanned: the two together
    # take about as long as the longer of them.
    dump_folder = Path(tempfile.mkdtemp(prefix="tessera-pg-dump-"))
    try:
        with ThreadPoolExecutor(4) as pool:
            dumping = None
            if _postgres_selected(request):
                cluster = request.getfixturevalue("pg_cluster")
                databases = asyncio.run(_plant_in_postgres(cluster, canary))
                dumping = pool.map(partial(_dump, cluster, dump_folder), databases)
                places.append(cluster.root)
            searched = TEST_CARDS | TEST_LITERALS | pans_used
            report = scan(places, pans=searched | {canary}, workers=2)
            dumps = list(dumping or [])
        dump_report = scan(dumps, pans=searched | {canary})
        report.hits += dump_report.hits
        report.files_scanned += dump_report.files_scanned
        report.bytes_scanned += dump_report.bytes_scanned
        report.errors += dump_report.errors
        report.vanished += dump_report.vanished
        dump_rows = sum(p.read_bytes().count(b"\n") for p in dumps)
    finally:
        sqlite_canary.close()
        shutil.rmtree(dump_folder, ignore_errors=True)

    canary_hits = [hit for hit in report.hits if hit.masked == mask(canary)]
    hits = [hit for hit in report.hits if hit.masked != mask(canary)]
    logs = [p for p in basetemp.rglob("*.log") if p.is_file()] + ([cluster.root / "log"] if cluster else [])
    sqlite_files = [p for p in basetemp.rglob("*") if p.is_file() and p.name.endswith((".db", "-wal", "-journal"))]
    wal_bytes = sum(p.stat().st_size for p in (cluster.root / "data" / "pg_wal").glob("0*")) if cluster else 0
    figure(
        "Card-number scan",
        tried=(
            f"{len(searched)} card numbers in {len(FORMS)} forms ({', '.join(FORMS)}) over "
            f"{report.files_scanned:,} files, {report.bytes_scanned / 1e6:,.0f} MB "
            f"({len(sqlite_files)} SQLite files and WAL, PostgreSQL data directory with "
            f"{wal_bytes / 1e6:,.0f} MB of WAL, pg_dump of {len(dumps)} databases ({dump_rows:,} lines), "
            f"{len(logs)} logs), in {time.monotonic() - started:.0f} s"
        ),
        result=f"{len(hits)} hits",
    )

    # The scan is blind somewhere if the canary is not found there.
    found_in = {hit.path for hit in canary_hits}
    assert any(p.parent == tmp_path and p.name.startswith("canary.db") for p in found_in), "SQLite not seen"
    if cluster is not None:
        data = cluster.root / "data"
        assert any(p.is_relative_to(data / "pg_wal") for p in found_in), "PostgreSQL WAL not seen"
        assert any(p.is_relative_to(data / "base") for p in found_in), "PostgreSQL heap files not seen"
        assert dump_folder / "postgres.sql" in found_in, "pg_dump not seen"
    assert report.errors == [], report.errors
    assert not hits, "card numbers at rest:\n" + "\n".join(str(hit) for hit in hits)
