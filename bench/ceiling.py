"""Issue 15's ceiling, measured in the same run: for each database, the smallest honest program on the same
server stack that does a payment's durable work (bench/ceiling_app.py), driven by wrk at the matrix's
concurrencies like the other flows, and, on PostgreSQL, `pgbench` (TPC-B-like, scale 10, 64 clients,
prepared) on the same cluster. The target: Tessera's one-call payment (frictionless 3-D Secure) at c=64
does at least 60% of the ceiling's payments/s.

`BENCH_FLOWS=one_call,ceiling BENCH_CONCURRENCY=64` measures the two alone; BENCH_CEILING=0 skips it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import pg, scenarios, servers
from bench.config import BenchError, Config
from bench.flows import ONE_CALL, Call, Flow, tessera_flows
from bench.procs import CpuWatch, Managed, free_port, log

CEILING = "ceiling"
TITLES = {CEILING: "Ceiling: a payment's durable work alone (raw ASGI, plain driver)"}
TARGET_PCT = 60.0
TARGET_CONCURRENCY = 64
PGBENCH_SCALE = 10
_REPOSITORY = Path(__file__).resolve().parents[1]
PGBENCH_CLIENTS = 64
PGBENCH_THREADS = 2
Row = dict[str, Any]


def selected(config: Config) -> bool:
    if os.environ.get("BENCH_CEILING", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return not config.flows or CEILING in config.flows


def _flow() -> Flow:
    """The bench's one-call payment body (frictionless card, browser), sent to the ceiling program."""
    one_call = next(f for f in tessera_flows({"secret_key": "-", "publishable_key": "-"}) if f.key == ONE_CALL)
    call = Call("/v1/payments", "Bearer ceiling", one_call.payment.body)
    return Flow(
        key=CEILING, content_type="application/json", payment=call, success='"object":"payment","status":"completed"'
    )


def _stored(url: str, sqlite_file: Path | None) -> dict[str, int]:
    """What the runs left: every answered payment must be completed, with its operation and event."""
    queries = {
        "payments": "SELECT count(*) FROM payments",
        "completed": "SELECT count(*) FROM payments WHERE status = 'completed'",
        "operations_succeeded": "SELECT count(*) FROM operations WHERE status = 'succeeded'",
        "events": "SELECT count(*) FROM events",
    }
    if sqlite_file is None:
        return pg.counts(url, queries)
    import sqlite3

    with sqlite3.connect(sqlite_file) as db:
        return {name: int(db.execute(sql).fetchone()[0]) for name, sql in queries.items()}


def _serve_and_measure(backend: str, workers: int, url: str, workdir: Path, config: Config) -> Row:
    port = free_port()
    argv = [sys.executable, "-m", "bench.ceiling_app", "--port", str(port), "--workers", str(workers)]
    env = {**servers.tessera_env(), "CEILING_DATABASE_URL": url}
    # The program is `bench.ceiling_app`, run from a temp folder (and imported again by uvicorn's workers):
    # the repository must be on its path, as it is on the harness's when `make bench` runs `-m bench.run`.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPOSITORY), env.get("PYTHONPATH", "")) if p)
    process = Managed.start("ceiling", argv, workdir, env)
    try:
        base = f"http://127.0.0.1:{port}"
        process.wait_ready(f"{base}/readyz", servers.READY_TIMEOUT)
        log(f"ceiling ({backend}, {workers} worker{'s' if workers > 1 else ''}) ready on {base}, pid {process.pid}")
        server = servers.Server(f"{backend}-ceiling", base, process, workers, {}, workdir, url)
        return scenarios.matrix(server, [_flow()], config, f"{backend} ceiling")
    finally:
        process.stop()


def run(backend: str, workers: int, database_url: Callable[[str], str | None], config: Config) -> Row:
    """The ceiling program on a fresh database (and pgbench on a second one of the same cluster)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"tessera-bench-{backend}-ceiling-"))
    try:
        url = database_url(CEILING)
        sqlite_file = None if url else workdir / "ceiling.db"
        url = url or f"sqlite:///{sqlite_file}"
        out: Row = {"workers": workers, "matrix": _serve_and_measure(backend, workers, url, workdir, config)}
        out["stored"] = _stored(url, sqlite_file)
        if workers > 1 and sqlite_file is None:
            # What one process of the smallest program does, on a fresh database: how far more processes
            # can take any program on this machine (issue 15 asks two of Tessera's for 1.6x one).
            only = dataclasses.replace(config, concurrencies=(TARGET_CONCURRENCY,))
            one = database_url(f"{CEILING}_one_worker") or ""
            runs = _serve_and_measure(backend, 1, one, workdir, only)
            out["one_worker"] = {**runs[CEILING][0], "workers": 1}
        out["commits"] = "grouped (one fsync per event-loop turn)" if sqlite_file else "one per transaction"
        log(f"  {backend} ceiling stored: {out['stored']}")
        if sqlite_file is None:
            out["pgbench"] = pgbench(database_url("pgbench") or "", config)
        return out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def pgbench(url: str, config: Config) -> Row:
    """`pgbench -i -s 10`, then the standard TPC-B-like script at 64 clients for the matrix's duration."""
    where = urlsplit(url)
    target = ["-h", where.hostname or "127.0.0.1", "-p", str(where.port), "-U", where.username or pg.USER]
    database = where.path.lstrip("/")
    binary = pg.binary("pgbench")
    initialise = [binary, "-i", "-q", "-s", str(PGBENCH_SCALE), *target, database]
    bench = [binary, "-c", str(PGBENCH_CLIENTS), "-j", str(PGBENCH_THREADS), "-T", str(config.duration)]
    bench += ["-M", "prepared", *target, database]
    for argv in (initialise, bench):
        watch = CpuWatch()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=config.duration + 600)
        if done.returncode:
            raise BenchError(f"{' '.join(argv[:3])} failed ({done.returncode}):\n{done.stdout}{done.stderr}"[-3000:])
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    if not tps:
        raise BenchError(f"pgbench printed no tps:\n{done.stdout[-3000:]}")
    found = {
        "scale": PGBENCH_SCALE,
        "clients": PGBENCH_CLIENTS,
        "threads": PGBENCH_THREADS,
        "duration_s": config.duration,
        "tps": round(float(tps.group(1)), 1),
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "other_cpu_pct": watch.other_cpu_pct(),
        "argv": " ".join(bench[:9]),
    }
    log(f"  pgbench -c {PGBENCH_CLIENTS} -M prepared: {found['tps']:,.0f} tps, other processes' CPU "
        f"{found['other_cpu_pct']:.0f}%")  # fmt: skip
    return found


# The report: a short section and one target line per database (bench/report.py calls these).


def _at(runs: list[Row] | None, concurrency: int) -> Row | None:
    return next((r for r in runs or [] if r["concurrency"] == concurrency), None)


def target(title: str, backend: Row) -> tuple[str, str, bool | None]:
    goal = (
        f"{title}: Tessera's one-call payment (frictionless 3-D Secure) at c={TARGET_CONCURRENCY} is at least "
        f"{TARGET_PCT:.0f}% of the ceiling's payments/s"
    )
    ceiling = _at((backend.get("ceiling") or {}).get("matrix", {}).get(CEILING), TARGET_CONCURRENCY)
    tessera = _at((backend.get("matrix") or {}).get(ONE_CALL), TARGET_CONCURRENCY)
    if not ceiling or not tessera or not ceiling["payments_per_s"]:
        return goal, "not measured", None
    share = tessera["payments_per_s"] / ceiling["payments_per_s"] * 100
    measured = f"{tessera['payments_per_s']:,.0f} vs {ceiling['payments_per_s']:,.0f}/s ({share:.0f}%)"
    return goal, measured, share >= TARGET_PCT


def section(results: Row, titles: dict[str, str]) -> list[str]:
    """The report's Ceiling section (with its leading blank line), or nothing when no ceiling ran."""
    found = {name: b["ceiling"] for name, b in results.get("backends", {}).items() if b.get("ceiling")}
    if not found:
        return []
    lines = [
        "",
        "## Ceiling",
        "",
        "The smallest honest program on the same stack (`bench/ceiling_app.py`): a raw ASGI callable under "
        "uvicorn with `tessera serve`'s options and worker count, on a database migrated by Tessera's "
        "migrations (same tables, indexes, fsync settings). Per payment: one transaction inserts the payment "
        "and its pending operation and commits, a second marks both done and inserts the event, and commits; "
        "then 201. No validation, no 3-D Secure, no framework; plain sqlite3 (commits grouped as Tessera "
        "groups them) or asyncpg. Share = Tessera's one-call payment (frictionless 3-D Secure) / ceiling. "
        "Server CPU is the server processes' alone (PostgreSQL's is not in it), per payment.",
    ]
    for name, c in found.items():
        lines += _backend_section(titles.get(name, name), c, results["backends"][name].get("matrix", {}).get(ONE_CALL))
    return lines


def _row(run: Row, mine: Row | None) -> list[str]:
    share = f"{mine['payments_per_s'] / run['payments_per_s'] * 100:.0f}%" if mine and run["payments_per_s"] else "-"
    return [
        str(run["concurrency"]), f"{run['payments_per_s']:,.0f}", f"{run['latency_ms']['p50']:.1f}",
        f"{run['latency_ms']['p99']:.1f}", f"{run['server_cpu_ms_per_success'] or 0:.2f}",
        f"{mine['payments_per_s']:,.0f}" if mine else "-", f"{mine['latency_ms']['p99']:.1f}" if mine else "-",
        f"{mine['server_cpu_ms_per_success'] or 0:.2f}" if mine else "-", share, f"{run['other_cpu_pct']:.0f}%",
    ]  # fmt: skip


def _backend_section(title: str, c: Row, tessera: list[Row] | None) -> list[str]:
    runs = c.get("matrix", {}).get(CEILING, [])
    header = ["Concurrency", "Ceiling payments/s", "p50 ms", "p99 ms", "Server CPU ms/payment"]
    header += ["Tessera payments/s", "Tessera p99 ms", "Tessera CPU ms/payment", "Share", "Other CPU"]
    lines = ["", f"### {title} ({c['workers']} worker{'s' if c['workers'] > 1 else ''})", ""]
    lines += ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    lines += ["| " + " | ".join(_row(run, _at(tessera, run["concurrency"]))) + " |" for run in runs]
    stored = c.get("stored") or {}
    lines += [
        "",
        f"Commits: {c.get('commits', '-')}. Stored after the runs: {stored.get('payments', 0):,} payments "
        f"({stored.get('completed', 0):,} completed), {stored.get('operations_succeeded', 0):,} succeeded "
        f"operations, {stored.get('events', 0):,} events.",
    ]
    last = runs[-1] if runs else None
    mine = _at(tessera, last["concurrency"]) if last else None
    if last and mine and last.get("database_cpu_ms_per_success") and mine.get("database_cpu_ms_per_success"):
        lines += [
            "",
            f"PostgreSQL's own CPU per payment at c={last['concurrency']}: ceiling "
            f"{last['database_cpu_ms_per_success']:.2f} ms, Tessera {mine['database_cpu_ms_per_success']:.2f} ms.",
        ]
    b = c.get("pgbench")
    if b:
        lines += [
            "",
            f"`pgbench` on the same cluster (TPC-B-like, scale {b['scale']}, `{b['argv']}`): **{b['tps']:,.0f} "
            f"tps** (5 statements and one commit each), latency average {b['latency_avg_ms']} ms, other CPU "
            f"{b['other_cpu_pct']:.0f}%.",
        ]
    return lines
